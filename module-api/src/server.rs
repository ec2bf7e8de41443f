//! Serving the router with graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;

use axum::Router;
use tokio::net::TcpListener;

/// Connections the kernel may hold for us before we accept them (it caps this at
/// `net.core.somaxconn`): tokio's default of 1,024 makes a burst of thousands of new clients
/// wait out SYN retries of a second or more.
const BACKLOG: u32 = 4096;

/// Listens on `address` with room for a burst of new connections.
pub fn listen(address: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = match address {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(address)?;
    socket.listen(BACKLOG)
}

/// Serves until `shutdown` completes, then lets in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Serves until `stop` completes, then stops as `settings` say: readiness fails at once while
/// requests are still served for `settings.delay` (load balancers take this instance out),
/// then chat sockets are told "going away", notification streams end, new connections are
/// refused, and requests still running `settings.timeout` later are cut. Returns when nothing
/// is left or at that deadline.
pub async fn serve_until_stopped(
    listener: TcpListener,
    state: crate::app::AppState,
    settings: crate::config::ShutdownSettings,
    stop: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stopped, mut stopped_seen) = tokio::sync::watch::channel(false);
    let stopping = state.clone();
    let serving = serve(listener, crate::router::build(state.clone()), async move {
        stop.await;
        stopping.begin_draining();
        tracing::info!(delay = ?settings.delay, "stopping: readiness off, still serving");
        tokio::time::sleep(settings.delay).await;
        tracing::info!(timeout = ?settings.timeout, "stopping: closing live connections");
        stopping.begin_shutdown();
        stopped.send_replace(true);
    });
    let deadline = tokio::time::sleep(settings.timeout);
    let cut = async move {
        let _ = stopped_seen.wait_for(|stopped| *stopped).await;
        deadline.await;
    };
    let started = tokio::time::Instant::now();
    tokio::select! {
        served = serving => served?,
        () = cut => {
            tracing::warn!("stopping: requests still running at the deadline are cut");
            return Ok(());
        }
    }
    // Upgraded chat sockets are not the server's to wait for: let their close frames go out,
    // within what is left of the deadline.
    let left = settings.timeout.saturating_sub(started.elapsed());
    let deadline = tokio::time::Instant::now() + left.min(std::time::Duration::from_secs(5));
    while state.chat.open_sockets() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    tracing::info!("stopped");
    Ok(())
}
