//! The guided deploy, rollback and the host's deploy lock. A deploy's steps stream to
//! `on_event` as they start and end; the run comes back with its record and, if a step
//! stopped it, the error (the record is kept either way).

use shipshape_core::console::{DeployEvent, DeployRequest, DeployResult, RunPlan};
use shipshape_core::deploy::{Approval, DeployReview, LockStatus, Snapshot};
use shipshape_core::history::LastRun;
use shipshape_core::ErrorReport;
use tauri::ipc::Channel;
use tauri::{AppHandle, State};

use crate::{announce, AppState};

/// What a deploy of `target` would change (commits, compose config, env keys, images),
/// found on the host and recorded.
#[tauri::command]
pub async fn review_deploy(
    state: State<'_, AppState>,
    target: String,
) -> Result<DeployReview, ErrorReport> {
    Ok(state.console.review_deploy(&target).await?)
}

/// A reviewer's approval of review `review`, signed with their key `key_name`, for a
/// deploy that runs `migrations` (in order; none for a deploy that runs none).
#[tauri::command]
pub async fn approve_review(
    state: State<'_, AppState>,
    review: String,
    key_name: String,
    reviewer: String,
    migrations: Vec<String>,
) -> Result<Approval, ErrorReport> {
    Ok(state
        .console
        .approve_review(&review, &key_name, &reviewer, &migrations)
        .await?)
}

/// Deploys origin's main to `target`, step by step under the host's lock, as `request`
/// asks: the migrations the operator picked (none is guessed), an approved review the
/// deploy must find unchanged, a deploy cut short whose snapshot to keep, and the commit
/// the screen showed it would bring (if origin moved since, nothing runs).
#[tauri::command]
pub async fn deploy(
    app: AppHandle,
    state: State<'_, AppState>,
    target: String,
    request: DeployRequest,
    on_event: Channel<DeployEvent>,
) -> Result<DeployResult, ErrorReport> {
    let send = |event: DeployEvent| {
        let _ = on_event.send(event);
    };
    let result: DeployResult = state.console.deploy(&target, &request, send).await?.into();
    announce::if_unseen(&app, announce::Ended::of_deploy(&result.record));
    Ok(result)
}

/// What a deploy of `target` will run (its changing commands exactly), shown in its
/// confirmation; `resuming`: it keeps the snapshot of the deploy it resumes.
#[tauri::command]
pub async fn plan_deploy(
    state: State<'_, AppState>,
    target: String,
    migrations: Vec<String>,
    resuming: bool,
) -> Result<RunPlan, ErrorReport> {
    Ok(state.console.plan_deploy(&target, &migrations, resuming)?)
}

/// What a rollback of `target` to deploy `to`'s snapshot (the newest if none) will run.
#[tauri::command]
pub async fn plan_rollback(
    state: State<'_, AppState>,
    target: String,
    to: Option<String>,
) -> Result<RunPlan, ErrorReport> {
    Ok(state.console.plan_rollback(&target, to.as_deref())?)
}

/// Returns `target` to the snapshot of deploy `to` (the newest if none), with the
/// operator's reason; `plan`, the digest of the plan they confirmed.
#[tauri::command]
pub async fn rollback(
    app: AppHandle,
    state: State<'_, AppState>,
    target: String,
    to: Option<String>,
    reason: String,
    plan: Option<String>,
    on_event: Channel<DeployEvent>,
) -> Result<DeployResult, ErrorReport> {
    let send = |event: DeployEvent| {
        let _ = on_event.send(event);
    };
    let result: DeployResult = state
        .console
        .rollback(&target, to.as_deref(), &reason, plan.as_deref(), send)
        .await?
        .into();
    announce::if_unseen(&app, announce::Ended::of_deploy(&result.record));
    Ok(result)
}

/// Stops the deploy or rollback running on `target` once its current step ends.
#[tauri::command]
pub fn stop_deploy(state: State<'_, AppState>, target: String) -> Result<(), ErrorReport> {
    Ok(state.console.stop_deploy(&target)?)
}

/// The snapshots a rollback of `target` can return to, newest first.
#[tauri::command]
pub fn deploy_snapshots(
    state: State<'_, AppState>,
    target: String,
) -> Result<Vec<Snapshot>, ErrorReport> {
    Ok(state.console.deploy_snapshots(&target)?)
}

/// `target`'s newest deploy or rollback that may have changed its host, and the deploy a
/// Resume would go on with: what the screen warns of and offers.
#[tauri::command]
pub fn last_run(
    state: State<'_, AppState>,
    target: String,
) -> Result<Option<LastRun>, ErrorReport> {
    Ok(state.console.last_run(&target)?)
}

/// Whether `target`'s host is locked for a deploy, and by whom.
#[tauri::command]
pub async fn lock_status(
    state: State<'_, AppState>,
    target: String,
) -> Result<LockStatus, ErrorReport> {
    Ok(state.console.lock_status(&target).await?)
}

/// Breaks the host's deploy lock deliberately, with a reason recorded here and there.
#[tauri::command]
pub async fn release_lock(
    state: State<'_, AppState>,
    target: String,
    reason: String,
) -> Result<LockStatus, ErrorReport> {
    Ok(state.console.break_lock(&target, &reason).await?)
}
