#!/usr/bin/env python3
"""The smoke walk of scripts/deploy-check, through two API pods (standard library only).

Usage: smoke.py API_A API_B KAKAOPAY_SANDBOX PSQL_URL ADMIN_EMAIL ADMIN_PASSWORD
       smoke.py --stop API EMAIL PASSWORD   (while the pod is stopped: a chat socket's close
                                             code and what readiness answered)
Signs two members up (one on each pod), sends a chat message on pod A's socket and reads it
on pod B's, pays an order through the KakaoPay sandbox (started on A, approved on B), and
leaves a subscription due for billing. Prints one line per step and, last, a JSON line with
what deploy-check checks after the billing tick.
"""

import base64
import json
import os
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

PASSWORD = "smoke-walk-password-1"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def call(method, url, token=None, body=None, expect=(200, 201)):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    if body is not None:
        request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", f"Bearer {token}")
    try:
        response = OPENER.open(request, timeout=15)
        status, headers, raw = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, headers, raw = error.code, error.headers, error.read()
    if status not in expect:
        sys.exit(f"smoke: {method} {url} answered {status}: {raw[:500]!r}")
    payload = json.loads(raw) if raw and headers.get("content-type", "").startswith("application/json") else None
    return status, headers, payload


def step(text):
    print(f"  ok  {text}", flush=True)


BATCH_CONTAINERS = ("petory-batch-a-batch", "petory-batch-b-batch")


def verification_token(email):
    """The token of the verification link mailed to `email`: the batch pods' relay sends mail
    to files under /tmp/petory-mail (PETORY_MAIL_URL), read here with `podman cp`."""
    import email as email_parser
    import re
    import shutil
    import tempfile
    deadline = time.time() + 30
    while time.time() < deadline:
        for container in BATCH_CONTAINERS:
            target = tempfile.mkdtemp(prefix="petory-smoke-mail-")
            try:
                copied = subprocess.run(["podman", "cp", f"{container}:/tmp/petory-mail", target],
                                        capture_output=True)
                if copied.returncode != 0:
                    continue
                for root, _, files in os.walk(target):
                    for name in files:
                        message = email_parser.message_from_bytes(open(os.path.join(root, name), "rb").read())
                        if email not in message.get("To", ""):
                            continue
                        for part in message.walk():
                            body = part.get_payload(decode=True)
                            found = body and re.search(rb"verify-email\?token=([A-Za-z0-9_\-]+)", body)
                            if found:
                                return found.group(1).decode()
            finally:
                shutil.rmtree(target, ignore_errors=True)
        time.sleep(0.5)
    sys.exit(f"smoke: no verification mail reached {email} within 30 s")


def member(api, email):
    """Signs up, follows the mailed verification link, logs in: a member who takes part."""
    call("POST", f"{api}/api/v1/auth/signup", body={"email": email, "password": PASSWORD, "name": "Smoke"},
         expect=(202,))
    token = verification_token(email)
    call("GET", f"{api}/api/v1/auth/verify-email?token={token}", expect=(200, 204, 302, 303))
    _, _, tokens = call("POST", f"{api}/api/v1/auth/login", body={"email": email, "password": PASSWORD})
    return tokens["access_token"]


class Closed(Exception):
    """The server closed the socket: its close code and reason."""


class ChatSocket:
    """Just enough RFC 6455 for JSON text frames (client frames masked, pings answered)."""

    def __init__(self, api, token):
        host, port = urllib.parse.urlsplit(api).netloc.split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=15)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (f"GET /api/v1/chat/ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
             f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
             f"Authorization: Bearer {token}\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                sys.exit("smoke: chat socket closed during the handshake")
            head += chunk
        if b" 101 " not in head.split(b"\r\n")[0]:
            sys.exit(f"smoke: chat socket refused: {head!r}")

    def _read(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                sys.exit("smoke: chat socket closed")
            data += chunk
        return data

    def _send(self, opcode, payload):
        mask = os.urandom(4)
        header = bytes([0x80 | opcode])
        if len(payload) < 126:
            header += bytes([0x80 | len(payload)])
        else:
            header += bytes([0x80 | 126]) + struct.pack(">H", len(payload))
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def send(self, frame):
        self._send(0x1, json.dumps(frame).encode())

    def next(self):
        while True:
            first, second = self._read(2)
            length = second & 0x7F
            if length == 126:
                length = struct.unpack(">H", self._read(2))[0]
            elif length == 127:
                length = struct.unpack(">Q", self._read(8))[0]
            payload = self._read(length)
            opcode = first & 0x0F
            if opcode == 0x9:
                self._send(0xA, payload)
            elif opcode == 0x8:
                code = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else None
                raise Closed(code, payload[2:].decode(errors="replace"))
            elif opcode == 0x1:
                return json.loads(payload)

    def next_of(self, kind):
        while True:
            frame = self.next()
            if frame.get("type") == kind:
                return frame


def psql(sql):
    done = subprocess.run(["psql", PSQL_URL, "-tAq", "-v", "ON_ERROR_STOP=1", "-c", sql], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"smoke: psql: {done.stderr.strip()}")
    return done.stdout.strip()


def watch_stop(api, email, password):
    """Holds a chat socket while the pod stops; prints readiness's answer and the close code."""
    _, _, tokens = call("POST", f"{api}/api/v1/auth/login", body={"email": email, "password": password})
    sock = ChatSocket(api, tokens["access_token"])
    print("  chat socket open on the pod being stopped", flush=True)
    started = time.time()
    readiness = None
    try:
        while True:
            frame = sock.next()  # pings are answered; no message is expected
            del frame
    except Closed as closed:
        code, reason = closed.args
    # Readiness had to fail before the socket was closed (the delay comes first).
    try:
        urllib.request.urlopen(f"{api}/health/ready", timeout=2)
        readiness = 200
    except urllib.error.HTTPError as error:
        readiness = error.code
    except OSError:
        readiness = "refused"
    print(f"  chat socket closed with {code} ({reason}) {time.time() - started:.1f} s after it opened; "
          f"readiness then: {readiness}", flush=True)
    if code != 1001:
        sys.exit("smoke: the stopping pod did not close its socket with 1001 going away")


def main():
    global API_A, API_B, SANDBOX, PSQL_URL
    if sys.argv[1] == "--stop":
        watch_stop(*sys.argv[2:5])
        return
    API_A, API_B, SANDBOX, PSQL_URL, admin_email, admin_password = sys.argv[1:7]
    run = uuid.uuid4().hex[:8]
    # Sign-up, on each pod.
    seller = member(API_A, f"seller-{run}@smoke.test")
    buyer = member(API_B, f"buyer-{run}@smoke.test")
    step("sign-up of two members, one on each API pod, each verified by the link the batch pods mailed")

    # Chat: the buyer's socket on pod A, the seller's on pod B.
    _, _, listing = call("POST", f"{API_A}/api/v1/trade-boards", seller,
                         {"category": "GOODS", "title": "Stroller", "content": "barely used",
                          "price": 30000, "region": "Mapo-gu"})
    _, _, room = call("POST", f"{API_A}/api/v1/chat/rooms", buyer, {"listing_id": listing["id"]})
    on_a = ChatSocket(API_A, buyer)
    on_b = ChatSocket(API_B, seller)
    client_id = str(uuid.uuid4())
    on_a.send({"type": "send", "room_id": room["id"], "client_id": client_id, "text": "still there?"})
    ack = on_a.next_of("ack")
    assert ack["client_id"] == client_id, ack
    heard = on_b.next_of("message")
    assert heard["text"] == "still there?" and heard["room_id"] == room["id"], heard
    step(f"chat message sent on pod A's socket arrived on pod B's (room {room['id']})")

    # The shop: an admin's item, an order paid through the sandbox.
    _, _, tokens = call("POST", f"{API_A}/api/v1/auth/login", body={"email": admin_email, "password": admin_password})
    admin = tokens["access_token"]
    _, _, category = call("POST", f"{API_A}/api/v1/admin/categories", admin, {"name": f"Dogs {run}"})
    _, _, item = call("POST", f"{API_A}/api/v1/admin/items", admin,
                      {"category_id": category["id"], "name": "Omega-3", "price": 20000, "discount_rate": 10, "stock": 10})
    call("PUT", f"{API_B}/api/v1/users/me/profile", buyer,
         {"phone": "010-1234-5678", "address": {"recipient": "Bori", "phone": "010-1234-5678",
                                                 "zip_code": "06236", "address1": "Teheran-ro 1"}})
    _, _, addresses = call("GET", f"{API_B}/api/v1/users/me/addresses", buyer)
    address = addresses["items"][0]["id"]
    body = {"items": [{"item_id": item["id"], "quantity": 1, "subscription_period_days": 30}], "address_id": address}
    _, _, order = call("POST", f"{API_A}/api/v1/orders", buyer, body)
    _, _, started = call("POST", f"{API_A}/api/v1/orders/{order['id']}/payment", buyer, {})
    # The browser at the sandbox (auto-approving), sent back to our API: on the other pod.
    _, headers, _ = call("GET", started["redirect_url"], expect=(302, 303))
    approve = urllib.parse.urlsplit(headers["location"])
    call("GET", f"{API_B}{approve.path}?{approve.query}")
    _, _, paid = call("GET", f"{API_A}/api/v1/orders/{order['id']}", buyer)
    assert paid["status"] == "PAID", paid
    step(f"order {order['id']} paid through the KakaoPay sandbox (ready on A, approved on B): {paid['status']}")

    _, _, mine = call("GET", f"{API_B}/api/v1/subscriptions", buyer)
    subscription = next(s for s in mine["items"] if s["first_order_id"] == order["id"])
    # Due now: the whole schedule moved one period back, as if paid a period ago.
    psql("UPDATE subscriptions SET anchor_date = anchor_date - period_days,"
         " last_cycle_date = last_cycle_date - period_days,"
         f" next_billing_date = next_billing_date - period_days WHERE id = {subscription['id']}")
    step(f"subscription {subscription['id']} made due for the billing tick")
    print(json.dumps({"subscription": subscription["id"], "order": order["id"]}), flush=True)


if __name__ == "__main__":
    main()
