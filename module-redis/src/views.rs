//! View counts in Redis: a day-long marker per (subject, viewer, day) and a hash of pending
//! counts, renamed aside (with a batch id) when the batch binary takes them.

use async_trait::async_trait;
use chrono::NaiveDate;
use petory_core::ports::{ViewBatch, ViewCounter, ViewCounterError};
use redis::Script;

use crate::RedisPool;

/// KEYS[1] the viewer's marker, KEYS[2] the pending hash; ARGV[1] the subject, ARGV[2] the
/// marker's lifetime (s). Returns 1 when the view counted.
const RECORD: &str = r"
if redis.call('SET', KEYS[1], 1, 'NX', 'EX', ARGV[2]) then
  redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
  return 1
end
return 0
";

/// KEYS[1] pending, KEYS[2] taking; ARGV[1] a new batch id. The batch being taken, if any
/// (a crashed taker's first), else the pending counts moved aside under the new id.
const TAKE: &str = r"
if redis.call('EXISTS', KEYS[2]) == 0 then
  if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
  redis.call('RENAME', KEYS[1], KEYS[2])
  redis.call('HSET', KEYS[2], '#batch', ARGV[1])
end
return redis.call('HGETALL', KEYS[2])
";

/// KEYS[1] taking; ARGV[1] the batch id: forgets the batch if it is still that one.
const ACK: &str = r"
if redis.call('HGET', KEYS[1], '#batch') == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

const BATCH_FIELD: &str = "#batch";

pub struct RedisViewCounter {
    pool: RedisPool,
    prefix: String,
    record: Script,
    take: Script,
    ack: Script,
}

impl RedisViewCounter {
    pub fn new(pool: RedisPool, prefix: &str) -> Self {
        Self {
            pool,
            prefix: prefix.to_owned(),
            record: Script::new(RECORD),
            take: Script::new(TAKE),
            ack: Script::new(ACK),
        }
    }

    fn pending_key(&self) -> String {
        format!("{}views:pending", self.prefix)
    }

    fn taking_key(&self) -> String {
        format!("{}views:taking", self.prefix)
    }

    async fn conn(
        &self,
    ) -> Result<bb8::PooledConnection<'_, bb8_redis::RedisConnectionManager>, ViewCounterError>
    {
        self.pool
            .get()
            .await
            .map_err(|error| ViewCounterError(error.to_string()))
    }
}

fn failed(error: redis::RedisError) -> ViewCounterError {
    ViewCounterError(error.to_string())
}

#[async_trait]
impl ViewCounter for RedisViewCounter {
    async fn record(
        &self,
        subject: &str,
        viewer: &str,
        day: NaiveDate,
    ) -> Result<bool, ViewCounterError> {
        let mut conn = self.conn().await?;
        let counted: i64 = self
            .record
            .key(format!(
                "{}views:seen:{subject}:{viewer}:{day}",
                self.prefix
            ))
            .key(self.pending_key())
            .arg(subject)
            .arg(2 * 86_400)
            .invoke_async(&mut *conn)
            .await
            .map_err(failed)?;
        Ok(counted == 1)
    }

    async fn pending(&self, subject: &str) -> Result<i64, ViewCounterError> {
        let mut conn = self.conn().await?;
        let (pending, taking): (Option<i64>, Option<i64>) = redis::pipe()
            .hget(self.pending_key(), subject)
            .hget(self.taking_key(), subject)
            .query_async(&mut *conn)
            .await
            .map_err(failed)?;
        Ok(pending.unwrap_or(0) + taking.unwrap_or(0))
    }

    async fn take(&self) -> Result<Option<ViewBatch>, ViewCounterError> {
        let mut conn = self.conn().await?;
        let fields: Vec<(String, String)> = self
            .take
            .key(self.pending_key())
            .key(self.taking_key())
            .arg(uuid::Uuid::now_v7().to_string())
            .invoke_async(&mut *conn)
            .await
            .map_err(failed)?;
        let mut id = None;
        let mut counts = Vec::with_capacity(fields.len());
        for (field, value) in fields {
            if field == BATCH_FIELD {
                id = Some(value);
            } else if let Ok(count) = value.parse::<i64>() {
                counts.push((field, count));
            }
        }
        Ok(id.map(|id| ViewBatch { id, counts }))
    }

    async fn ack(&self, batch: &str) -> Result<(), ViewCounterError> {
        let mut conn = self.conn().await?;
        let _: i64 = self
            .ack
            .key(self.taking_key())
            .arg(batch)
            .invoke_async(&mut *conn)
            .await
            .map_err(failed)?;
        Ok(())
    }
}
