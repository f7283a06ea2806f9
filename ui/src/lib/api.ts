// Typed calls into the Rust core. Types come from the generated bindings; every failure
// arrives as an ErrorReport whose `code` decides what the UI shows. Arguments are typed
// values: no call carries command text, and no call carries a private key.
import { Channel, invoke } from "@tauri-apps/api/core";
import type {
  ErrorReport,
  HostKeyOffer,
  HostTrust,
  KeyFile,
  HistoryRecord,
  IncomingReview,
  KeyInfo,
  LiveStatus,
  LogEvent,
  LogFollowStarted,
  Operation,
  OperationOutcome,
  PlannedOperation,
  ResolvedHost,
  StatusReport,
  Target,
  TargetSummary,
} from "./bindings";

export function isErrorReport(value: unknown): value is ErrorReport {
  return typeof value === "object" && value !== null && "code" in value && "message" in value;
}

/** Turns whatever a call threw into an ErrorReport, so the UI has one shape to show. */
export function asErrorReport(value: unknown): ErrorReport {
  if (isErrorReport(value)) return value;
  return { code: "protocol", message: String(value), detail: null };
}

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (error) {
    throw asErrorReport(error);
  }
}

export const api = {
  listTargets: () => call<TargetSummary[]>("list_targets"),
  startupProblems: () => call<ErrorReport[]>("startup_problems"),
  saveTarget: (target: Target, previousName: string | null) =>
    call<TargetSummary>("save_target", { target, previousName }),
  removeTarget: (name: string) => call<null>("remove_target", { name }),
  sshConfigHosts: () => call<ResolvedHost[]>("ssh_config_hosts"),
  importSshConfigHost: (alias: string, passphrase: string | null) =>
    call<TargetSummary>("import_ssh_config_host", { alias, passphrase }),

  probeHostKey: (target: string) => call<HostTrust>("probe_host_key", { target }),
  trustHost: (target: string, fingerprint: string) => call<HostKeyOffer>("trust_host", { target, fingerprint }),
  trustFromKnownHosts: (target: string) => call<HostKeyOffer>("trust_from_known_hosts", { target }),

  listKeys: () => call<KeyInfo[]>("list_keys"),
  keyFiles: () => call<KeyFile[]>("key_files"),
  importKey: (name: string, path: string, passphrase: string | null) =>
    call<KeyInfo>("import_key", { name, path, passphrase }),
  generateKey: (name: string, comment: string) => call<KeyInfo>("generate_key", { name, comment }),
  removeKey: (name: string) => call<null>("remove_key", { name }),

  serviceStatus: (target: string) => call<StatusReport>("service_status", { target }),
  planOperation: (target: string, operation: Operation) => call<PlannedOperation>("plan_operation", { target, operation }),
  /** Runs an operation, handing its output to `onOutput` as it comes; `runId` lets `cancelOperation` stop it. */
  runOperation: (target: string, operation: Operation, runId: number, onOutput: (text: string) => void) => {
    const channel = new Channel<string>();
    channel.onmessage = onOutput;
    return call<OperationOutcome>("run_operation", { target, operation, runId, onOutput: channel });
  },
  cancelOperation: (runId: number) => call<null>("cancel_operation", { runId }),
  listMigrations: (target: string) => call<string[]>("list_migrations", { target }),
  history: () => call<HistoryRecord[]>("history"),
  /** Fetches, then lists the commits and files `git pull origin main` would bring. */
  reviewIncoming: (target: string) => call<IncomingReview>("review_incoming", { target }),
  /** Starts pushing the target's service states to `onStatus`; returns the watch's id. */
  watchStatus: (target: string, onStatus: (status: LiveStatus) => void) => {
    const channel = new Channel<LiveStatus>();
    channel.onmessage = onStatus;
    return call<number>("watch_status", { target, onStatus: channel });
  },
  stopWatch: (id: number) => call<null>("stop_watch", { id }),
  /** Starts following a service's logs; lines (then one `ended`) arrive on `onEvent`. */
  followLogs: (target: string, service: string, lines: number, timestamps: boolean, onEvent: (event: LogEvent) => void) => {
    const channel = new Channel<LogEvent>();
    channel.onmessage = onEvent;
    return call<LogFollowStarted>("follow_logs", { target, service, lines, timestamps, onEvent: channel });
  },
  stopLogs: (id: number) => call<null>("stop_logs", { id }),
  /** Saves the lines as plain text in the Downloads directory; returns the file's path. */
  saveLog: (target: string, service: string, lines: string[]) => call<string>("save_log", { target, service, lines }),
  disconnect: (target: string) => call<null>("disconnect", { target }),
};
