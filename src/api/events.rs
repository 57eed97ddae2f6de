//! `/events`: committed changes as server-sent events, each filtered through the caller's
//! grant exactly like a read (coarse roles get coarse features; nothing above the ceiling).

use std::convert::Infallible;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use time::OffsetDateTime;
use tokio::sync::broadcast::error::RecvError;

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;

/// A stream of `upserted` and `deleted` events, data `{"layer": …, "feature": <GeoJSON Feature>}`;
/// a `lagged` event tells a slow client to reload, and a `resync` event tells every client to
/// (the server read its whole picture again: changes may have been made that no event named). A subscriber hears of a change only when its
/// own view of the feature changed; a feature moved above its ceiling arrives as `deleted`;
/// restricted features are audited as they are sent.
#[utoipa::path(get, path = "/events", tag = "Data",
    responses(
        (status = 200, description = "text/event-stream of changes the caller may see"),
        (status = 401, description = "Not signed in", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many open event streams for this account, or in all", body = super::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn events(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let service = state.service.clone();
    let viewer = caller.viewer;
    // Streams hold a connection each for as long as they last: a few per account, a share of
    // the connection limit in all, and each ends after a while (the browser reconnects).
    let total = (state.config.max_connections / 2).max(1);
    let slot = state.streams.open(&viewer.user, total).ok_or_else(|| {
        ApiError::new(
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            "too-many-streams",
            "Too many event streams",
            format!(
                "at most {MAX_STREAMS_PER_ACCOUNT} event streams per account and {total} in all may be open; close one first"
            ),
        )
    })?;
    service.record_subscription(&viewer).await?;
    let mut rx = service.subscribe();
    let mut resyncs = service.subscribe_resyncs();
    resyncs.mark_unchanged();
    let stream = async_stream(move |emit, mut gone| async move {
        let end = tokio::time::sleep(STREAM_LIFETIME);
        tokio::pin!(end);
        loop {
            let next = tokio::select! {
                () = &mut end => break,
                () = &mut gone => break,
                r = resyncs.changed() => {
                    // The picture was read again whole: what changed is unknown.
                    if r.is_err() || !emit(Event::default().event("resync").data("{}")).await {
                        break;
                    }
                    continue;
                }
                n = rx.recv() => n,
            };
            match next {
                Ok(change) => {
                    let Some((kind, shown)) = service.view_change(&viewer, &change) else {
                        continue;
                    };
                    let layer = change.feature().layer();
                    // Restricted features handed out exactly are audited like a read, before
                    // they leave; if the record cannot be stored, the event is not sent.
                    if service.record_event(&viewer, kind, &shown).await.is_err() {
                        continue;
                    }
                    let Ok(feature) = shown.to_value(OffsetDateTime::now_utc().date()) else {
                        continue;
                    };
                    let data = serde_json::json!({"layer": layer.as_str(), "feature": feature});
                    if !emit(Event::default().event(kind).data(data.to_string())).await {
                        break;
                    }
                    // A new shooting or explosion raises a near-repeat zone: announced once, when
                    // it is reported, made from the same view of the incident.
                    if matches!(change, crate::service::Change::Upserted(_))
                        && let Some(zone) = service.zone_of(
                            &shown,
                            &crate::service::near_repeat::ZoneRule::default(),
                            service.clock().now(),
                        )
                    {
                        let data = super::analysis::zone_feature(&zone);
                        if !emit(
                            Event::default()
                                .event("near_repeat_zone")
                                .data(data.to_string()),
                        )
                        .await
                        {
                            break;
                        }
                    }
                }
                Err(RecvError::Lagged(_)) => {
                    if !emit(Event::default().event("lagged").data("{}")).await {
                        break;
                    }
                }
                Err(RecvError::Closed) => break,
            }
        }
    });
    // The slot is held by the response body: it is freed as soon as the connection goes.
    let stream = futures_util::StreamExt::map(stream, move |e| {
        let _held = &slot;
        e
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// Open event streams per account.
pub const MAX_STREAMS_PER_ACCOUNT: usize = 4;
/// How long one event stream lasts before the server ends it (clients reconnect).
pub const STREAM_LIFETIME: std::time::Duration = std::time::Duration::from_secs(3600);

/// The open event streams of one server, per account and in all.
#[derive(Debug, Default)]
pub struct Streams(std::sync::Mutex<(usize, std::collections::BTreeMap<String, usize>)>);

/// One open stream; it is counted until dropped.
struct Slot(std::sync::Arc<Streams>, String);

impl Streams {
    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, (usize, std::collections::BTreeMap<String, usize>)> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn open(self: &std::sync::Arc<Self>, user: &str, total: usize) -> Option<Slot> {
        let mut g = self.lock();
        let mine = g.1.get(user).copied().unwrap_or(0);
        if mine >= MAX_STREAMS_PER_ACCOUNT || g.0 >= total {
            return None;
        }
        g.0 += 1;
        g.1.insert(user.to_owned(), mine + 1);
        Some(Slot(std::sync::Arc::clone(self), user.to_owned()))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut g = self.0.lock();
        g.0 = g.0.saturating_sub(1);
        if let Some(n) = g.1.get_mut(&self.1) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                g.1.remove(&self.1);
            }
        }
    }
}

/// A stream fed by an async producer through a small channel; `emit` returns false once the
/// client has gone, and `gone` completes then.
fn async_stream<F, Fut>(producer: F) -> impl Stream<Item = Result<Event, Infallible>>
where
    F: FnOnce(
        Box<
            dyn Fn(Event) -> std::pin::Pin<Box<dyn std::future::Future<Output = bool> + Send>>
                + Send
                + Sync,
        >,
        std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>,
    ) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel::<Event>(64);
    // Completes when the client has gone (the response body, and with it the receiver, was
    // dropped), so the producer ends at once instead of at its next event.
    let watcher = tx.clone();
    let gone: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> =
        Box::pin(async move { watcher.closed().await });
    let emit = Box::new(move |e: Event| {
        let tx = tx.clone();
        Box::pin(async move { tx.send(e).await.is_ok() })
            as std::pin::Pin<Box<dyn std::future::Future<Output = bool> + Send>>
    });
    tokio::spawn(producer(emit, gone));
    futures_util::stream::unfold(
        rx,
        |mut rx| async move { rx.recv().await.map(|e| (Ok(e), rx)) },
    )
}
