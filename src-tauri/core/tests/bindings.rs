//! The UI's TypeScript types are generated from the core's Rust types and committed.
//! This test fails when the committed file is stale; `SHIPSHAPE_BLESS=1` rewrites it.

use shipshape_core::checklist::{Actor, CheckGroup, CheckId, CheckItem, CheckStatus, Checklist};
use shipshape_core::checklist::{Evidence, ImageDigest, ItemChange, PolicyUsed, ReportTarget};
use shipshape_core::compose::{RunState, ServiceState};
use shipshape_core::console::IncomingReview;
use shipshape_core::console::ReportExport;
use shipshape_core::console::{DeployEvent, DeployRequest, DeployResult, PlannedStep, RunPlan};
use shipshape_core::console::{EnvKeys, EnvSaved};
use shipshape_core::console::{HostCheck, PinnedKey, RouteHost};
use shipshape_core::console::{HostTrust, KeyFile, LiveStatus, OperationOutcome, PlannedOperation};
use shipshape_core::console::{LogEvent, LogFollowStarted};
use shipshape_core::deploy::compose_diff::{DiffKind, DiffRow};
use shipshape_core::deploy::review::{ComposeChange, EnvKeyChanges, ImageChange};
use shipshape_core::deploy::{Approval, DeployReview};
use shipshape_core::deploy::{DeployKind, DeployOutcome, DeployRecord, LockHolder, LockStatus};
use shipshape_core::deploy::{ServiceImage, Snapshot, StepId, StepRecord, StepStatus};
use shipshape_core::env_file::EnvKey;
use shipshape_core::history::{HistoryRecord, LastRun, RecordKind, ResumeAttempt, RunOutcome};
use shipshape_core::journal::{BrokenEntry, ChainReport};
use shipshape_core::keys::KeyInfo;
use shipshape_core::operations::StatusReport;
use shipshape_core::operations::{ChangedFile, IncomingCommit};
use shipshape_core::operations::{Compose, Operation};
use shipshape_core::report::{ReportFormat, Signer};
use shipshape_core::ssh::{CommandOutput, HostKeyOffer};
use shipshape_core::ssh_config::ResolvedHost;
use shipshape_core::target::{Environment, JumpHost, Target};
use shipshape_core::{ErrorCode, ErrorReport, TargetSummary};
use ts_rs::{Config, TS};

const HEADER: &str =
    "// Generated from shipshape-core's Rust types by src-tauri/core/tests/bindings.rs.\n\
// Do not edit. After changing those types run:\n\
//   SHIPSHAPE_BLESS=1 cargo test -p shipshape-core --test bindings\n";

fn render() -> String {
    let cfg = Config::new().with_large_int("number");
    let declarations = [
        ErrorCode::decl(&cfg),
        ErrorReport::decl(&cfg),
        Environment::decl(&cfg),
        JumpHost::decl(&cfg),
        Target::decl(&cfg),
        TargetSummary::decl(&cfg),
        RunState::decl(&cfg),
        ServiceState::decl(&cfg),
        StatusReport::decl(&cfg),
        CommandOutput::decl(&cfg),
        HostKeyOffer::decl(&cfg),
        RouteHost::decl(&cfg),
        HostTrust::decl(&cfg),
        PinnedKey::decl(&cfg),
        HostCheck::decl(&cfg),
        KeyInfo::decl(&cfg),
        KeyFile::decl(&cfg),
        ResolvedHost::decl(&cfg),
        Operation::decl(&cfg),
        Compose::decl(&cfg),
        PlannedOperation::decl(&cfg),
        OperationOutcome::decl(&cfg),
        HistoryRecord::decl(&cfg),
        LastRun::decl(&cfg),
        ResumeAttempt::decl(&cfg),
        RunOutcome::decl(&cfg),
        RecordKind::decl(&cfg),
        CheckId::decl(&cfg),
        CheckGroup::decl(&cfg),
        CheckStatus::decl(&cfg),
        Evidence::decl(&cfg),
        Actor::decl(&cfg),
        CheckItem::decl(&cfg),
        ReportTarget::decl(&cfg),
        ImageDigest::decl(&cfg),
        PolicyUsed::decl(&cfg),
        Checklist::decl(&cfg),
        StepId::decl(&cfg),
        StepStatus::decl(&cfg),
        ServiceImage::decl(&cfg),
        Snapshot::decl(&cfg),
        StepRecord::decl(&cfg),
        DeployKind::decl(&cfg),
        DeployOutcome::decl(&cfg),
        DiffKind::decl(&cfg),
        DiffRow::decl(&cfg),
        ComposeChange::decl(&cfg),
        EnvKeyChanges::decl(&cfg),
        ImageChange::decl(&cfg),
        DeployReview::decl(&cfg),
        Approval::decl(&cfg),
        DeployRecord::decl(&cfg),
        DeployEvent::decl(&cfg),
        DeployResult::decl(&cfg),
        DeployRequest::decl(&cfg),
        PlannedStep::decl(&cfg),
        RunPlan::decl(&cfg),
        LockHolder::decl(&cfg),
        LockStatus::decl(&cfg),
        ItemChange::decl(&cfg),
        ChainReport::decl(&cfg),
        BrokenEntry::decl(&cfg),
        ReportFormat::decl(&cfg),
        Signer::decl(&cfg),
        ReportExport::decl(&cfg),
        LiveStatus::decl(&cfg),
        LogEvent::decl(&cfg),
        LogFollowStarted::decl(&cfg),
        IncomingCommit::decl(&cfg),
        ChangedFile::decl(&cfg),
        IncomingReview::decl(&cfg),
        EnvKey::decl(&cfg),
        EnvKeys::decl(&cfg),
        EnvSaved::decl(&cfg),
    ];
    let mut text = String::from(HEADER);
    for declaration in declarations {
        text.push_str("\nexport ");
        text.push_str(&declaration);
        text.push('\n');
    }
    text
}

#[test]
fn typescript_bindings_are_current() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/lib/bindings.ts");
    let fresh = render();
    if std::env::var_os("SHIPSHAPE_BLESS").is_some() {
        std::fs::write(&path, &fresh).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "ui/src/lib/bindings.ts is stale: run SHIPSHAPE_BLESS=1 cargo test -p shipshape-core --test bindings"
    );
}
