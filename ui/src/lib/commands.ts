// Generated from the #[tauri::command] functions in src-tauri/src/commands/ by
// src-tauri/tests/command_list.rs. Do not edit. After changing a command run:
//   SHIPSHAPE_BLESS=1 cargo test -p shipshape-app --test command_list
// Every call rejects with an ErrorReport.
import type {
  Approval,
  ChainReport,
  CheckId,
  CheckItem,
  Checklist,
  DeployEvent,
  DeployRequest,
  DeployResult,
  DeployReview,
  EnvKeys,
  EnvSaved,
  ErrorReport,
  HistoryRecord,
  HostCheck,
  HostKeyOffer,
  HostTrust,
  IncomingReview,
  ItemChange,
  JumpHost,
  KeyFile,
  KeyInfo,
  LastRun,
  LiveStatus,
  LockStatus,
  LogEvent,
  LogFollowStarted,
  Operation,
  OperationOutcome,
  PinnedKey,
  PlannedOperation,
  ReportExport,
  ReportFormat,
  ResolvedHost,
  RunPlan,
  Snapshot,
  StatusReport,
  Target,
  TargetSummary,
} from "./bindings";
import { call, channel } from "./ipc";

// src-tauri/src/commands/checks.rs

/**
 * Runs every check on `target`; each item goes to `onItem` as soon as it is decided.
 * `request` is the UI's name for this run: a repeat of it never runs again, and
 * `cancelOperation` stops it.
 */
export function verify(args: {
  request: string;
  target: string;
  onItem: (message: CheckItem) => void;
}): Promise<Checklist> {
  return call<Checklist>("verify", { ...args, onItem: channel(args.onItem) });
}

/** The newest verification of `target` with every tick and waiver, if there is one. */
export function latestChecklist(args: { target: string }): Promise<Checklist | null> {
  return call<Checklist | null>("latest_checklist", args);
}

/** Ticks, unticks or waives (with a written reason) one item; recorded with who and when. */
export function changeCheck(args: {
  checklist: string;
  item: CheckId;
  change: ItemChange;
}): Promise<Checklist> {
  return call<Checklist>("change_check", args);
}

/** Runs one item's probes again. */
export function rerunCheck(args: { checklist: string; item: CheckId }): Promise<Checklist> {
  return call<Checklist>("rerun_check", args);
}

/** Where a report of `recordId` in `format` goes unless the operator picks another file. */
export function suggestReportPath(args: {
  recordId: string;
  format: ReportFormat;
}): Promise<string> {
  return call<string>("suggest_report_path", args);
}

/**
 * Writes the report (format from the file's extension), signed with the key
 * `signWith` if given, and records the export.
 */
export function exportReport(args: {
  recordId: string;
  path: string;
  signWith: string | null;
}): Promise<ReportExport> {
  return call<ReportExport>("export_report", args);
}

/** Every report exported, with its signature and co-signers. */
export function reportExports(): Promise<ReportExport[]> {
  return call<ReportExport[]>("report_exports");
}

/** Walks the journal's hash chain. */
export function verifyJournal(): Promise<ChainReport> {
  return call<ChainReport>("verify_journal");
}

/**
 * Asks the operator where to save a report, in the system's save dialog opened from
 * here (the window itself is granted no dialog or file-system API). `None` if cancelled.
 */
export function chooseReportPath(args: { suggested: string }): Promise<string | null> {
  return call<string | null>("choose_report_path", args);
}

// src-tauri/src/commands/deploy.rs

/**
 * What a deploy of `target` would change (commits, compose config, env keys, images),
 * found on the host and recorded.
 */
export function reviewDeploy(args: { target: string }): Promise<DeployReview> {
  return call<DeployReview>("review_deploy", args);
}

/**
 * A reviewer's approval of review `review`, signed with their key `keyName`, for a
 * deploy that runs `migrations` (in order; none for a deploy that runs none).
 */
export function approveReview(args: {
  review: string;
  keyName: string;
  reviewer: string;
  migrations: string[];
}): Promise<Approval> {
  return call<Approval>("approve_review", args);
}

/**
 * Deploys origin's main to `target`, step by step under the host's lock, as `request`
 * asks: the migrations the operator picked (none is guessed), an approved review the
 * deploy must find unchanged, a deploy cut short whose snapshot to keep, and the commit
 * the screen showed it would bring (if origin moved since, nothing runs).
 */
export function deploy(args: {
  target: string;
  request: DeployRequest;
  onEvent: (message: DeployEvent) => void;
}): Promise<DeployResult> {
  return call<DeployResult>("deploy", { ...args, onEvent: channel(args.onEvent) });
}

/**
 * What a deploy of `target` will run (its changing commands exactly), shown in its
 * confirmation; `resuming`: it keeps the snapshot of the deploy it resumes.
 */
export function planDeploy(args: {
  target: string;
  migrations: string[];
  resuming: boolean;
}): Promise<RunPlan> {
  return call<RunPlan>("plan_deploy", args);
}

/** What a rollback of `target` to deploy `to`'s snapshot (the newest if none) will run. */
export function planRollback(args: { target: string; to: string | null }): Promise<RunPlan> {
  return call<RunPlan>("plan_rollback", args);
}

/**
 * Returns `target` to the snapshot of deploy `to` (the newest if none), with the
 * operator's reason; `plan`, the digest of the plan they confirmed.
 */
export function rollback(args: {
  target: string;
  to: string | null;
  reason: string;
  plan: string | null;
  onEvent: (message: DeployEvent) => void;
}): Promise<DeployResult> {
  return call<DeployResult>("rollback", { ...args, onEvent: channel(args.onEvent) });
}

/** Stops the deploy or rollback running on `target` once its current step ends. */
export function stopDeploy(args: { target: string }): Promise<null> {
  return call<null>("stop_deploy", args);
}

/** The snapshots a rollback of `target` can return to, newest first. */
export function deploySnapshots(args: { target: string }): Promise<Snapshot[]> {
  return call<Snapshot[]>("deploy_snapshots", args);
}

/**
 * `target`'s newest deploy or rollback that may have changed its host, and the deploy a
 * Resume would go on with: what the screen warns of and offers.
 */
export function lastRun(args: { target: string }): Promise<LastRun | null> {
  return call<LastRun | null>("last_run", args);
}

/** Whether `target`'s host is locked for a deploy, and by whom. */
export function lockStatus(args: { target: string }): Promise<LockStatus> {
  return call<LockStatus>("lock_status", args);
}

/** Breaks the host's deploy lock deliberately, with a reason recorded here and there. */
export function releaseLock(args: { target: string; reason: string }): Promise<LockStatus> {
  return call<LockStatus>("release_lock", args);
}

// src-tauri/src/commands/env_file.rs

/** The env file's keys on `target` (never their values). */
export function envKeys(args: { target: string }): Promise<EnvKeys> {
  return call<EnvKeys>("env_keys", args);
}

/** Sets `key` to `value` in `target`'s env file (atomic on the host, old file backed up). */
export function setEnvKey(args: { target: string; key: string; value: string }): Promise<EnvSaved> {
  return call<EnvSaved>("set_env_key", args);
}

/** Removes `key` from `target`'s env file. */
export function unsetEnvKey(args: { target: string; key: string }): Promise<EnvSaved> {
  return call<EnvSaved>("unset_env_key", args);
}

// src-tauri/src/commands/git_review.rs

/**
 * Fetches and lists what `git pull origin main` would bring, so the operator reviews
 * the commits and files before pulling. Each command it runs lands in the history.
 */
export function reviewIncoming(args: { target: string }): Promise<IncomingReview> {
  return call<IncomingReview>("review_incoming", args);
}

// src-tauri/src/commands/keys.rs

export function listKeys(): Promise<KeyInfo[]> {
  return call<KeyInfo[]>("list_keys");
}

export function keyFiles(): Promise<KeyFile[]> {
  return call<KeyFile[]>("key_files");
}

/**
 * Imports the key file at `path`; the core reads it, so the private key never crosses IPC.
 * The passphrase, typed by the operator, is wrapped at once in a zeroizing `Secret`.
 */
export function importKey(args: {
  name: string;
  path: string;
  passphrase: string | null;
}): Promise<KeyInfo> {
  return call<KeyInfo>("import_key", args);
}

export function generateKey(args: { name: string; comment: string }): Promise<KeyInfo> {
  return call<KeyInfo>("generate_key", args);
}

export function removeKey(args: { name: string }): Promise<null> {
  return call<null>("remove_key", args);
}

// src-tauri/src/commands/live.rs

/**
 * Starts pushing `target`'s service states to `onStatus`; returns the watch's id.
 * `known`: the `checked_at` of the snapshot the window shows, if it has just read one.
 */
export function watchStatus(args: {
  target: string;
  known: string | null;
  onStatus: (message: LiveStatus) => void;
}): Promise<number> {
  return call<number>("watch_status", { ...args, onStatus: channel(args.onStatus) });
}

export function stopWatch(args: { id: number }): Promise<null> {
  return call<null>("stop_watch", args);
}

// src-tauri/src/commands/logs.rs

/**
 * Starts `docker compose --profile aws logs -n LINES [-t] -f SERVICE` on `target`.
 * Lines arrive on `onEvent` in batches, then one `ended`.
 */
export function followLogs(args: {
  target: string;
  service: string;
  lines: number;
  timestamps: boolean;
  onEvent: (message: LogEvent) => void;
}): Promise<LogFollowStarted> {
  return call<LogFollowStarted>("follow_logs", { ...args, onEvent: channel(args.onEvent) });
}

/** The exact command `followLogs` would run with these arguments, without running it. */
export function previewLogFollow(args: {
  target: string;
  service: string;
  lines: number;
  timestamps: boolean;
}): Promise<string> {
  return call<string>("preview_log_follow", args);
}

/** The viewer took a batch of follow `id` and may have the next one. */
export function ackLogBatch(args: { id: number }): Promise<null> {
  return call<null>("ack_log_batch", args);
}

/**
 * Stops a follow; its channel then receives `ended`. Stopping one that already ended
 * does nothing.
 */
export function stopLogs(args: { id: number }): Promise<null> {
  return call<null>("stop_logs", args);
}

/**
 * Saves `lines` as plain text to a new file in the user's Downloads directory and
 * returns its path. The UI names no path: the file name is made from the target, the
 * service and the time.
 */
export function saveLog(args: {
  target: string;
  service: string;
  lines: string[];
}): Promise<string> {
  return call<string>("save_log", args);
}

// src-tauri/src/commands/operations.rs

/**
 * The exact command an operation will run, checked against the policy and the host,
 * for the confirmation the UI shows before running it.
 */
export function planOperation(args: {
  target: string;
  operation: Operation;
}): Promise<PlannedOperation> {
  return call<PlannedOperation>("plan_operation", args);
}

/**
 * Runs one of the policy's typed operations, streaming its output to `onOutput` as it
 * comes. The UI sends an `Operation` value, never command text; the core builds and
 * quotes the command. `request` is the UI's name for this run: a repeat of it never
 * runs again, and `cancelOperation` stops it. `address` is the host the plan showed
 * (`user@host:port`): if the target points elsewhere now, nothing runs.
 */
export function runOperation(args: {
  request: string;
  target: string;
  address: string;
  operation: Operation;
  onOutput: (message: string) => void;
}): Promise<OperationOutcome> {
  return call<OperationOutcome>("run_operation", { ...args, onOutput: channel(args.onOutput) });
}

/**
 * Stops the run the UI named `request`, an operation or a verification (its remote
 * commands are ended on the host).
 */
export function cancelOperation(args: { request: string }): Promise<null> {
  return call<null>("cancel_operation", args);
}

export function listMigrations(args: { target: string }): Promise<string[]> {
  return call<string[]>("list_migrations", args);
}

export function history(): Promise<HistoryRecord[]> {
  return call<HistoryRecord[]>("history");
}

// src-tauri/src/commands/status.rs

/**
 * Connects if needed (verifying the host key first) and runs the policy's
 * `docker compose --profile aws ps`.
 */
export function serviceStatus(args: { target: string }): Promise<StatusReport> {
  return call<StatusReport>("service_status", args);
}

export function disconnect(args: { target: string }): Promise<null> {
  return call<null>("disconnect", args);
}

/**
 * The first look at a newly trusted host: its Compose, project, `aws` services and the
 * policy's guardrails, before any change is offered.
 */
export function hostCheck(args: { target: string }): Promise<HostCheck> {
  return call<HostCheck>("host_check", args);
}

// src-tauri/src/commands/targets.rs

export function listTargets(): Promise<TargetSummary[]> {
  return call<TargetSummary[]>("list_targets");
}

/** Problems found at start-up, plus the settings file's if it is damaged now. */
export function startupProblems(): Promise<ErrorReport[]> {
  return call<ErrorReport[]>("startup_problems");
}

/** Where the diagnostic log is written, to attach to a bug report. */
export function diagnosticLogDir(): Promise<string> {
  return call<string>("diagnostic_log_dir");
}

/**
 * The window has drawn the dashboard with a target's services: the start-up figure
 * goes in the diagnostic log (once per run).
 */
export function dashboardShown(): Promise<null> {
  return call<null>("dashboard_shown");
}

/**
 * A new target with the policy's defaults (user, port, project directory), the
 * directory from `policyFile` if one is given.
 */
export function targetDraft(args: { policyFile: string | null }): Promise<Target> {
  return call<Target>("target_draft", args);
}

/**
 * Jump hosts as `ssh -J` takes them (`[user@]host[:port]`, comma-separated); a hop
 * without a user logs in as `user`.
 */
export function parseJumpHosts(args: { spec: string; user: string }): Promise<JumpHost[]> {
  return call<JumpHost[]>("parse_jump_hosts", args);
}

/** Adds a target (`previousName` empty) or updates/renames the one named `previousName`. */
export function saveTarget(args: {
  target: Target;
  previousName: string | null;
}): Promise<TargetSummary> {
  return call<TargetSummary>("save_target", args);
}

export function removeTarget(args: { name: string }): Promise<null> {
  return call<null>("remove_target", args);
}

/** The hosts of the operator's `~/.ssh/config`, resolved as `ssh -G` resolves them. */
export function sshConfigHosts(): Promise<ResolvedHost[]> {
  return call<ResolvedHost[]>("ssh_config_hosts");
}

/** Adds the target for a `~/.ssh/config` alias, importing its IdentityFile into the keyring. */
export function importSshConfigHost(args: {
  alias: string;
  passphrase: string | null;
}): Promise<TargetSummary> {
  return call<TargetSummary>("import_ssh_config_host", args);
}

/**
 * Tells the UI (on `onChange`) whenever the settings file changes on disk, say when
 * the CLI adds a target, so the console shows it without a restart.
 */
export function watchSettings(args: { onChange: (message: null) => void }): Promise<number> {
  return call<number>("watch_settings", { ...args, onChange: channel(args.onChange) });
}

// src-tauri/src/commands/trust.rs

/**
 * What a host of the target's way offers now (no authentication), beside its pin:
 * `hop`, or the first that needs the operator.
 */
export function probeHostKey(args: { target: string; hop: number | null }): Promise<HostTrust> {
  return call<HostTrust>("probe_host_key", args);
}

/** Pins `fingerprint` for host `hop` of the way only if it offers exactly that key now. */
export function trustHost(args: {
  target: string;
  hop: number | null;
  fingerprint: string;
}): Promise<HostKeyOffer> {
  return call<HostKeyOffer>("trust_host", args);
}

/**
 * Pins each host of the way not pinned yet that the operator's `~/.ssh/known_hosts`
 * already vouches for.
 */
export function trustFromKnownHosts(args: { target: string }): Promise<PinnedKey[]> {
  return call<PinnedKey[]>("trust_from_known_hosts", args);
}

// src-tauri/src/commands/window.rs

/**
 * Asks the page (on `onClose`) before the window closes while a deploy or rollback
 * runs, with the targets closing would cut short; until it answers, the window stays.
 */
export function guardClose(args: { onClose: (message: string[]) => void }): Promise<null> {
  return call<null>("guard_close", { ...args, onClose: channel(args.onClose) });
}

/**
 * The page shows the question about closing on `targets` (those it was asked about
 * last; anything else is refused): it answers, so a close asked again waits for it (a
 * page that never says so is asked past, in the desktop's dialog).
 */
export function closeAsked(args: { targets: string[] }): Promise<null> {
  return call<null>("close_asked", args);
}

/**
 * Closes the window after all, cutting short the runs on `targets`: those it was
 * asked about last (anything else is refused, and nothing closes).
 */
export function closeAnyway(args: { targets: string[] }): Promise<null> {
  return call<null>("close_anyway", args);
}
