//! `petory-api [serve]` runs the API; `petory-api migrate` applies migrations and exits;
//! `petory-api openapi` prints the OpenAPI document.

use clap::{Parser, Subcommand};
use petory_api::app::AppState;
use petory_api::config::{
    ApiConfig, ShutdownSettings, log_format_from_env, migrate_on_start_from_env,
};
use petory_api::{router, server, telemetry};
use petory_core::db::DatabaseSettings;

/// glibc's malloc took a quarter of the API's CPU under load; with mimalloc the same requests
/// are served 18–41 % faster (docs/benchmarks.md, "The allocator").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(name = "petory-api", version, about = "Petory REST API")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply pending migrations (unless `--no-migrate` or `PETORY_MIGRATE=false`), then serve
    /// (the default).
    Serve {
        /// Serve without migrating: a separate step (`petory-api migrate`) applies them.
        #[arg(long)]
        no_migrate: bool,
    },
    /// Apply pending migrations and exit.
    Migrate,
    /// Print the OpenAPI document.
    Openapi,
    /// Create an administrator (or promote an existing account), reading the password from
    /// standard input.
    CreateAdmin {
        #[arg(long)]
        email: String,
        /// Read the password from standard input (first line).
        #[arg(long, required = true)]
        password_stdin: bool,
        #[arg(long, default_value = "Administrator")]
        name: String,
    },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli.command.unwrap_or(Command::Serve { no_migrate: false })).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            // One clear line, e.g. `PETORY_BIND="x" is invalid: invalid socket address syntax`.
            tracing::error!("{error:#}");
            eprintln!("petory-api: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    if let Command::Openapi = command {
        let document = router::openapi().to_pretty_json()?;
        #[allow(clippy::print_stdout)]
        {
            println!("{document}");
        }
        return Ok(());
    }
    let _traces = telemetry::init_logging(log_format_from_env()?)?;
    // Migrating and creating an administrator need the database alone (a migration job has
    // no business with payment keys).
    let database = DatabaseSettings::from_env()?;
    // Serving reads every setting first: a bad one stops start-up before anything changes.
    let config = match command {
        Command::Serve { .. } | Command::Openapi => Some(ApiConfig::from_env()?),
        Command::Migrate | Command::CreateAdmin { .. } => None,
    };
    let shutdown = ShutdownSettings::from_env()?;
    let migrate = match command {
        Command::Serve { no_migrate } => !no_migrate && migrate_on_start_from_env()?,
        _ => true,
    };
    if migrate {
        let applied = petory_core::db::run_migrations(&database.url).await?;
        tracing::info!(count = applied.len(), ?applied, "migrations applied");
    } else {
        tracing::info!("migrations left to `petory-api migrate`");
    }
    let config = match (command, config) {
        (Command::CreateAdmin { email, name, .. }, _) => {
            return create_admin(&database, &email, &name).await;
        }
        (_, Some(config)) => config,
        (_, None) => return Ok(()),
    };
    petory_core::identity::password::configure(config.password_hashing);
    let listener = server::listen(config.bind)
        .map_err(|error| anyhow::anyhow!("PETORY_BIND={}: {error}", config.bind))?;
    tracing::info!(address = %config.bind, "petory-api listening");
    let state = AppState::from_config(config)?;
    let limits = state.rate_limits.clone();
    tokio::spawn(async move {
        let mut every_minute = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            every_minute.tick().await;
            limits.forget_idle();
        }
    });
    let chat_rate = state.clone();
    tokio::spawn(async move {
        let mut every_minute = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            every_minute.tick().await;
            chat_rate.chat_rate.forget_idle();
        }
    });
    // The place rankings live in Redis: build them if it has none (a new or emptied Redis).
    let ranking = state.clone();
    tokio::spawn(async move {
        let rebuilt = match ranking.db().await {
            Ok(mut conn) => {
                petory_core::place::ranking::rebuild_if_missing(
                    &mut conn,
                    ranking.place_ranking.as_ref(),
                    ranking.clock.now(),
                )
                .await
            }
            Err(error) => {
                tracing::warn!(code = %error.code(), "place rankings not checked at start");
                return;
            }
        };
        match rebuilt {
            Ok(true) => tracing::info!("place rankings rebuilt from the database"),
            Ok(false) => {}
            Err(error) => tracing::warn!(%error, "place rankings not checked at start"),
        }
    });
    // Load the places' points now rather than in the first nearest-first search.
    if let Some(index) = state.place_index.clone() {
        let loading = state.clone();
        tokio::spawn(async move {
            let loaded = match loading.db().await {
                Ok(mut conn) => index
                    .refresh(&mut conn)
                    .await
                    .map_err(|error| error.to_string()),
                Err(error) => Err(error.code().as_str().to_owned()),
            };
            match loaded {
                Ok(true) => tracing::info!(places = index.len(), "place index loaded"),
                // A search got there first and is loading it.
                Ok(false) => {}
                Err(error) => tracing::warn!(%error, "place index not loaded at start"),
            }
        });
    }
    server::serve_until_stopped(
        listener,
        state,
        shutdown,
        petory_core::process::shutdown_signal(),
    )
    .await?;
    Ok(())
}

async fn create_admin(database: &DatabaseSettings, email: &str, name: &str) -> anyhow::Result<()> {
    use petory_core::identity::{account, rules};
    let mut password = String::new();
    std::io::stdin().read_line(&mut password)?;
    let password = password.trim_end_matches(['\r', '\n']).to_owned();
    rules::check_password(&password).map_err(|reason| anyhow::anyhow!("password {reason}"))?;
    let pool = petory_core::db::pool(&database.url, &database.pool);
    let (admin, created) =
        account::ensure_admin(&pool, email, password, name, chrono::Utc::now()).await?;
    #[allow(clippy::print_stdout)]
    {
        println!(
            "{} administrator {} (id {})",
            if created { "created" } else { "promoted" },
            admin.email,
            admin.id
        );
    }
    Ok(())
}
