// Generated from shipshape-core's Rust types by src-tauri/core/tests/bindings.rs.
// Do not edit. After changing those types run:
//   SHIPSHAPE_BLESS=1 cargo test -p shipshape-core --test bindings

export type ErrorCode = "host_key_mismatch" | "host_key_unknown" | "auth_rejected" | "name_not_resolved" | "connection_refused" | "timeout" | "connection_lost" | "busy" | "keyring_unavailable" | "key_not_found" | "key_invalid" | "passphrase_required" | "passphrase_wrong" | "target_not_found" | "bad_input" | "plan_changed" | "remote_failed" | "checks_failed" | "journal_broken" | "storage" | "settings_damaged" | "protocol" | "stopped";

export type ErrorReport = { code: ErrorCode, 
/**
 * A heading for the code.
 */
title: string, 
/**
 * What happened.
 */
message: string, 
/**
 * What to do next; may be empty.
 */
remedy: string, detail: string | null, 
/**
 * Deserves a stronger treatment than an ordinary failure.
 */
danger: boolean, };

export type Environment = "production" | "staging" | "development";

export type JumpHost = { host: string, port: number, user: string, 
/**
 * The keyring key that logs in to this hop; `None`: the target's own key.
 */
key: string | null, };

export type Target = { name: string, host: string, port: number, user: string, project_dir: string, 
/**
 * The name of the SSH key in the keyring used to log in.
 */
key: string | null, 
/**
 * A policy file (TOML) overriding the builtin policy for this target; never the profile.
 */
policy_file: string | null, 
/**
 * What the target is: production stands out wherever a command can run on it. A
 * target saved before environments existed reads as production, the careful guess.
 */
environment: Environment, 
/**
 * The jump hosts (bastions) passed through on the way, in order, as ssh's
 * `ProxyJump`: each one's host key is pinned and checked before authenticating to it.
 */
jump: Array<JumpHost>, };

export type TargetSummary = { target: Target, address: string, 
/**
 * The pinned host key fingerprint, if the host is trusted.
 */
host_key: string | null, 
/**
 * The services its policy governs, in the policy's order (what the UI offers).
 */
services: Array<string>, 
/**
 * Exactly what checking its services runs (`docker-compose` on a v1 host), shown
 * before the first check.
 */
status_command: string, };

export type RunState = "running" | "restarting" | "paused" | "created" | "exited" | "dead" | "removing" | "missing" | "unknown";

export type ServiceState = { service: string, container: string | null, state: RunState, 
/**
 * `healthy`, `unhealthy`, `starting`, or `None` when the service has no health check.
 */
health: string | null, 
/**
 * Docker's own summary, e.g. "Up 5 minutes (healthy)".
 */
status: string, image: string | null, exit_code: number | null, 
/**
 * Published ports, e.g. "127.0.0.1:8002->8002/tcp".
 */
ports: Array<string>, 
/**
 * The image the container runs, by content (`sha256:` + 12 hex), from `docker inspect`.
 */
image_id: string | null, 
/**
 * How often Docker restarted the container on its own (restart policy).
 */
restarts: number | null, };

export type StatusReport = { target: string, 
/**
 * `user@host:port`
 */
address: string, 
/**
 * The SHA256 fingerprint the host proved it holds.
 */
host_key: string, 
/**
 * The exact command that produced `services`.
 */
command: string, checked_at: string, services: Array<ServiceState>, };

export type CommandOutput = { 
/**
 * Exactly the text that was sent to the host.
 */
command: string, stdout: string, stderr: string, 
/**
 * `None` when the command ended without an exit status (killed by a signal).
 */
exit_code: number | null, started_at: string, duration_ms: number, };

export type HostKeyOffer = { 
/**
 * e.g. `ssh-ed25519`
 */
key_type: string, 
/**
 * `SHA256:...`
 */
fingerprint: string, };

export type RouteHost = { 
/**
 * `host:port`, as errors name it.
 */
address: string, user: string, 
/**
 * The pinned fingerprint, if this host is trusted.
 */
pinned: string | null, 
/**
 * True for the jump hosts, false for the target itself (the last).
 */
jump: boolean, };

export type HostTrust = { target: string, 
/**
 * Which host of the way this is: 0 the first jump host, the last the target.
 */
hop: number, 
/**
 * `host:port` of that host.
 */
host: string, 
/**
 * The whole way, jump hosts first, each with its pin.
 */
route: Array<RouteHost>, 
/**
 * The key of the pinned type, or the one the host prefers to show.
 */
offered: HostKeyOffer, 
/**
 * Every key the host holds, preferred first (`offered` among them).
 */
offers: Array<HostKeyOffer>, pinned: string | null, 
/**
 * True if a pin exists and the host's key matches it.
 */
matches: boolean, };

export type PinnedKey = { 
/**
 * `host:port`.
 */
host: string, offer: HostKeyOffer, };

export type HostCheck = { target: string, 
/**
 * `user@host:port`, with the jump hosts.
 */
address: string, project_dir: string, 
/**
 * v2's plugin, or v1's `docker-compose` where v2 is missing.
 */
compose: Compose, 
/**
 * Always `aws`: the only profile the policy lets Shipshape use.
 */
profile: string, 
/**
 * The services the project defines under the profile.
 */
services: Array<string>, 
/**
 * The policy's services the project does not define (a wrong directory or branch).
 */
missing: Array<string>, 
/**
 * Migration scripts present, as the policy selects them.
 */
migrations: number, 
/**
 * The ports only the project's `aws` containers may serve.
 */
production_ports: Array<number>, 
/**
 * What must never appear in a service's command (`--reload`, ...).
 */
forbidden_patterns: Array<string>, };

export type KeyInfo = { name: string, 
/**
 * e.g. `ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`
 */
algorithm: string, 
/**
 * `SHA256:...`, as `ssh-keygen -l` prints it.
 */
fingerprint: string, comment: string, created_at: string, 
/**
 * The `authorized_keys` line to install on a host.
 */
public_key: string, };

export type KeyFile = { path: string, 
/**
 * From the file name, e.g. `id_ed25519`.
 */
suggested_name: string, };

export type ResolvedHost = { 
/**
 * The name that was asked for.
 */
alias: string, 
/**
 * `HostName` with `%h` expanded, or the alias; lowercased (numeric addresses put in
 * canonical form) as ssh does.
 */
hostname: string, 
/**
 * `None` if the config sets no `User`; the caller picks the default.
 */
user: string | null, 
/**
 * `None` if the config sets no `Port`; the caller picks the default.
 */
port: number | null, 
/**
 * Every `IdentityFile` that applied, in order and without repeats, with `~`,
 * `%`-tokens and `${VARIABLE}`s expanded. Empty if none applied (ssh would then try
 * its default key files).
 */
identity_files: Array<string>, 
/**
 * The jump hosts, `[user@]host[:port]` as `ssh -G` writes them; `None` if unset or
 * `none`. Each hop is itself a Host of the config ([`jump::hops`]).
 */
proxy_jump: string | null, 
/**
 * Shown to the operator only, never run: the `ProxyCommand` as written (tokens not
 * expanded); `None` if unset or `none`.
 */
proxy_command: string | null, 
/**
 * `Match` lines this host's settings may depend on that were not evaluated (`exec`
 * and the like), each with its file and line: what ssh does for this host may
 * differ.
 */
unevaluated: Array<string>, };

export type Operation = { "op": "ps" } | { "op": "logs", service: string, lines: number, follow: boolean, since: string | null, timestamps: boolean, } | { "op": "restart", service: string | null, } | { "op": "stop", service: string | null, } | { "op": "pull" } | { "op": "up" } | { "op": "up_service", service: string, } | { "op": "down" } | { "op": "git_fetch" } | { "op": "git_incoming" } | { "op": "git_incoming_files" } | { "op": "git_head" } | { "op": "git_pull" } | { "op": "health" } | { "op": "migrate", script: string, } | { "op": "list_migrations" } | { "op": "compose_services" };

export type Compose = "v2" | "v1";

export type PlannedOperation = { target: string, 
/**
 * `user@host:port`
 */
address: string, title: string, 
/**
 * Exactly the text that will be sent to the host.
 */
command: string, 
/**
 * Stops, removes or changes something: the UI asks to confirm.
 */
destructive: boolean, 
/**
 * Changes the host (pulls, updates, stops...): a deploy holding the host's lock
 * refuses it.
 */
changes_host: boolean, 
/**
 * The operator confirms by typing the target's name: `down` and stopping every
 * service anywhere, and any change on a production target.
 */
confirm_by_name: boolean, 
/**
 * The target's environment, shown beside the command (production stands out).
 */
environment: Environment, };

export type OperationOutcome = { title: string, 
/**
 * Ran to its end (see the exit code) or was cancelled; timeouts and lost
 * connections are errors, recorded in the history first.
 */
outcome: RunOutcome, output: CommandOutput, record_id: string, };

export type HistoryRecord = { id: string, 
/**
 * An operation, or a verification (whose checklist the journal keeps).
 */
kind: RecordKind, 
/**
 * The target's name when it ran.
 */
target: string, 
/**
 * The name that target goes by now, when it was renamed since (the history is read
 * with the journal's renames; `None`: still `target`). Never stored.
 */
target_now?: string, 
/**
 * That target was removed since (a target added under its name is another one).
 * Never stored.
 */
target_removed?: boolean, 
/**
 * The local account that ran it.
 */
operator: string, 
/**
 * Plain words, e.g. "Restart backend-aws".
 */
title: string, 
/**
 * Exactly the text sent to the host.
 */
command: string, started_at: string, finished_at: string, duration_ms: number, exit_code: number | null, 
/**
 * How it ended: ran to its end (see `exit_code`), cancelled, timed out,
 * interrupted by a lost connection (it may or may not have finished on the host),
 * or not started (the host was never reached).
 */
outcome: RunOutcome, 
/**
 * SHA-256 of stdout followed by stderr, hex.
 */
output_sha256: string, output_bytes: number, 
/**
 * A deploy that resumed another: the one whose snapshot it kept (and which can
 * still be resumed if this one failed before it changed anything).
 */
resumes?: string, 
/**
 * A deploy that failed or was stopped before its snapshot, the step before the
 * first that changes what the host runs: the host is as the runs before it left it,
 * so what can be done about those still can. (One cut off is never marked: it may
 * have been cut off in its snapshot.) Derived from the journal, never stored.
 */
ended_before_snapshot?: boolean, };

export type LastRun = { 
/**
 * Running, finished, cut off, failed or stopped.
 */
record: HistoryRecord, 
/**
 * The deploy a Resume goes on with (the record's own, or the one it resumed, whose
 * snapshot it kept), when the run ended short of its end and that deploy can go on.
 */
resumable: string | null, 
/**
 * The newest resume of that deploy since `record` (only with `resumable`), if it
 * ended before its snapshot (refused at its review, the lock held...): a Resume
 * offered again meets the same unless the host changed, so it is said beside it.
 */
last_attempt: ResumeAttempt | null, };

export type ResumeAttempt = { 
/**
 * Its record.
 */
id: string, started_at: string, 
/**
 * The step that failed or was stopped, and what it said.
 */
step: string, note: string, };

export type RunOutcome = "exited" | "cancelled" | "timed_out" | "interrupted" | "not_started" | "running";

export type RecordKind = "operation" | "verification" | "deploy" | "event";

export type CheckId = "code-deployed" | "images-pulled" | "services-updated" | "services-running" | "env-configured" | "migrations" | "health" | "logs-clean" | "no-reload" | "no-systemd-mix" | "aws-profile-only" | "compose-only";

export type CheckGroup = "verification" | "never-do";

export type CheckStatus = "pass" | "fail" | "warn" | "pending" | "manual" | "waived" | "na";

export type Evidence = { command: string, exit_code: number | null, started_at: string, duration_ms: number, output: string, sha256: string, };

export type Actor = { user: string, 
/**
 * `SHA256:...` of the key used for the connection.
 */
key_fingerprint: string | null, };

export type CheckItem = { id: CheckId, title: string, group: CheckGroup, status: CheckStatus, 
/**
 * What the probes found, in one sentence.
 */
note: string, 
/**
 * The status the probes gave, before any tick or waiver.
 */
probed_status: CheckStatus, evidence: Array<Evidence>, 
/**
 * Who ticked or waived the item, and when.
 */
ticked_by: string | null, ticked_at: string | null, 
/**
 * The written reason an operator accepted a failure.
 */
waiver: string | null, 
/**
 * Who ran the item's probes again after the verification, and when: its note and
 * evidence are from then, not from the run the header names. Written only for an
 * item re-run, so records and reports from before it was kept read (and validate
 * against the report schema) as never re-run.
 */
rerun_by?: string | null, rerun_at?: string | null, };

export type ReportTarget = { name: string, host: string, port: number, user: string, project_dir: string, 
/**
 * The pinned host key's fingerprint (`SHA256:...`).
 */
host_key: string, };

export type ImageDigest = { service: string, image: string, id: string, digests: Array<string>, };

export type PolicyUsed = { 
/**
 * `builtin`, or the target's policy file.
 */
source: string, 
/**
 * SHA-256 of the policy in effect, as JSON.
 */
sha256: string, };

export type Checklist = { 
/**
 * The journal record it belongs to.
 */
id: string, target: ReportTarget, operator: Actor, started_at: string, finished_at: string, 
/**
 * The commit the project is on.
 */
git_commit: string | null, images: Array<ImageDigest>, items: Array<CheckItem>, 
/**
 * The policy the items were decided by (absent in checklists made before it was
 * recorded).
 */
policy: PolicyUsed | null, };

export type StepId = "preflight" | "review" | "lock" | "snapshot" | "git_pull" | "pull" | "migrate" | "up" | "verify" | "unlock" | "restore";

export type StepStatus = "done" | "failed" | "skipped";

export type ServiceImage = { service: string, 
/**
 * The tag the compose file names.
 */
tag: string, 
/**
 * The image it really ran (`sha256:...`).
 */
image_id: string, };

export type Snapshot = { 
/**
 * The deploy it was taken for.
 */
deploy: string, taken_at: string, git_commit: string, images: Array<ServiceImage>, 
/**
 * Where the copy of the env file is on the host (`None`: there was none).
 */
env_backup: string | null, 
/**
 * Every service that had a container when it was taken: services sharing an image
 * have one entry in `images`, by its tag. `None` in snapshots of earlier versions.
 */
services?: Array<string>, };

export type StepRecord = { step: StepId, title: string, status: StepStatus, 
/**
 * Exactly the text sent to the host, in order.
 */
commands: Array<string>, started_at: string, duration_ms: number, 
/**
 * One sentence: what happened.
 */
note: string, 
/**
 * The history record of an operation it ran, or the verification.
 */
record_ids: Array<string>, 
/**
 * Taken by the snapshot step.
 */
snapshot: Snapshot | null, };

export type DeployKind = "deploy" | "rollback";

export type DeployOutcome = "succeeded" | "failed" | "stopped" | "interrupted";

export type DiffKind = "same" | "removed" | "added" | "changed" | "folded";

export type DiffRow = { kind: DiffKind, 
/**
 * 1-based line numbers.
 */
before_line: number | null, before: string | null, after_line: number | null, after: string | null, };

export type ComposeChange = { 
/**
 * The compose file read, e.g. `docker-compose.yml`.
 */
file: string | null, rows: Array<DiffRow>, 
/**
 * One sentence: what changed, or why it could not be shown.
 */
note: string, };

export type EnvKeyChanges = { 
/**
 * The deploy whose snapshot it was compared with; `None`: no snapshot yet.
 */
compared_with: string | null, added: Array<string>, removed: Array<string>, changed: Array<string>, note: string, };

export type ImageChange = { service: string, 
/**
 * The reference the incoming compose config names.
 */
reference: string, 
/**
 * `repo@sha256:...` of the image the service's container runs, if known.
 */
running: string | null, 
/**
 * `repo@sha256:...` the registry serves for the reference now, if it said.
 */
registry: string | null, 
/**
 * True when a pull would move the service to another image.
 */
changes: boolean, note: string, };

export type DeployReview = { 
/**
 * Its journal record.
 */
id: string, target: string, made_at: string, made_by: Actor, 
/**
 * The commit the project is on, and the branch a pull merges.
 */
head: string, upstream: string, commits: Array<IncomingCommit>, files: Array<ChangedFile>, compose: ComposeChange, env_keys: EnvKeyChanges, images: Array<ImageChange>, commands: Array<string>, 
/**
 * SHA-256 over what the review found (not who made it, or when): what an approval
 * signs, and what a deploy compares.
 */
digest: string, };

export type Approval = { review: string, digest: string, reviewer: string, user: string, key_name: string, key_fingerprint: string, approved_at: string, 
/**
 * The migration scripts a deploy under it runs, in order (none: it runs none;
 * absent then, as in approvals and reports of earlier versions).
 */
migrations?: Array<string>, 
/**
 * Armored SSHSIG over [`Approval::signed_text`], namespace [`APPROVAL_NAMESPACE`].
 */
signature: string, };

export type DeployRecord = { id: string, kind: DeployKind, target: string, operator: Actor, 
/**
 * The operator's message (a deploy) or reason (a rollback).
 */
message: string, started_at: string, finished_at: string, outcome: DeployOutcome, 
/**
 * The commits the pull brought, newest first.
 */
commits: Array<IncomingCommit>, steps: Array<StepRecord>, 
/**
 * The verification that ended it.
 */
checklist: string | null, 
/**
 * A rollback's: the deploy whose snapshot it returned to.
 */
rolled_back_to: string | null, 
/**
 * The deploy this one resumed (cut short or stopped), whose snapshot it kept.
 */
resumes: string | null, 
/**
 * What the deploy's review step found.
 */
review: DeployReview | null, 
/**
 * The reviewer's approval the deploy was started under, if any.
 */
approval: Approval | null, };

export type DeployEvent = { "kind": "step_started", step: StepId, title: string, } | { "kind": "output", text: string, } | { "kind": "step_ended", step: StepRecord, };

export type DeployResult = { record: DeployRecord, error: ErrorReport | null, };

export type DeployRequest = { message: string, 
/**
 * Migration scripts to run after the pull, picked by the operator (never guessed).
 */
migrations: Array<string>, 
/**
 * A review a reviewer approved: the deploy goes ahead only if it finds the same.
 */
review: string | null, 
/**
 * A deploy cut short or stopped, to go on from: its snapshot stays the one a
 * rollback returns to (a new one would record the half-deployed host).
 */
resume: string | null, 
/**
 * The commit the operator was shown this deploy would bring the host to (the newest
 * incoming one, or the one it is on): if origin moved since, nothing is deployed.
 */
seen: string | null, 
/**
 * The digest of the plan the operator confirmed ([`RunPlan::digest`]): if the
 * target or its policy changed since, nothing runs.
 */
plan: string | null, };

export type PlannedStep = { title: string, 
/**
 * Exactly the text each command sends to the host.
 */
commands: Array<string>, 
/**
 * What the step does, where its commands are not listed (they only read, or only
 * the run can write them).
 */
note: string | null, };

export type RunPlan = { 
/**
 * Where it runs: `user@host:port`.
 */
address: string, steps: Array<PlannedStep>, 
/**
 * SHA-256 (hex) of the target's definition and its policy, a `-`, then SHA-256 of
 * the steps: handed back with the run, the run starts only if it is still the same.
 */
digest: string, };

export type LockHolder = { operator: string, 
/**
 * The fingerprint of the key the holder's session authenticated with.
 */
key_fingerprint: string, 
/**
 * The machine the holder runs on.
 */
machine: string, since: string, message: string, 
/**
 * The deploy that holds it.
 */
deploy: string, };

export type LockStatus = { held: boolean, 
/**
 * The holder now, or the last one if the lock is free (`None`: never taken).
 */
holder: LockHolder | null, 
/**
 * Exactly what breaking it runs on the host, shown before anyone does.
 */
break_command: string, };

export type ItemChange = { "change": "tick" } | { "change": "untick" } | { "change": "waive", reason: string, } | { "change": "rerun", result: CheckItem, };

export type ChainReport = { entries: number, 
/**
 * The last entry's hash: what reports made now carry.
 */
head: string, 
/**
 * The first entry that does not hold, if any.
 */
broken: BrokenEntry | null, 
/**
 * The first entry that holds but that this version cannot read (written by a
 * newer one, or by a bug): the history and reports leave out what it records.
 */
unreadable: BrokenEntry | null, };

export type BrokenEntry = { seq: number, record_id: string, reason: string, };

export type ReportFormat = "markdown" | "html" | "pdf" | "json";

export type Signer = { user: string, key_name: string, fingerprint: string, signed_at: string, 
/**
 * The signature file written beside the report.
 */
signature_file: string, };

export type ReportExport = { record_id: string, path: string, format: ReportFormat, 
/**
 * Of the file as written.
 */
sha256: string, exported_at: string, exported_by: Actor, 
/**
 * The operator's signature file, if signed.
 */
signature: string | null, 
/**
 * Signature files of an earlier report at the same path, removed as this one was
 * written: they no longer matched its bytes.
 */
removed_signatures: Array<string>, 
/**
 * Reviewers who co-signed the file since.
 */
cosigners: Array<Signer>, };

export type LiveStatus = { "kind": "snapshot", report: StatusReport, } | { "kind": "ended", error: ErrorReport | null, };

export type LogEvent = { "event": "lines", lines: Array<string>, skipped: number, } | { "event": "ended", cancelled: boolean, exit_code: number | null, error: ErrorReport | null, };

export type LogFollowStarted = { id: number, target: string, service: string, 
/**
 * `user@host:port`
 */
address: string, 
/**
 * Exactly the text sent to the host.
 */
command: string, };

export type IncomingCommit = { hash: string, author: string, 
/**
 * Author date, strict ISO 8601.
 */
date: string, subject: string, };

export type ChangedFile = { 
/**
 * git's letter: `A` added, `M` modified, `D` deleted, `R` renamed, `C` copied, ...
 */
status: string, path: string, 
/**
 * The old path of a renamed or copied file.
 */
from: string | null, };

export type IncomingReview = { target: string, 
/**
 * The short hash of the commit the project is on.
 */
head: string, 
/**
 * The branch a pull merges, e.g. `origin/main`.
 */
upstream: string, 
/**
 * Newest first.
 */
commits: Array<IncomingCommit>, files: Array<ChangedFile>, 
/**
 * Exactly the text sent to the host for each step, in the order they ran.
 */
commands: Array<string>, };

export type EnvKey = { name: string, 
/**
 * 1-based line in the file.
 */
line: number, 
/**
 * The name looks like a secret's (`*PASSWORD*`, `*SECRET*`, `*TOKEN*`, `*KEY*`).
 */
looks_secret: boolean, 
/**
 * Set to nothing.
 */
empty: boolean, };

export type EnvKeys = { target: string, 
/**
 * The file, relative to the project dir (the policy's `env_file`).
 */
file: string, exists: boolean, keys: Array<EnvKey>, command: string, 
/**
 * Exactly what a save runs on the host (the new text goes on its input): the same
 * for every save, shown before one.
 */
write_command: string, };

export type EnvSaved = { target: string, file: string, added: Array<string>, removed: Array<string>, changed: Array<string>, backup: string | null, record_id: string, command: string, };
