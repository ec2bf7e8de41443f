//! One Redis pub/sub subscription kept alive for the life of the process.

use std::time::Duration;

use futures_util::StreamExt as _;
use tokio::sync::watch;

/// What a subscription hears.
pub(crate) enum Heard {
    /// (Re)subscribed: anything published while away is unknown to this process.
    Subscribed,
    Message(String),
}

/// Subscribes to `channel`, reconnecting with backoff whenever Redis goes away, and passes
/// what it hears to `on`; `live` tells whether the subscription stands right now.
pub(crate) async fn subscribe_forever(
    client: redis::Client,
    channel: String,
    live: &watch::Sender<bool>,
    mut on: impl FnMut(Heard) + Send,
) {
    let mut backoff = Duration::from_millis(100);
    loop {
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => match pubsub.subscribe(&channel).await {
                Ok(()) => {
                    backoff = Duration::from_millis(100);
                    live.send_replace(true);
                    on(Heard::Subscribed);
                    let mut messages = pubsub.into_on_message();
                    while let Some(message) = messages.next().await {
                        on(Heard::Message(message.get_payload().unwrap_or_default()));
                    }
                    live.send_replace(false);
                    tracing::warn!(%channel, "pub/sub channel closed; resubscribing");
                }
                Err(error) => tracing::warn!(%error, %channel, "cannot subscribe"),
            },
            Err(error) => tracing::warn!(%error, %channel, "cannot connect to Redis for pub/sub"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

/// Waits (at most `patience`) until the subscription stands; `false` if it does not yet.
pub(crate) async fn wait_live(live: &watch::Sender<bool>, patience: Duration) -> bool {
    let mut live = live.subscribe();
    tokio::time::timeout(patience, live.wait_for(|live| *live))
        .await
        .is_ok()
}
