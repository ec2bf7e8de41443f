//! Web Push: a member's devices (one browser push subscription each) and the pushes the relay
//! queues for them. A subscription belongs to the session that made it: that session's logout,
//! and the account's closing, remove it. Sending is [`delivery`]'s, from the queue, never in a
//! request.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};

use crate::db::DbError;
use crate::schema::{push_subscriptions, users};
use crate::types::UserId;

pub mod delivery;
pub mod message;

crate::id_type! {
    /// A device's push subscription (`push_subscriptions.id`).
    pub struct PushSubscriptionId;
}

/// Devices one member may have subscribed at once.
pub const MAX_SUBSCRIPTIONS: i64 = 10;
/// The longest endpoint URL taken (push services' are well under 1,000 characters).
pub const MAX_ENDPOINT_LENGTH: usize = 2048;
/// The longest `user_agent` label kept.
pub const MAX_USER_AGENT_LENGTH: usize = 300;

/// Which endpoints the server may be pointed at: `https` URLs of known push services only, so
/// a subscription can never make the server call an internal address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointRules {
    /// Hosts allowed; `*.example.com` allows every subdomain of `example.com`.
    pub allowed_hosts: Vec<String>,
    /// `http://127.0.0.1:PORT/…` too: the local fake push service (`PETORY_DEV_MODE` only).
    pub allow_local_http: bool,
}

impl EndpointRules {
    /// The push services of Chrome and Android (FCM), Firefox (Mozilla autopush), Safari
    /// (Apple) and Edge (WNS).
    pub const DEFAULT_HOSTS: [&'static str; 4] = [
        "fcm.googleapis.com",
        "updates.push.services.mozilla.com",
        "web.push.apple.com",
        "*.notify.windows.com",
    ];

    /// `PETORY_PUSH_ALLOWED_HOSTS` (comma-separated; the known push services when unset);
    /// local `http` endpoints only under `PETORY_DEV_MODE`.
    pub fn from_env() -> Result<Self, crate::config::ConfigError> {
        let allowed_hosts = match crate::config::var("PETORY_PUSH_ALLOWED_HOSTS")? {
            Some(list) => list
                .split(',')
                .map(|host| host.trim().to_ascii_lowercase())
                .filter(|host| !host.is_empty())
                .collect(),
            None => Self::DEFAULT_HOSTS.map(str::to_owned).to_vec(),
        };
        Ok(Self {
            allowed_hosts,
            allow_local_http: crate::config::dev_mode()?,
        })
    }

    /// Why `endpoint` is refused, if it is.
    pub fn check(&self, endpoint: &str) -> Result<(), PushError> {
        let refuse = |reason: &str| {
            Err(PushError::EndpointNotAllowed {
                reason: reason.to_owned(),
            })
        };
        if endpoint.len() > MAX_ENDPOINT_LENGTH {
            return refuse("the endpoint is longer than 2048 characters");
        }
        let Ok(url) = url::Url::parse(endpoint) else {
            return refuse("the endpoint is not a URL");
        };
        if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
            return refuse("the endpoint must not carry credentials or a fragment");
        }
        let host = match url.host() {
            Some(url::Host::Domain(host)) => host.to_ascii_lowercase(),
            Some(url::Host::Ipv4(ip)) if self.allow_local_http && ip.is_loopback() => {
                return if url.scheme() == "http" || url.scheme() == "https" {
                    Ok(())
                } else {
                    refuse("the endpoint must be an https URL")
                };
            }
            _ => return refuse("the endpoint's host must be a push service's name"),
        };
        if url.scheme() != "https" {
            return refuse("the endpoint must be an https URL");
        }
        if url.port().is_some_and(|port| port != 443) {
            return refuse("the endpoint must use the https port");
        }
        let allowed = self
            .allowed_hosts
            .iter()
            .any(|allowed| match allowed.strip_prefix("*.") {
                Some(parent) => host
                    .strip_suffix(parent)
                    .is_some_and(|sub| sub.len() > 1 && sub.ends_with('.')),
                None => host == *allowed,
            });
        if !allowed {
            return refuse("the endpoint's host is not a known push service");
        }
        Ok(())
    }
}

/// What a browser's `PushSubscription.toJSON()` gives, and a label for the device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSubscription {
    pub endpoint: String,
    /// The browser's P-256 public key, base64url (65 bytes, uncompressed).
    pub p256dh: String,
    /// The browser's auth secret, base64url (16 bytes).
    pub auth: String,
    pub user_agent: Option<String>,
}

/// A device that receives pushes.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = push_subscriptions)]
pub struct Subscription {
    pub id: PushSubscriptionId,
    pub endpoint: String,
    pub user_agent: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("no such push subscription")]
    NotFound,
    #[error("{reason}")]
    EndpointNotAllowed { reason: String },
    #[error("`keys.{field}` {reason}")]
    InvalidKeys {
        field: &'static str,
        reason: &'static str,
    },
    #[error("at most {max} devices receive pushes; remove one first")]
    TooManySubscriptions { max: i64 },
    #[error(transparent)]
    Database(#[from] DbError),
}

impl From<diesel::result::Error> for PushError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Database(DbError::Query(error))
    }
}

/// A base64url key (padding and the standard alphabet tolerated), in its canonical unpadded
/// base64url form, if it decodes to `bytes` bytes.
fn canonical_key(
    text: &str,
    field: &'static str,
    bytes: usize,
) -> Result<(String, Vec<u8>), PushError> {
    let trimmed = text
        .trim_end_matches('=')
        .replace('+', "-")
        .replace('/', "_");
    let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&trimmed)
        .map_err(|_| PushError::InvalidKeys {
            field,
            reason: "is not base64url",
        })?;
    if decoded.len() != bytes {
        return Err(PushError::InvalidKeys {
            field,
            reason: if bytes == 65 {
                "must be a 65-byte uncompressed P-256 public key"
            } else {
                "must be a 16-byte secret"
            },
        });
    }
    Ok((
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&decoded),
        decoded,
    ))
}

/// Subscribes a device of `user`, made by the session `session_id`. Idempotent by endpoint:
/// the same endpoint again updates its keys and label (and moves it to `user` if another
/// member had it: one browser, whoever subscribed it last). Returns the subscription and
/// whether it is new to `user`.
pub async fn subscribe(
    conn: &mut AsyncPgConnection,
    user: UserId,
    session_id: &str,
    new: NewSubscription,
    rules: &EndpointRules,
    now: DateTime<Utc>,
) -> Result<(Subscription, bool), PushError> {
    rules.check(&new.endpoint)?;
    let (p256dh, point) = canonical_key(&new.p256dh, "p256dh", 65)?;
    if p256::PublicKey::from_sec1_bytes(&point).is_err() {
        return Err(PushError::InvalidKeys {
            field: "p256dh",
            reason: "is not a point on the P-256 curve",
        });
    }
    let (auth, _) = canonical_key(&new.auth, "auth", 16)?;
    let user_agent = new.user_agent.map(|agent| {
        agent
            .chars()
            .take(MAX_USER_AGENT_LENGTH)
            .collect::<String>()
    });
    conn.transaction(async |conn| {
        // One subscribe of a member at a time, so the limit holds under races.
        users::table
            .find(user)
            .select(users::id)
            .for_no_key_update()
            .first::<UserId>(conn)
            .await?;
        let holder: Option<UserId> = push_subscriptions::table
            .filter(push_subscriptions::endpoint.eq(&new.endpoint))
            .select(push_subscriptions::user_id)
            .for_update()
            .first(conn)
            .await
            .optional()?;
        let created = holder != Some(user);
        if created {
            let mine: i64 = push_subscriptions::table
                .filter(push_subscriptions::user_id.eq(user))
                .count()
                .get_result(conn)
                .await?;
            if mine >= MAX_SUBSCRIPTIONS {
                return Err(PushError::TooManySubscriptions {
                    max: MAX_SUBSCRIPTIONS,
                });
            }
        }
        let subscription = diesel::insert_into(push_subscriptions::table)
            .values((
                push_subscriptions::user_id.eq(user),
                push_subscriptions::endpoint.eq(&new.endpoint),
                push_subscriptions::p256dh.eq(&p256dh),
                push_subscriptions::auth.eq(&auth),
                push_subscriptions::user_agent.eq(&user_agent),
                push_subscriptions::session_id.eq(session_id),
                push_subscriptions::created_at.eq(now),
                push_subscriptions::updated_at.eq(now),
            ))
            .on_conflict(push_subscriptions::endpoint)
            .do_update()
            .set((
                push_subscriptions::user_id.eq(user),
                push_subscriptions::p256dh.eq(&p256dh),
                push_subscriptions::auth.eq(&auth),
                push_subscriptions::user_agent.eq(&user_agent),
                push_subscriptions::session_id.eq(session_id),
                push_subscriptions::updated_at.eq(now),
            ))
            .returning(Subscription::as_returning())
            .get_result(conn)
            .await?;
        Ok((subscription, created))
    })
    .await
}

/// `user`'s devices, oldest first.
pub async fn list(
    conn: &mut AsyncPgConnection,
    user: UserId,
) -> Result<Vec<Subscription>, PushError> {
    Ok(push_subscriptions::table
        .filter(push_subscriptions::user_id.eq(user))
        .order(push_subscriptions::id)
        .select(Subscription::as_select())
        .load(conn)
        .await?)
}

/// Removes one of `user`'s devices (and the pushes waiting for it).
pub async fn unsubscribe(
    conn: &mut AsyncPgConnection,
    user: UserId,
    id: PushSubscriptionId,
) -> Result<(), PushError> {
    let deleted = diesel::delete(
        push_subscriptions::table
            .filter(push_subscriptions::id.eq(id))
            .filter(push_subscriptions::user_id.eq(user)),
    )
    .execute(conn)
    .await?;
    if deleted == 0 {
        return Err(PushError::NotFound);
    }
    Ok(())
}

/// Removes the devices the session `session_id` subscribed: it logged out.
pub async fn end_session(
    conn: &mut AsyncPgConnection,
    user: UserId,
    session_id: &str,
) -> Result<usize, DbError> {
    Ok(diesel::delete(
        push_subscriptions::table
            .filter(push_subscriptions::user_id.eq(user))
            .filter(push_subscriptions::session_id.eq(session_id)),
    )
    .execute(conn)
    .await?)
}

/// When an account closes, its devices stop receiving pushes: notification's part of
/// [`AccountClosing`](crate::identity::closing::AccountClosing).
pub struct EndPushSubscriptions;

#[async_trait::async_trait]
impl crate::identity::closing::AccountClosing for EndPushSubscriptions {
    async fn account_closed(
        &self,
        conn: &mut AsyncPgConnection,
        user: UserId,
        _now: DateTime<Utc>,
    ) -> Result<(), DbError> {
        diesel::delete(push_subscriptions::table.filter(push_subscriptions::user_id.eq(user)))
            .execute(conn)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(allow_local_http: bool) -> EndpointRules {
        EndpointRules {
            allowed_hosts: EndpointRules::DEFAULT_HOSTS.map(str::to_owned).to_vec(),
            allow_local_http,
        }
    }

    #[test]
    fn only_https_urls_of_push_services_are_taken() {
        let production = rules(false);
        for good in [
            "https://fcm.googleapis.com/fcm/send/abc:def",
            "https://updates.push.services.mozilla.com/wpush/v2/gAAA",
            "https://db5p.notify.windows.com/w/?token=BQYAAA",
        ] {
            assert!(production.check(good).is_ok(), "{good}");
        }
        for bad in [
            "http://fcm.googleapis.com/fcm/send/abc",
            "https://fcm.googleapis.com:8443/fcm/send/abc",
            "https://evil.example/fcm.googleapis.com",
            "https://fcm.googleapis.com.evil.example/x",
            "https://user@fcm.googleapis.com/x",
            "https://notify.windows.com/w",
            "https://169.254.169.254/latest",
            "http://127.0.0.1:9200/push/x",
            "not a url",
        ] {
            assert!(production.check(bad).is_err(), "{bad}");
        }
        assert!(rules(true).check("http://127.0.0.1:9200/push/x").is_ok());
        assert!(rules(true).check("http://10.0.0.1:9200/push/x").is_err());
    }
}
