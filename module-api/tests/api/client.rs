//! The API as its clients use it: a guest or a signed-in member sends a request and reads the
//! answer as a typed struct, the way a generated client would. Tests build members with
//! [`TestApp::member`] and [`TestApp::admin`] and speak through [`Client`].

use reqwest::Method;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::util::{PASSWORD, TestApp};

/// The HTTP connection a client speaks through.
#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::Client,
    base_url: String,
}

/// Someone without an account.
#[derive(Debug, Clone)]
pub struct Guest {
    http: Http,
}

/// A signed-up member with a verified address, logged in.
#[derive(Debug, Clone)]
pub struct Member {
    pub id: i64,
    pub email: String,
    /// The access token of this login.
    pub token: String,
    http: Http,
}

/// A page of a keyset-paged list.
#[derive(Debug, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// Requests as a guest or a member: the `*` methods expect success and read the body as `T`
/// (`()` for an empty one); [`Client::request`] hands back the raw response for the rest.
#[allow(async_fn_in_trait)]
pub trait Client {
    fn http(&self) -> &Http;

    /// The bearer token sent with every request, if any.
    fn token(&self) -> Option<&str>;

    async fn request(&self, method: Method, path: &str, body: Option<Value>) -> reqwest::Response {
        let http = self.http();
        let mut request = http
            .client
            .request(method, format!("{}{path}", http.base_url));
        if let Some(token) = self.token() {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("request")
    }

    /// A request that must succeed: its body as `T`.
    async fn ok<T: DeserializeOwned>(&self, method: Method, path: &str, body: Option<Value>) -> T {
        let response = self.request(method.clone(), path, body).await;
        let status = response.status();
        let text = response.text().await.expect("body");
        assert!(status.is_success(), "{method} {path}: {status} {text}");
        let text = if text.is_empty() { "null" } else { &text };
        serde_json::from_str(text)
            .unwrap_or_else(|error| panic!("{method} {path}: {error}: {text}"))
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> T {
        self.ok(Method::GET, path, None).await
    }

    async fn post<T: DeserializeOwned>(&self, path: &str, body: Value) -> T {
        self.ok(Method::POST, path, Some(body)).await
    }

    async fn put<T: DeserializeOwned>(&self, path: &str, body: Value) -> T {
        self.ok(Method::PUT, path, Some(body)).await
    }

    async fn patch<T: DeserializeOwned>(&self, path: &str, body: Value) -> T {
        self.ok(Method::PATCH, path, Some(body)).await
    }

    /// A `DELETE` that must succeed: its body as `T` (`()` for none).
    async fn delete<T: DeserializeOwned>(&self, path: &str) -> T {
        self.ok(Method::DELETE, path, None).await
    }
}

impl Client for Guest {
    fn http(&self) -> &Http {
        &self.http
    }

    fn token(&self) -> Option<&str> {
        None
    }
}

impl Client for Member {
    fn http(&self) -> &Http {
        &self.http
    }

    fn token(&self) -> Option<&str> {
        Some(&self.token)
    }
}

impl Member {
    /// The same account after a new login (once the test clock passed its access token's life).
    pub async fn logged_in_again(self, app: &TestApp) -> Self {
        let (token, _) = app.login(&self.email, PASSWORD).await;
        Self { token, ..self }
    }
}

impl TestApp {
    fn http(&self) -> Http {
        Http {
            client: self.client.clone(),
            base_url: self.base_url.clone(),
        }
    }

    pub fn guest(&self) -> Guest {
        Guest { http: self.http() }
    }

    /// A new member who followed the mailed verification link, logged in.
    pub async fn member(&self, email: &str) -> Member {
        let (id, token) = self.user(email).await;
        self.member_of(id, email, token)
    }

    /// A new member who has not followed the mailed link yet, logged in: reads, but takes no
    /// part.
    pub async fn unverified_member(&self, email: &str) -> Member {
        let (id, token) = self.unverified_user(email).await;
        self.member_of(id, email, token)
    }

    /// The administrator (created on first use), logged in.
    pub async fn admin(&self) -> Member {
        let token = self.admin_token().await;
        let email = "admin@petory.test";
        let id = self.user_id(email).await;
        self.member_of(id, email, token)
    }

    /// A member for an account a test signed up its own way.
    pub fn member_of(&self, id: i64, email: &str, token: String) -> Member {
        Member {
            id,
            email: email.to_owned(),
            token,
            http: self.http(),
        }
    }
}
