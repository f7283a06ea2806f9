// The console's session with its targets: the list, the one selected, its connection,
// its last status report and its live watch. It lives here rather than in a screen so
// that switching screens keeps the live watch running, and keyboard shortcuts act on
// the same state the dashboard shows.
import * as commands from "../commands";
import type { ErrorReport, LiveStatus, LockStatus, StatusReport, TargetSummary } from "../bindings";

export type Connection = "disconnected" | "connecting" | "connected" | "failed";

/** Errors after which the live view subscribes again by itself; not trust problems. A
 *  host rebooting refuses connections between its kernel coming up and sshd listening
 *  (or resets them in the handshake: `protocol`); a laptop whose Wi-Fi or VPN drops
 *  cannot resolve the host's name for a while. Only a live view that was up retries,
 *  so a mistyped host never loops. */
const RESUBSCRIBE_ON: ErrorReport["code"][] = [
  "connection_lost",
  "timeout",
  "remote_failed",
  "connection_refused",
  "name_not_resolved",
  "protocol",
];
export const RESUBSCRIBE_AFTER_MS = 5000;
/** Retries after a lost live view wait twice as long each time, up to this. */
export const RESUBSCRIBE_MAX_MS = 60_000;

export class TargetSession {
  targets = $state<TargetSummary[]>([]);
  selected = $state<string | null>(null);
  connection = $state<Connection>("disconnected");
  report = $state<StatusReport | null>(null);
  error = $state<ErrorReport | null>(null);
  /** The host's deploy lock as last read (on connect, and by the Deploy screen). */
  lock = $state<LockStatus | null>(null);
  /** The live watch: "starting" until the core answers with its id. */
  watch = $state<number | "starting" | null>(null);
  readonly current = $derived(this.targets.find((t) => t.target.name === this.selected) ?? null);
  #resubscribe: ReturnType<typeof setTimeout> | undefined;
  /** The wait before the next retry of a live view that ended; null while none is due. */
  #retryAfter: number | null = null;
  /** Watches started so far: only the newest one's messages are taken. */
  #watches = 0;
  /** Reads of the target list started so far: only the latest may set it. */
  #targetReads = 0;

  /** Reads the targets again (after a change here, or by the CLI on disk). Reads can
   *  overlap (the CLI writes twice in a second) and answer out of order; an older
   *  answer never overwrites a newer one. */
  async loadTargets() {
    const read = ++this.#targetReads;
    const targets = await commands.listTargets();
    if (read !== this.#targetReads) return;
    const before = JSON.stringify(this.current?.target ?? null);
    const pinnedBefore = this.current?.host_key ?? null;
    this.targets = targets;
    // The selected target redefined elsewhere (the CLI, another window): its live view
    // watches the old definition's host, so it starts again on the new one.
    const after = this.targets.find((t) => t.target.name === this.selected);
    if (after && before !== "null" && JSON.stringify(after.target) !== before && this.watch !== null) {
      this.stopWatch();
      void this.refresh();
    } else if (after && this.connection === "failed" && after.host_key !== pinnedBefore) {
      // Its host key pinned anew (the Targets screen, the CLI): the failure it caused is
      // past, so the dashboard connects again rather than keep showing it.
      this.error = null;
      void this.refresh();
    }
    if (!this.targets.some((t) => t.target.name === this.selected)) this.select(this.targets[0]?.target.name ?? null);
  }

  select(name: string | null) {
    if (name === this.selected) return;
    this.stopWatch();
    this.selected = name;
    this.report = null;
    this.error = null;
    this.lock = null;
    this.connection = "disconnected";
  }

  /** Connects if needed (the core checks the host key first), reads the services, then
   *  keeps them current through the live watch. */
  async refresh() {
    const name = this.selected;
    if (name === null || this.connection === "connecting") return;
    this.connection = "connecting";
    this.error = null;
    try {
      const result = await commands.serviceStatus({ target: name });
      if (this.selected !== name) return;
      this.report = result;
      this.connection = "connected";
      this.#retryAfter = null;
      void this.#startWatch(name);
      void this.readLock(name);
    } catch (e) {
      if (this.selected !== name) return;
      this.error = e as ErrorReport;
      this.connection = "failed";
      this.report = null;
      // A live view lost to an outage keeps trying (an EC2 reboot outlasts one retry).
      if (this.#retryAfter !== null) this.#retryLater(name, this.error);
    }
  }

  /** Reads the host's deploy lock; a failure leaves it unknown (the dashboard's own
   *  error, if any, is what the operator needs). */
  async readLock(name: string) {
    try {
      const lock = await commands.lockStatus({ target: name });
      if (this.selected === name) this.lock = lock ?? null;
    } catch {
      if (this.selected === name) this.lock = null;
    }
  }

  async #startWatch(name: string) {
    if (this.watch !== null) return;
    const mine = ++this.#watches;
    this.watch = "starting";
    try {
      // The snapshot just read stands as the watch's first: the core does not read it again.
      const known = this.report?.checked_at ?? null;
      const onStatus = (status: LiveStatus) => this.#onStatus(name, status, mine);
      const id = await commands.watchStatus({ target: name, known, onStatus });
      // Still starting: a watch that already ended (its end can beat this answer) or was
      // stopped, or another target chosen, meanwhile, is not kept as the one running.
      if (mine === this.#watches && this.selected === name && this.watch === "starting") this.watch = id;
      else void commands.stopWatch({ id });
    } catch {
      if (mine === this.#watches) this.watch = null;
    }
  }

  /** `mine`: which watch said it. A stopped watch's late end must not wipe the id of
   *  the one running now (it could then never be stopped). */
  #onStatus(name: string, status: LiveStatus, mine: number) {
    if (this.selected !== name || mine !== this.#watches) return;
    if (status.kind === "snapshot") {
      this.report = status.report;
      this.connection = "connected";
      this.error = null; // a failed Refresh meanwhile is mended by the watch's news
      return;
    }
    this.watch = null;
    if (!status.error) return;
    // The live view ended visibly; it tries again on its own a little later (a
    // reconnect), unless the host's identity is in question.
    this.error = status.error;
    this.connection = "failed";
    this.#retryAfter = RESUBSCRIBE_AFTER_MS;
    this.#retryLater(name, status.error);
  }

  /** Tries the live view again after the current wait (doubling it for the next), if
   *  `error` is one a retry can mend. */
  #retryLater(name: string, error: ErrorReport) {
    clearTimeout(this.#resubscribe);
    if (this.#retryAfter === null || !RESUBSCRIBE_ON.includes(error.code)) {
      this.#retryAfter = null;
      return;
    }
    const wait = this.#retryAfter;
    this.#retryAfter = Math.min(wait * 2, RESUBSCRIBE_MAX_MS);
    this.#resubscribe = setTimeout(() => {
      if (this.selected === name) void this.refresh();
    }, wait);
  }

  stopWatch() {
    clearTimeout(this.#resubscribe);
    this.#retryAfter = null;
    this.#watches++;
    if (typeof this.watch === "number") void commands.stopWatch({ id: this.watch });
    this.watch = null;
  }
}

export const session = new TargetSession();
