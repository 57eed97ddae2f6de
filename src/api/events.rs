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
/// a `lagged` event tells a slow client to reload. A subscriber hears of a change only when its
/// own view of the feature changed; a feature moved above its ceiling arrives as `deleted`;
/// restricted features are audited as they are sent.
#[utoipa::path(get, path = "/events", tag = "Data",
    responses(
        (status = 200, description = "text/event-stream of changes the caller may see"),
        (status = 401, description = "Not signed in", body = super::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn events(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let service = state.service.clone();
    let viewer = caller.viewer;
    service.record_subscription(&viewer).await?;
    let mut rx = service.subscribe();
    let stream = async_stream(move |emit| async move {
        loop {
            match rx.recv().await {
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
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// A stream fed by an async producer through a small channel; `emit` returns false once the
/// client has gone.
fn async_stream<F, Fut>(producer: F) -> impl Stream<Item = Result<Event, Infallible>>
where
    F: FnOnce(
        Box<
            dyn Fn(Event) -> std::pin::Pin<Box<dyn std::future::Future<Output = bool> + Send>>
                + Send
                + Sync,
        >,
    ) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel::<Event>(64);
    let emit = Box::new(move |e: Event| {
        let tx = tx.clone();
        Box::pin(async move { tx.send(e).await.is_ok() })
            as std::pin::Pin<Box<dyn std::future::Future<Output = bool> + Send>>
    });
    tokio::spawn(producer(emit));
    futures_util::stream::unfold(
        rx,
        |mut rx| async move { rx.recv().await.map(|e| (Ok(e), rx)) },
    )
}
