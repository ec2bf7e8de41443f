//! PostgreSQL access: the pool type every service takes, embedded migrations, and the
//! error type that separates "database unavailable" from "query failed".

use std::time::Duration;

use diesel::Connection as _;
use diesel_async::AsyncPgConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::bb8::{Pool, PooledConnection, RunError};
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::config::{self, ConfigError};

pub type DbPool = Pool<AsyncPgConnection>;
pub type DbConn<'a> = PooledConnection<'a, AsyncPgConnection>;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Failure to reach the database or to run a statement. Domain errors wrap this; the API maps
/// `Unavailable` to 503 and `Query` to a logged 500.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
}

impl From<RunError> for DbError {
    fn from(error: RunError) -> Self {
        match error {
            RunError::User(source) => Self::Unavailable(source.to_string()),
            RunError::TimedOut => Self::Unavailable("timed out waiting for a connection".into()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_size: u32,
    pub connection_timeout: Duration,
    /// Whether PostgreSQL may split a query over parallel workers. Off for request serving:
    /// starting workers costs milliseconds, more than a request's query, and a range bounded
    /// by a subquery (unknown when planned) looks big enough to tempt the planner.
    pub parallel_query: bool,
    /// The URL names a PgBouncer in transaction mode (`PETORY_DB_PGBOUNCER`): statements run
    /// unnamed (no prepared statement outlives its round trip, see `vendor/diesel-async`) and
    /// no session setting is made, since the next statement may run on another server
    /// connection.
    pub pgbouncer: bool,
}

#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    pub url: String,
    pub pool: PoolSettings,
}

impl DatabaseSettings {
    pub const DEFAULT_URL: &str = "postgres://postgres:postgres@127.0.0.1:5432/petory";

    /// `DATABASE_URL`, `PETORY_DB_POOL_SIZE` and `PETORY_DB_PGBOUNCER`.
    pub fn from_env() -> Result<Self, ConfigError> {
        let url = config::var_or("DATABASE_URL", Self::DEFAULT_URL)?;
        config::ensure(
            "DATABASE_URL",
            &url,
            url.starts_with("postgres://") || url.starts_with("postgresql://"),
            "must be a postgres:// URL",
        )?;
        let max_size = config::parsed_or("PETORY_DB_POOL_SIZE", 10_u32)?;
        config::ensure(
            "PETORY_DB_POOL_SIZE",
            max_size,
            max_size >= 1,
            "must be at least 1",
        )?;
        Ok(Self {
            url,
            pool: PoolSettings {
                max_size,
                pgbouncer: config::parsed_or("PETORY_DB_PGBOUNCER", false)?,
                ..PoolSettings::default()
            },
        })
    }
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_size: 10,
            connection_timeout: Duration::from_secs(5),
            parallel_query: true,
            pgbouncer: false,
        }
    }
}

/// Builds the pool without connecting, so a process can start (and report "not ready") while
/// the database is still coming up.
pub fn pool(database_url: &str, settings: &PoolSettings) -> DbPool {
    let mut config = ManagerConfig::default();
    if settings.pgbouncer {
        // A session setting would stay behind on whichever server connection it ran on: the
        // parallel-query choice is PgBouncer's `connect_query` there (docs/deploy.md).
        config.custom_setup =
            Box::new(|url| Box::pin(AsyncPgConnection::establish_with(url, true)));
    } else if !settings.parallel_query {
        config.custom_setup = Box::new(|url| {
            Box::pin(async move {
                use diesel_async::{AsyncConnection as _, SimpleAsyncConnection as _};
                let mut conn = AsyncPgConnection::establish(url).await?;
                conn.batch_execute("SET max_parallel_workers_per_gather = 0")
                    .await
                    .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                Ok(conn)
            })
        });
    }
    let manager =
        AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(database_url, config);
    Pool::builder()
        .max_size(settings.max_size)
        .connection_timeout(settings.connection_timeout)
        .test_on_check_out(false)
        .build_unchecked(manager)
}

/// Applies pending migrations and returns the versions it applied. Runs on a blocking thread:
/// diesel's migration harness is synchronous.
pub async fn run_migrations(database_url: &str) -> Result<Vec<String>, MigrationError> {
    let url = database_url.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(&url)
            .map_err(|error| MigrationError(error.to_string()))?;
        let applied = conn
            .run_pending_migrations(MIGRATIONS)
            .map_err(|error| MigrationError(error.to_string()))?;
        Ok(applied.iter().map(ToString::to_string).collect())
    })
    .await
    .map_err(|error| MigrationError(error.to_string()))?
}

#[derive(Debug, thiserror::Error)]
#[error("migration failed: {0}")]
pub struct MigrationError(String);

/// A cheap round trip used by readiness checks.
pub async fn ping(pool: &DbPool) -> Result<(), DbError> {
    use diesel_async::SimpleAsyncConnection as _;
    let mut conn = pool.get().await?;
    conn.batch_execute("SELECT 1").await?;
    Ok(())
}

/// Whether `error` is a violation of the named constraint, e.g. a unique index turned into a
/// domain error ("email taken") instead of a 500.
pub fn violates(
    error: &diesel::result::Error,
    kind: diesel::result::DatabaseErrorKind,
    constraint: &str,
) -> bool {
    matches!(error, diesel::result::Error::DatabaseError(found, info)
        if std::mem::discriminant(found) == std::mem::discriminant(&kind) && info.constraint_name() == Some(constraint))
}

diesel::define_sql_function! {
    /// `COALESCE` of a possibly missing id (a scalar subquery's) and a fallback.
    #[sql_name = "coalesce"]
    fn id_or(id: diesel::sql_types::Nullable<diesel::sql_types::BigInt>, otherwise: diesel::sql_types::BigInt) -> diesel::sql_types::BigInt;
}

/// An `ILIKE` pattern matching `text` anywhere, with the user's `%`, `_` and `\` taken literally.
pub fn contains_pattern(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// A hand-written query that each connection prepares once, as diesel's own queries are:
/// `diesel::sql_query` is parsed and planned by PostgreSQL on every run, which costs more than
/// running a short query. `$1`, `$2`, … in the SQL are the fields in their order (a bind may
/// appear more than once); rows load with `QueryableByName`. The SQL must not contain `$`
/// otherwise.
///
/// ```
/// petory_core::prepared_query! {
///     /// The name of a user.
///     pub struct UserName = "SELECT name FROM users WHERE id = $1";
///     id: diesel::sql_types::BigInt = i64,
/// }
/// let _query = UserName { id: 7 };
/// ```
#[macro_export]
macro_rules! prepared_query {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident = $sql:expr;
        $( $field:ident : $sql_type:ty = $rust:ty ),+ $(,)?
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $( pub $field: $rust ),+
        }

        impl $name {
            /// Binds the `index`th field (from 1).
            fn push_bind<'b>(
                &'b self,
                index: usize,
                out: &mut diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
            ) -> diesel::QueryResult<()> {
                let mut field = 0_usize;
                $(
                    field += 1;
                    if index == field {
                        return out.push_bind_param::<$sql_type, $rust>(&self.$field);
                    }
                )+
                Err(diesel::result::Error::QueryBuilderError(
                    format!("{}: no bind ${index}", stringify!($name)).into(),
                ))
            }
        }

        impl diesel::query_builder::QueryId for $name {
            type QueryId = Self;
            const HAS_STATIC_QUERY_ID: bool = true;
        }

        impl diesel::query_builder::Query for $name {
            type SqlType = diesel::sql_types::Untyped;
        }

        impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for $name {
            fn walk_ast<'b>(
                &'b self,
                mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
            ) -> diesel::QueryResult<()> {
                let mut rest: &str = $sql;
                while let Some(dollar) = rest.find('$') {
                    out.push_sql(&rest[..dollar]);
                    let digits = rest[dollar + 1..]
                        .find(|c: char| !c.is_ascii_digit())
                        .map_or(rest.len() - dollar - 1, |end| end);
                    let index = rest[dollar + 1..dollar + 1 + digits]
                        .parse::<usize>()
                        .unwrap_or(0);
                    self.push_bind(index, &mut out)?;
                    rest = &rest[dollar + 1 + digits..];
                }
                out.push_sql(rest);
                Ok(())
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::contains_pattern;

    #[test]
    fn like_patterns_take_wildcards_literally() {
        assert_eq!(contains_pattern("bori"), "%bori%");
        assert_eq!(contains_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }
}
