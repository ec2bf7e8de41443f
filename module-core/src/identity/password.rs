//! Argon2id password hashing with OWASP's parameters (19 MiB, 2 passes, 1 lane), off the async
//! threads because it is deliberately slow.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::OnceLock;
use std::time::Duration;
use tokio::sync::Semaphore;

fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// How much hashing runs at once. Each Argon2 verification holds 19 MiB: unbounded, a burst of
/// logins takes a blocking thread and 19 MiB each and the memory stays with the allocator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashingLimits {
    /// Hashes at once; `0` leaves it unbounded (for comparison in benchmarks only).
    pub concurrency: usize,
    /// How long a hash may wait for its turn before the request is turned away (503).
    pub max_wait: Duration,
}

impl Default for HashingLimits {
    fn default() -> Self {
        Self {
            concurrency: std::thread::available_parallelism().map_or(2, usize::from),
            max_wait: Duration::from_secs(3),
        }
    }
}

/// Too many hashes were waiting: the caller may retry shortly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("password hashing is busy")]
pub struct Busy;

/// The queue hashes wait in.
pub struct Hashing {
    permits: Option<Semaphore>,
    max_wait: Duration,
}

impl Hashing {
    pub fn new(limits: HashingLimits) -> Self {
        Self {
            permits: (limits.concurrency > 0).then(|| Semaphore::new(limits.concurrency)),
            max_wait: limits.max_wait,
        }
    }

    /// Runs `work` on a blocking thread once a permit is free, or gives up after `max_wait`.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Busy> {
        let _permit = match &self.permits {
            Some(permits) => Some(
                tokio::time::timeout(self.max_wait, permits.acquire())
                    .await
                    .map_err(|_| Busy)?
                    .map_err(|_| Busy)?,
            ),
            None => None,
        };
        tokio::task::spawn_blocking(work).await.map_err(|_| Busy)
    }
}

static HASHING: OnceLock<Hashing> = OnceLock::new();

/// Sets the limits once, at start-up (`PETORY_PASSWORD_HASH_CONCURRENCY`,
/// `PETORY_PASSWORD_HASH_MAX_WAIT_MS`); without it the defaults apply.
pub fn configure(limits: HashingLimits) {
    if HASHING.set(Hashing::new(limits)).is_err() {
        tracing::warn!("password hashing limits were already set");
    }
}

fn hashing() -> &'static Hashing {
    HASHING.get_or_init(|| Hashing::new(HashingLimits::default()))
}

pub async fn hash(password: String) -> Result<String, Busy> {
    hashing()
        .run(move || {
            let salt = SaltString::generate(&mut OsRng);
            hasher()
                .hash_password(password.as_bytes(), &salt)
                .map(|hash| hash.to_string())
                .unwrap_or_default()
        })
        .await
}

/// Whether `password` matches the stored hash. With no hash (unknown user, Google-only
/// account) it still spends the same effort, so timing does not reveal which emails exist.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool, Busy> {
    hashing()
        .run(move || {
            let stored = stored.unwrap_or_else(|| DUMMY_HASH.to_owned());
            let Ok(parsed) = PasswordHash::new(&stored) else {
                return false;
            };
            hasher()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
                && stored != DUMMY_HASH
        })
        .await
}

/// The hash of a random password nobody knows, with the production parameters.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Kq7Vx4cG1uWz7dS3p0b9yB8m4JxqZk1vR2aF6tN5eWc";

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_only_its_password() {
        let stored = hash("correct horse 1".into()).await.unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(
            verify("correct horse 1".into(), Some(stored.clone()))
                .await
                .unwrap()
        );
        assert!(!verify("wrong horse 1".into(), Some(stored)).await.unwrap());
        assert!(!verify("anything".into(), None).await.unwrap());
    }

    #[tokio::test]
    async fn hashes_wait_their_turn_and_give_up_after_the_deadline() {
        let hashing = std::sync::Arc::new(Hashing::new(HashingLimits {
            concurrency: 1,
            max_wait: Duration::from_millis(200),
        }));
        let (started, release) = (
            std::sync::Arc::new(tokio::sync::Notify::new()),
            std::sync::Arc::new(std::sync::Barrier::new(2)),
        );
        let busy = {
            let (hashing, started, release) = (hashing.clone(), started.clone(), release.clone());
            tokio::spawn(async move {
                hashing
                    .run(move || {
                        started.notify_one();
                        release.wait();
                    })
                    .await
            })
        };
        started.notified().await;
        // The only permit is taken: the next one waits its 200 ms and is turned away.
        assert_eq!(hashing.run(|| 1).await, Err(Busy));
        release.wait();
        busy.await.unwrap().unwrap();
        assert_eq!(hashing.run(|| 2).await, Ok(2), "free again");
    }
}
