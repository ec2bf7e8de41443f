//! Argon2id password hashing with OWASP's parameters (19 MiB, 2 passes, 1 lane), off the async
//! threads because it is deliberately slow.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

fn hasher() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params())
}

/// How much hashing runs at once. Each Argon2 computation needs 19 MiB: unbounded, a burst of
/// logins takes a blocking thread and 19 MiB each, and the allocator keeps the memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashingLimits {
    /// Hashes at once, each on a worker thread of its own that keeps its 19 MiB for the next
    /// one; `0` hashes on tokio's blocking threads without a bound (for benchmarks only).
    pub concurrency: usize,
    /// How long a hash may wait for a free worker before the request is turned away (503).
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

type Work = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

/// A queued job's state: the worker starts it only if its caller has not given up on it.
const QUEUED: u8 = 0;
const STARTED: u8 = 1;
const ABANDONED: u8 = 2;

struct Job {
    state: Arc<AtomicU8>,
    work: Work,
}

/// The queue hashes wait in, and the workers that take them in turn.
pub struct Hashing {
    queue: Option<std::sync::mpsc::Sender<Job>>,
    max_wait: Duration,
}

impl Hashing {
    pub fn new(limits: HashingLimits) -> Self {
        if limits.concurrency == 0 {
            return Self {
                queue: None,
                max_wait: limits.max_wait,
            };
        }
        let (sender, receiver) = std::sync::mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for n in 0..limits.concurrency {
            let receiver = receiver.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("password-hash-{n}"))
                .spawn(move || {
                    // One Argon2 memory area per worker, reused by every hash it computes.
                    let mut memory = Vec::new();
                    loop {
                        let next = receiver.lock().map_or(None, |queue| queue.recv().ok());
                        let Some(job) = next else { return };
                        // A job whose caller gave up (and answered `Busy`) is skipped.
                        if job
                            .state
                            .compare_exchange(QUEUED, STARTED, Ordering::AcqRel, Ordering::Acquire)
                            .is_ok()
                        {
                            (job.work)(&mut memory);
                        }
                    }
                });
            if let Err(error) = spawned {
                tracing::error!(%error, "a password hashing worker did not start");
            }
        }
        Self {
            queue: Some(sender),
            max_wait: limits.max_wait,
        }
    }

    /// Runs `work` with a worker's memory once a worker is free, or answers `Busy` after
    /// `max_wait` in the queue.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T, Busy> {
        let Some(queue) = &self.queue else {
            return tokio::task::spawn_blocking(move || work(&mut Vec::new()))
                .await
                .map_err(|_| Busy);
        };
        let (reply, answer) = tokio::sync::oneshot::channel();
        let state = Arc::new(AtomicU8::new(QUEUED));
        queue
            .send(Job {
                state: state.clone(),
                work: Box::new(move |memory| {
                    let _ = reply.send(work(memory));
                }),
            })
            .map_err(|_| Busy)?;
        let mut answer = std::pin::pin!(answer);
        match tokio::time::timeout(self.max_wait, &mut answer).await {
            Ok(done) => done.map_err(|_| Busy),
            // Not started in time: give up, unless a worker took it just now.
            Err(_) => {
                match state.compare_exchange(QUEUED, ABANDONED, Ordering::AcqRel, Ordering::Acquire)
                {
                    Ok(_) => Err(Busy),
                    Err(_) => answer.await.map_err(|_| Busy),
                }
            }
        }
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

/// Argon2 into `memory` (grown to what `params` needs, then kept).
fn compute(
    argon2: &Argon2<'_>,
    params: &Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
    memory: &mut Vec<Block>,
) -> argon2::Result<()> {
    let blocks = params.block_count();
    if memory.len() != blocks {
        memory.clear();
        memory.resize(blocks, Block::default());
    }
    argon2.hash_password_into_with_memory(password, salt, out, &mut memory[..])
}

pub async fn hash(password: String) -> Result<String, Busy> {
    hashing()
        .run(move |memory| {
            let params = params();
            let salt = SaltString::generate(&mut OsRng);
            let mut salt_buffer = [0_u8; 64];
            let hashed = (|| -> Option<String> {
                let salt_bytes = salt.as_salt().decode_b64(&mut salt_buffer).ok()?;
                let mut out = [0_u8; Params::DEFAULT_OUTPUT_LEN];
                compute(
                    &hasher(),
                    &params,
                    password.as_bytes(),
                    salt_bytes,
                    &mut out,
                    memory,
                )
                .ok()?;
                let phc = PasswordHash {
                    algorithm: Algorithm::Argon2id.ident(),
                    version: Some(Version::V0x13.into()),
                    params: ParamsString::try_from(&params).ok()?,
                    salt: Some(salt.as_salt()),
                    hash: Some(Output::new(&out).ok()?),
                };
                Some(phc.to_string())
            })();
            hashed.unwrap_or_default()
        })
        .await
}

/// Whether `password` matches the stored hash. With no hash (unknown user, Google-only
/// account) it still spends the same effort, so timing does not reveal which emails exist.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool, Busy> {
    hashing()
        .run(move |memory| {
            let known = stored.is_some();
            let stored = stored.unwrap_or_else(|| DUMMY_HASH.to_owned());
            let matches = (|| -> Option<bool> {
                let parsed = PasswordHash::new(&stored).ok()?;
                let algorithm = Algorithm::try_from(parsed.algorithm).ok()?;
                let version = parsed
                    .version
                    .map_or(Some(Version::V0x13), |v| Version::try_from(v).ok())?;
                let params = Params::try_from(&parsed).ok()?;
                let expected = parsed.hash?;
                let mut salt_buffer = [0_u8; 64];
                let salt = parsed.salt?.decode_b64(&mut salt_buffer).ok()?;
                let mut out = vec![0_u8; expected.len()];
                let argon2 = Argon2::new(algorithm, version, params.clone());
                compute(
                    &argon2,
                    &params,
                    password.as_bytes(),
                    salt,
                    &mut out,
                    memory,
                )
                .ok()?;
                // `Output` compares in constant time.
                Some(Output::new(&out).ok()? == expected)
            })();
            matches.unwrap_or(false) && known
        })
        .await
}

fn params() -> Params {
    Params::new(19 * 1024, 2, 1, None).unwrap_or_default()
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
    async fn hashes_made_by_the_library_itself_still_verify() {
        use argon2::password_hash::PasswordHasher as _;
        let salt = SaltString::generate(&mut OsRng);
        let stored = hasher()
            .hash_password(b"correct horse 1", &salt)
            .unwrap()
            .to_string();
        assert!(
            verify("correct horse 1".into(), Some(stored.clone()))
                .await
                .unwrap()
        );
        assert!(!verify("wrong horse 1".into(), Some(stored)).await.unwrap());
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
                    .run(move |_| {
                        started.notify_one();
                        release.wait();
                    })
                    .await
            })
        };
        started.notified().await;
        // The only permit is taken: the next one waits its 200 ms and is turned away.
        assert_eq!(hashing.run(|_| 1).await, Err(Busy));
        release.wait();
        busy.await.unwrap().unwrap();
        assert_eq!(hashing.run(|_| 2).await, Ok(2), "free again");
    }
}
