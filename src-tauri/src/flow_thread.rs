//! Flows run for the window on a thread of their own (the card and the network block), with
//! a runtime for the network; their result crosses to the UI as `{code, params}`.

use tessera_core::ErrorPayload;

/// A current-thread runtime for one flow.
pub fn runtime() -> tessera_flows::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| tessera_flows::Error::Input { reason: e.to_string() })
}

/// Run `flow` on a blocking thread; its outcome, or its error's payload.
pub async fn run<T: Send + 'static>(
    flow: impl FnOnce() -> tessera_flows::Result<T> + Send + 'static,
) -> Result<T, ErrorPayload> {
    match tauri::async_runtime::spawn_blocking(flow).await {
        Ok(result) => result.map_err(|e| e.payload()),
        Err(e) => Err(ErrorPayload { code: "unknown".into(), params: [("code".to_owned(), e.to_string())].into() }),
    }
}
