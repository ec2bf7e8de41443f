//! Who is calling: the `AuthUser` and `AdminUser` extractors, and the `Caller` that middleware
//! uses for rate limiting and idempotency scoping.

use crate::error::ProblemCode;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, OptionalFromRequestParts, Request, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use petory_core::identity::token::{self, AccessClaims, TokenError};
use petory_core::identity::{Role, UserId};

use petory_redis::notification::{StreamTickets, TicketHolder};

use crate::app::AppState;
use crate::error::ApiError;

/// An authenticated user: a valid, unexpired, unrevoked access token.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: UserId,
    pub role: Role,
    pub claims: AccessClaims,
}

impl AuthUser {
    /// Who reads community content: admins also see what moderation hid.
    pub fn viewer(&self) -> petory_core::community::Viewer {
        petory_core::community::Viewer {
            user: Some(self.id),
            admin: self.role == Role::Admin,
        }
    }
}

/// An authenticated administrator.
#[derive(Debug, Clone)]
pub struct AdminUser(pub AuthUser);

/// Who opens a live connection (the notification stream, a chat socket), and until when: by a
/// bearer token until it expires, or by a single-use ticket (browsers' `EventSource` and
/// `WebSocket` cannot send headers) for an access token's lifetime. The access token (`jti`)
/// and session (`sid`) behind it end the connection when revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveCaller {
    pub user: UserId,
    pub jti: String,
    pub sid: String,
    /// When the connection ends, in seconds since the epoch.
    pub ends_at: i64,
}

/// How long a ticket may wait to be used.
pub const TICKET_TTL: std::time::Duration = std::time::Duration::from_secs(60);

impl LiveCaller {
    /// The caller by bearer token, else by `ticket` (redeemed from `tickets`, once).
    pub async fn identify(
        state: &AppState,
        user: Option<AuthUser>,
        ticket: Option<&str>,
        tickets: &StreamTickets,
    ) -> Result<Self, ApiError> {
        if let Some(user) = user {
            return Ok(Self {
                user: user.id,
                jti: user.claims.jti,
                sid: user.claims.sid,
                ends_at: user.claims.exp,
            });
        }
        let Some(ticket) = ticket else {
            return Err(ApiError::unauthorized(
                ProblemCode::AuthenticationRequired,
                "this needs a bearer token or a ticket",
            ));
        };
        let holder = tickets
            .redeem(ticket)
            .await
            .map_err(|error| ApiError::auth_unavailable(&error))?
            .ok_or_else(|| {
                ApiError::unauthorized(
                    ProblemCode::InvalidTicket,
                    "the ticket is unknown, used or expired",
                )
            })?;
        let caller = Self {
            user: UserId(holder.user),
            jti: holder.jti,
            sid: holder.sid,
            // The connection lives no longer than the token that bought the ticket.
            ends_at: holder.exp,
        };
        // A ticket bought just before logout (or a suspension) must not open anything.
        let revoked = state
            .sessions
            .is_access_revoked(&caller.jti, &caller.sid)
            .await
            .map_err(|error| ApiError::auth_unavailable(&error))?;
        if revoked || caller.ends_at <= state.clock.now().timestamp() {
            return Err(ApiError::unauthorized(
                ProblemCode::InvalidTicket,
                "the ticket is unknown, used or expired",
            ));
        }
        Ok(caller)
    }

    /// A single-use ticket, valid for [`TICKET_TTL`], for `user`'s session.
    pub async fn ticket(user: &AuthUser, tickets: &StreamTickets) -> Result<String, ApiError> {
        let holder = TicketHolder {
            user: user.id.0,
            jti: user.claims.jti.clone(),
            sid: user.claims.sid.clone(),
            exp: user.claims.exp,
        };
        tickets
            .issue(&holder, TICKET_TTL)
            .await
            .map_err(|error| ApiError::auth_unavailable(&error))
    }

    /// Whether the token or session behind the connection was revoked since; an unreachable
    /// store keeps the connection (the token check on reconnection decides).
    pub async fn revoked(&self, state: &AppState) -> bool {
        state
            .sessions
            .is_access_revoked(&self.jti, &self.sid)
            .await
            .unwrap_or(false)
    }

    /// How long until the connection must end.
    pub fn time_left(&self, state: &AppState) -> std::time::Duration {
        std::time::Duration::from_secs(
            u64::try_from(self.ends_at - state.clock.now().timestamp()).unwrap_or(0),
        )
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

async fn authenticate(token: &str, state: &AppState) -> Result<AuthUser, ApiError> {
    let claims = token::verify_access(&state.tokens, token, state.clock.now()).map_err(
        |error| match error {
            TokenError::Expired => ApiError::unauthorized(
                ProblemCode::TokenExpired,
                "the access token has expired; refresh it",
            ),
            TokenError::Invalid => {
                ApiError::unauthorized(ProblemCode::InvalidToken, "the access token is invalid")
            }
        },
    )?;
    let id = claims.user_id().ok_or_else(|| {
        ApiError::unauthorized(ProblemCode::InvalidToken, "the access token is invalid")
    })?;
    let revoked = state
        .sessions
        .is_access_revoked(&claims.jti, &claims.sid)
        .await
        .map_err(|error| ApiError::auth_unavailable(&error))?;
    if revoked {
        return Err(ApiError::unauthorized(
            ProblemCode::TokenRevoked,
            "this access token was revoked; log in again",
        ));
    }
    Ok(AuthUser {
        id,
        role: claims.role,
        claims,
    })
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts).ok_or_else(|| {
            ApiError::unauthorized(
                ProblemCode::AuthenticationRequired,
                "send `Authorization: Bearer <access token>`",
            )
        })?;
        authenticate(token, state).await
    }
}

/// Public endpoints: no token is a guest; a bad token is still refused.
impl OptionalFromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, Self::Rejection> {
        match bearer(parts) {
            None => Ok(None),
            Some(token) => authenticate(token, state).await.map(Some),
        }
    }
}

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let user =
            <AuthUser as FromRequestParts<AppState>>::from_request_parts(parts, state).await?;
        if user.role != Role::Admin {
            return Err(ApiError::forbidden(
                ProblemCode::AdminOnly,
                "this requires an administrator",
            ));
        }
        Ok(Self(user))
    }
}

/// Who sent a request, as far as can be told cheaply: the user of a well-signed token (not yet
/// checked for revocation, which the extractors do) and the client address.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: Option<UserId>,
    pub ip: Option<IpAddr>,
}

/// The client's address: the peer's, or — when the peer is a trusted proxy — the nearest
/// untrusted address in `X-Forwarded-For`, read right to left as each proxy appends. Each
/// entry is believed only while the hop that appended it is trusted, so the walk stops at the
/// first untrusted address (the client) or at the first entry that is not an address (what
/// lies left of it was never vouched for: the last trusted hop stands for the client).
pub fn client_ip(
    peer: IpAddr,
    headers: &axum::http::HeaderMap,
    trusted: &[ipnet::IpNet],
) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .collect();
    let mut nearest = peer;
    for entry in entries.iter().rev() {
        let Ok(ip) = entry.trim().parse::<IpAddr>() else {
            break;
        };
        if !is_trusted(&ip) {
            return ip;
        }
        nearest = ip;
    }
    nearest
}

pub async fn identify_caller(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    let user = bearer(&parts)
        .and_then(|token| token::verify_access(&state.tokens, token, state.clock.now()).ok())
        .and_then(|claims| claims.user_id());
    let ip = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| client_ip(info.0.ip(), &parts.headers, &state.config.trusted_proxies));
    parts.extensions.insert(Caller { user, ip });
    request = Request::from_parts(parts, body);
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(forwarded: &[&str]) -> axum::http::HeaderMap {
        let mut headers = axum::http::HeaderMap::new();
        for value in forwarded {
            headers.append("x-forwarded-for", value.parse().unwrap());
        }
        headers
    }

    #[test]
    fn forwarded_addresses_count_only_behind_trusted_proxies() {
        let proxies: Vec<ipnet::IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        // A client that is not a proxy cannot claim another address.
        assert_eq!(
            client_ip(ip("203.0.113.9"), &headers(&["1.2.3.4"]), &proxies),
            ip("203.0.113.9")
        );
        // Behind our proxies, the nearest untrusted hop is the client (spoofed left parts ignored).
        assert_eq!(
            client_ip(
                ip("10.0.0.2"),
                &headers(&["1.2.3.4, 198.51.100.7, 10.0.0.5"]),
                &proxies
            ),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_ip(
                ip("10.0.0.2"),
                &headers(&["1.2.3.4", "198.51.100.7"]),
                &proxies
            ),
            ip("198.51.100.7")
        );
        // Only trusted hops: the farthest of them.
        assert_eq!(
            client_ip(ip("10.0.0.2"), &headers(&["10.0.0.7, 10.0.0.5"]), &proxies),
            ip("10.0.0.7")
        );
        // Left of something that is no address, nothing is believed.
        assert_eq!(
            client_ip(
                ip("10.0.0.2"),
                &headers(&["1.2.3.4, garbage, 10.0.0.5"]),
                &proxies
            ),
            ip("10.0.0.5")
        );
        // Nothing usable forwarded: the proxy itself.
        assert_eq!(
            client_ip(ip("10.0.0.2"), &headers(&["garbage"]), &proxies),
            ip("10.0.0.2")
        );
        // No trusted proxies configured: the header is ignored.
        assert_eq!(
            client_ip(ip("10.0.0.2"), &headers(&["1.2.3.4"]), &[]),
            ip("10.0.0.2")
        );
    }
}
