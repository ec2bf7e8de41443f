// A client's story told only through what docs/openapi.json says: two members sign up and verify
// their addresses, an administrator opens a café and a shop, one member finds the café near
// City Hall, posts on the owner board, chats about the other's listing and orders from the shop.
// Statuses and categories are compared by their wire values with the generated types, so a
// document that listed other values would not compile; every answer is checked at run time.
// scripts/client-check generates the types, compiles this with `tsc --strict` and runs it.
import { randomUUID } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import createClient, { type Client, type Middleware } from "openapi-fetch";
import type { paths } from "../generated/petory.js";

const baseUrl = setting("PETORY_BASE_URL");
const mailDir = setting("PETORY_MAIL_DIR");
const CITY_HALL = { lat: 37.5663, lng: 126.9779 };

function setting(name: string): string {
  return process.env[name] ?? fail(`${name} is not set`);
}

function fail(message: string): never {
  throw new Error(message);
}

function expect<T>(what: string, actual: T, expected: NoInfer<T>): void {
  if (actual !== expected) {
    fail(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

function step(text: string): void {
  console.log(`  ok  ${text}`);
}

// Every answer has a status the document lists for its operation, in a content type it declares.
type Document = {
  paths: Record<string, Record<string, { responses: Record<string, { content?: object }> }>>;
};
const document: Document = JSON.parse(readFileSync(setting("PETORY_OPENAPI"), "utf8"));
const contract: Middleware = {
  onResponse({ request, response, schemaPath }) {
    const operation = `${request.method} ${schemaPath}`;
    const documented = document.paths[schemaPath]?.[request.method.toLowerCase()];
    const answer = documented?.responses[String(response.status)];
    if (!answer) fail(`${operation} answered ${response.status}, which the document does not list`);
    const declared = Object.keys(answer.content ?? {});
    const type = response.headers.get("content-type")?.split(";")[0] ?? "none";
    if (declared.length > 0 && !declared.includes(type)) {
      fail(`${operation} answered ${response.status} as ${type}, the document says ${declared}`);
    }
  },
};

function client(token?: string): Client<paths> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const api = createClient<paths>({ baseUrl, headers });
  api.use(contract);
  return api;
}

/** The body of an answer that must have this status. */
async function ok<D>(
  what: string,
  status: number,
  call: Promise<{ data?: D; error?: unknown; response: Response }>,
): Promise<D> {
  const { data, error, response } = await call;
  if (response.status !== status || data === undefined) {
    fail(`${what}: expected ${status}, got ${response.status} ${JSON.stringify(error ?? data)}`);
  }
  return data;
}

/** The token of the verification link mailed to `to` (the batch relays it within seconds). */
async function mailedToken(to: string): Promise<string> {
  for (let attempt = 0; attempt < 150; attempt++) {
    for (const name of readdirSync(mailDir).filter((file) => file.endsWith(".eml"))) {
      const mail = readFileSync(join(mailDir, name), "utf8");
      if (!mail.split(/\r?\n/).some((line) => line.startsWith("To: ") && line.includes(to))) continue;
      const token = /verify-email\?token=([A-Za-z0-9_-]+)/.exec(unfold(mail))?.[1];
      if (token) return token;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return fail(`no verification mail to ${to} in ${mailDir} after 30 s`);
}

/** A mail's text as written: quoted-printable soft line breaks joined, `=3D` back to `=`. */
function unfold(mail: string): string {
  return mail.replace(/=\r?\n/g, "").replace(/=3D/g, "=");
}

type Member = { id: number; api: Client<paths> };

async function member(email: string, name: string): Promise<Member> {
  const guest = client();
  const signedUp = await ok(`sign-up of ${email}`, 202, guest.POST("/api/v1/auth/signup", {
    body: { email, name, password: "correct horse 1" },
  }));
  expect("signed-up address", signedUp.email, email);
  const token = await mailedToken(email);
  const verified = await ok("verifying the mailed link", 200, guest.GET("/api/v1/auth/verify-email", {
    params: { query: { token } },
  }));
  expect("email_verified after the link", verified.email_verified, true);
  const { access_token } = await ok(`login of ${email}`, 200, guest.POST("/api/v1/auth/login", {
    body: { email, password: "correct horse 1" },
  }));
  const api = client(access_token);
  const me = await ok("GET /users/me", 200, api.GET("/api/v1/users/me"));
  expect("account status", me.status, "ACTIVE");
  expect("role", me.role, "USER");
  expect("email_verified", me.email_verified, true);
  step(`${email} signed up, followed the mailed link, logged in: ${me.status}, verified`);
  return { id: me.id, api };
}

async function story(): Promise<void> {
  const bori = await member("bori@example.com", "Bori's human");
  const choco = await member("choco@example.com", "Choco's human");

  const { access_token } = await ok("admin login", 200, client().POST("/api/v1/auth/login", {
    body: { email: setting("PETORY_ADMIN_EMAIL"), password: setting("PETORY_ADMIN_PASSWORD") },
  }));
  const admin = client(access_token);
  expect("the admin's role", (await ok("admin /users/me", 200, admin.GET("/api/v1/users/me"))).role, "ADMIN");
  // About 111 m north of City Hall.
  const cafe = await ok("creating a place", 201, admin.POST("/api/v1/admin/places", {
    body: {
      name: "Bori's Corner Cafe", category: "CAFE", address: "Seoul Jung-gu Sejong-daero 110",
      lat: CITY_HALL.lat + 0.001, lng: CITY_HALL.lng, pet_sizes: ["SMALL", "MEDIUM"],
    },
  }));
  expect("the new place's category", cafe.category, "CAFE");
  step(`the admin logged in and opened place ${cafe.id}, a ${cafe.category}`);

  const near = await ok("places near City Hall", 200, bori.api.GET("/api/v1/places", {
    params: { query: { ...CITY_HALL, radius_m: 500, category: "CAFE" } },
  }));
  const found = near.items.find((place) => place.id === cafe.id) ?? fail("the café is not near City Hall");
  expect("category of the café found", found.category, "CAFE");
  const distance = found.distance_m ?? fail("a search near a point gives each place's distance");
  if (distance < 100 || distance > 125) fail(`the café is ${distance} m from City Hall, not about 111 m`);
  step(`bori found "${found.name}" (${found.category}) ${Math.round(distance)} m from City Hall`);

  const post = await ok("posting on the owner board", 201, bori.api.POST("/api/v1/owner-boards", {
    body: { category: "QUESTION", title: " Is the corner café quiet? ", content: "Bori is shy." },
  }));
  const read = await ok("reading the post", 200, client().GET("/api/v1/owner-boards/{id}", {
    params: { path: { id: post.id } },
  }));
  expect("the post's category", read.category, "QUESTION");
  expect("the post's title (trimmed)", read.title, "Is the corner café quiet?");
  expect("the post's author", read.author_id, bori.id);
  const questions = await ok("listing questions", 200, client().GET("/api/v1/owner-boards", {
    params: { query: { category: "QUESTION" } },
  }));
  if (!questions.items.some((item) => item.id === post.id)) fail("the post is not among the questions");
  step(`bori posted ${post.id} on the owner board and a guest read it back as a ${read.category}`);

  const listing = await ok("creating a listing", 201, choco.api.POST("/api/v1/trade-boards", {
    body: { category: "GOODS", title: "Dog stroller", content: "Barely used", price: 80000, region: "Mapo-gu" },
  }));
  expect("a new listing's status", listing.status, "FOR_SALE");
  const forSale = await ok("listings for sale", 200, bori.api.GET("/api/v1/trade-boards", {
    params: { query: { status: "FOR_SALE", category: "GOODS" } },
  }));
  const seen = forSale.items.find((item) => item.id === listing.id) ?? fail("the stroller is not for sale");
  expect("the listing's status as bori sees it", seen.status, "FOR_SALE");
  step(`choco listed ${listing.id} (${listing.category}), bori sees it ${seen.status}`);

  const room = await ok("opening a chat room", 201, bori.api.POST("/api/v1/chat/rooms", {
    body: { listing_id: listing.id },
  }));
  expect("the room's listing", room.listing.id, listing.id);
  expect("the room's listing status", room.listing.status, "FOR_SALE");
  expect("the other party", room.other_user.id, choco.id);
  const message = await ok("sending a message", 201, bori.api.POST("/api/v1/chat/rooms/{id}/messages", {
    params: { path: { id: room.id } },
    body: { client_id: randomUUID(), text: "Is the stroller still there?" },
  }));
  expect("the first message's number", message.seq, 1);
  expect("the message's sender", message.sender_id, bori.id);
  const rooms = await ok("choco's rooms", 200, choco.api.GET("/api/v1/chat/rooms"));
  const inbox = rooms.items.find((item) => item.id === room.id) ?? fail("choco does not see the room");
  expect("choco's unread messages", inbox.unread_count, 1);
  step(`bori opened room ${room.id} about the stroller and wrote; choco has 1 unread`);

  const category = await ok("creating a shop category", 201, admin.POST("/api/v1/admin/categories", {
    body: { name: "Supplements" },
  }));
  const item = await ok("creating an item", 201, admin.POST("/api/v1/admin/items", {
    body: { category_id: category.id, name: "Omega-3", price: 20000, discount_rate: 10, stock: 10 },
  }));
  step(`the admin stocked item ${item.id} (${item.name}, ${item.stock} in stock)`);

  const order = { items: [{ item_id: item.id, quantity: 2 }] };
  const early = await bori.api.POST("/api/v1/orders", { body: { ...order, address_id: 1 } });
  expect("an order before the profile is complete", early.response.status, 409);
  expect("its problem code", early.error?.code, "PROFILE_INCOMPLETE");
  const profile = await ok("completing the profile", 200, bori.api.PUT("/api/v1/users/me/profile", {
    body: {
      phone: "010-1234-5678",
      address: { recipient: "Bori", phone: "010-1234-5678", zip_code: "06236", address1: "Teheran-ro 1" },
    },
  }));
  expect("profile_complete", profile.profile_complete, true);
  const addresses = await ok("bori's addresses", 200, bori.api.GET("/api/v1/users/me/addresses"));
  const address = addresses.items[0] ?? fail("completing the profile saved no address");
  step(`bori was asked to complete her profile (${early.error?.code}) and did`);

  const placed = await ok("placing an order", 201, bori.api.POST("/api/v1/orders", {
    body: { ...order, address_id: address.id },
  }));
  expect("a new order's status", placed.status, "PENDING_PAYMENT");
  expect("the order's total (2 × 18000)", placed.total, 36000);
  const again = await ok("reading the order", 200, bori.api.GET("/api/v1/orders/{id}", {
    params: { path: { id: placed.id } },
  }));
  expect("the order's status read back", again.status, "PENDING_PAYMENT");
  const stocked = await ok("the item after the order", 200, client().GET("/api/v1/items/{id}", {
    params: { path: { id: item.id } },
  }));
  expect("stock held by the order", stocked.stock, 8);
  step(`bori ordered 2 × ${item.name}: order ${placed.id} is ${again.status}, ${placed.total} won`);
}

try {
  await story();
  console.log("the TypeScript client's story holds against the server");
} catch (error) {
  console.error(`client story failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
