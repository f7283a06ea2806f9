use shipshape_core::console::IncomingReview;
use shipshape_core::ErrorReport;
use tauri::State;

use crate::AppState;

/// Fetches and lists what `git pull origin main` would bring, so the operator reviews
/// the commits and files before pulling. Each command it runs lands in the history.
#[tauri::command]
pub async fn review_incoming(
    state: State<'_, AppState>,
    target: String,
) -> Result<IncomingReview, ErrorReport> {
    Ok(state.console.review_incoming(&target).await?)
}
