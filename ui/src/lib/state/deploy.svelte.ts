// The guided deploy of the selected target: what the pull would bring (the review), the
// host's deploy lock, and a run in progress as a list of steps that fill in as the core
// reports them. In a store so that leaving the screen keeps the run and its steps.
import * as commands from "../commands";
import { progressOf, type Stage } from "../progress";
import { session } from "./session.svelte";
import type {
  Approval,
  DeployEvent,
  DeployReview,
  DeployRecord,
  ErrorReport,
  HistoryRecord,
  LockStatus,
  ResumeAttempt,
  RunPlan,
  Snapshot,
  StepRecord,
} from "../bindings";

/** A step as the screen shows it: running (with the tail of its output and each
 *  service's progress, read from every line as it came) until the core says how it
 *  ended; a step that failed keeps its output's tail, to read why. */
export type StepView = {
  title: string;
  running: boolean;
  output: string;
  progress: Record<string, Stage>;
  record: StepRecord | null;
};

/** How much of a running step's output is kept for the screen. */
export const OUTPUT_TAIL = 4000;
/** How often a run this window did not start is looked for in the history. */
export const ELSEWHERE_POLL_MS = 3000;

export class DeployStore {
  target = $state<string | null>(null);
  /** What a deploy would change now, as recorded in the journal. */
  review = $state<DeployReview | null>(null);
  /** A reviewer's approval of `review`: the deploy is held to it. */
  approval = $state<Approval | null>(null);
  lock = $state<LockStatus | null>(null);
  steps = $state<StepView[]>([]);
  /** A run in progress in this console (one at a time), on `runTarget`. */
  running = $state<"deploy" | "rollback" | null>(null);
  record = $state<DeployRecord | null>(null);
  /** The target `steps` and `record` are about: the run in progress or the last one.
   *  Choosing another target leaves them (and a run going on) as they are; the screen
   *  shows them on their own target's page only. */
  runTarget = $state<string | null>(null);
  error = $state<ErrorReport | null>(null);
  /** The target's newest deploy or rollback, if it never ended (the app or its
   *  connection died midway): the screen offers what can be done about it. */
  interrupted = $state<HistoryRecord | null>(null);
  /** The target's newest deploy, if it stopped or failed after its snapshot and this
   *  window did not run it (the console was closed since): it can be resumed. */
  unfinished = $state<HistoryRecord | null>(null);
  /** The id of the interrupted or stopped deploy that can be resumed (it took its
   *  snapshot; a rollback never can): Resume is offered for it alone. */
  resumable = $state<string | null>(null);
  /** The newest resume of that deploy since, if it was refused before its snapshot: said
   *  beside the Resume that would meet the same unless the host changed. */
  lastAttempt = $state<ResumeAttempt | null>(null);
  /** The target's newest deploy or rollback, still running but not from this window
   *  (started before the window was reloaded, or by the CLI): its steps are not shown
   *  here, and it is watched until it ends. */
  elsewhere = $state<HistoryRecord | null>(null);
  #watchingElsewhere: ReturnType<typeof setTimeout> | undefined;
  /** The snapshots a rollback can return to, newest first. */
  snapshots = $state<Snapshot[]>([]);
  /** The last read of the review and the lock failed: the screen offers to read again. */
  readFailed = $state(false);
  /** That failure's error, as written (the state holds a proxy of it). */
  #readError: string | null = null;
  /** What the confirmation open now will run: its steps, each changing command exactly. */
  plan = $state<RunPlan | null>(null);
  /** Why that could not be read: the confirmation is not offered without it. */
  planError = $state<ErrorReport | null>(null);
  /** Plans asked for so far: only the newest lands. */
  #plans = 0;
  /** The operator asked the run to stop once its current step ends. */
  stopping = $state(false);
  /** For screen readers: the step that just started or ended. */
  announcement = $state("");
  /** Runs started so far: events and the end of an older run are not this one's. */
  #runs = 0;
  /** How the last run ended, if it failed, and on which target. */
  #runError: { target: string; error: ErrorReport } | null = null;
  /** Reads of the review started so far. */
  #reads = 0;
  /** The running step's last line, until its end arrives. */
  #partialLine = "";

  /** The Deploy screen is shown for `target`: a target shown again is read afresh
   *  (origin may have moved since), unless a run is under way (its own fetch must not
   *  race one of ours). */
  async show(target: string) {
    if (this.target !== target) return this.useTarget(target);
    if (!this.running) await this.refresh();
  }

  async useTarget(target: string) {
    if (this.target === target) return;
    this.target = target;
    this.review = null;
    this.approval = null;
    this.lock = null;
    // A run of this target that failed while another was shown still says why.
    this.error = this.#runError?.target === target ? this.#runError.error : null;
    this.interrupted = null;
    this.unfinished = null;
    this.resumable = null;
    this.lastAttempt = null;
    this.readFailed = false;
    this.#readError = null;
    this.elsewhere = null;
    this.snapshots = [];
    await this.refresh();
  }

  /** Reads the review and the lock again. Only the newest read lands: an older one
   *  finishing last (it began before origin moved back) must not replace it, nor drop
   *  an approval made on it. */
  async refresh() {
    const target = this.target;
    if (target === null) return;
    const mine = ++this.#reads;
    // Read on their own (the journal here, no host): a review that cannot be read (origin
    // out of reach, the connection down) must not hide the rollback, nor leave the
    // rollback dialog naming an older snapshot than the newest.
    const snapshotsRead = commands.deploySnapshots({ target }).catch(() => null);
    const keepSnapshots = async () => {
      const snapshots = await snapshotsRead;
      if (snapshots && this.target === target && mine === this.#reads) this.snapshots = snapshots;
    };
    // The lock too: a deploy that holds it must be shown, with the way to break it, when
    // origin cannot be reached for the review.
    const lockRead = commands.lockStatus({ target }).then(
      (lock) => ({ lock }),
      (error: ErrorReport) => ({ error }),
    );
    const keepLock = async () => {
      const read = await lockRead;
      if (!("lock" in read) || this.target !== target || mine !== this.#reads) return read;
      this.lock = read.lock;
      if (session.selected === target) session.lock = read.lock; // the status strip shows it too
      return read;
    };
    try {
      // The target's newest run that may have changed its host, and the deploy a
      // Resume would go on with (the core decides both): Resume is offered with the
      // rest, never a moment after them.
      const [review, last] = await Promise.all([commands.reviewDeploy({ target }), commands.lastRun({ target })]);
      const lock = await keepLock();
      if ("error" in lock) throw lock.error;
      await keepSnapshots();
      if (this.target !== target || mine !== this.#reads) return;
      if (this.approval && this.approval.digest !== review.digest) this.approval = null;
      this.review = review;
      const run = last?.record ?? null;
      this.resumable = last?.resumable ?? null;
      this.lastAttempt = last?.last_attempt ?? null;
      this.interrupted = run?.outcome === "interrupted" ? run : null;
      // This window's own run shows its result, Resume with it.
      const ranHere = this.runTarget === target && this.record?.id === run?.id;
      this.unfinished = this.resumable !== null && !this.interrupted && !ranHere ? run : null;
      this.elsewhere = run?.outcome === "running" && !this.running ? run : null;
      // A read that works again takes its own earlier failure away (not a run's).
      if (this.error !== null && JSON.stringify(this.error) === this.#readError) this.error = null;
      this.#readError = null;
      this.readFailed = false;
      if (this.elsewhere) this.#watchElsewhere(target, this.elsewhere.id);
      if (!this.running && !this.elsewhere) this.stopping = false;
    } catch (e) {
      await keepSnapshots();
      await keepLock();
      if (this.target === target) {
        this.error = e as ErrorReport;
        this.#readError = JSON.stringify(e);
        this.readFailed = true;
      }
    }
  }

  #onEvent(mine: number, event: DeployEvent) {
    if (mine !== this.#runs) return;
    if (event.kind === "step_started") {
      this.#partialLine = "";
      this.steps = [...this.steps, { title: event.title, running: true, output: "", progress: {}, record: null }];
      this.announcement = `${event.title}…`;
    } else if (event.kind === "output") {
      const i = this.steps.length - 1;
      if (i < 0 || !this.steps[i].running) return;
      const output = (this.steps[i].output + event.text).slice(-OUTPUT_TAIL);
      // Each whole line read once, as it comes: a pull's per-layer lines soon push the
      // services' own lines out of the tail.
      const text = this.#partialLine + event.text;
      const cut = text.lastIndexOf("\n") + 1;
      this.#partialLine = text.slice(cut).slice(-OUTPUT_TAIL);
      const services = session.targets.find((t) => t.target.name === this.runTarget)?.services ?? [];
      const progress = { ...this.steps[i].progress, ...progressOf(text.slice(0, cut), services) };
      this.steps = this.steps.map((s, j) => (j === i ? { ...s, output, progress } : s));
    } else if (event.kind === "step_ended") {
      const i = this.steps.map((s) => s.running).lastIndexOf(true);
      const before = i < 0 ? null : this.steps[i];
      const failed = event.step.status === "failed";
      const view = {
        title: event.step.title,
        running: false,
        output: failed ? (before?.output ?? "") : "",
        progress: before?.progress ?? {},
        record: event.step,
      };
      this.steps = i < 0 ? [...this.steps, view] : this.steps.map((s, j) => (j === i ? view : s));
      this.announcement = `${event.step.title}: ${event.step.status}.`;
      // The run holds the host's lock now: the header and the status strip say so.
      if (event.step.step === "lock" && event.step.status === "done") void this.#readLock();
    }
  }

  async #readLock() {
    const target = this.runTarget;
    if (target === null) return;
    try {
      const lock = await commands.lockStatus({ target });
      if (this.target === target) this.lock = lock;
      if (session.selected === target) session.lock = lock;
    } catch {
      // The run's own steps say how it goes; the lock is read again when it ends.
    }
  }

  async #run(kind: "deploy" | "rollback", start: (onEvent: (e: DeployEvent) => void) => Promise<{ record: DeployRecord; error: ErrorReport | null }>) {
    const target = this.target;
    if (target === null || this.running) return;
    const mine = ++this.#runs;
    // A read of the review and lock begun before the run must not land over what the
    // run shows (its own lock, held).
    this.#reads++;
    this.runTarget = target;
    this.running = kind;
    this.stopping = false;
    // What was offered about the last run is read again once this one ends.
    this.interrupted = null;
    this.unfinished = null;
    this.resumable = null;
    this.lastAttempt = null;
    this.steps = [];
    this.record = null;
    this.error = null;
    this.#runError = null;
    try {
      const result = await start((event) => this.#onEvent(mine, event));
      if (mine !== this.#runs) return;
      this.record = result.record;
      // Shown on its own target's page, now or when the operator comes back to it.
      this.#runError = result.error ? { target, error: result.error } : null;
      if (this.target === target) this.error = result.error;
      this.announcement = result.error ? `Stopped: ${result.error.title}.` : `${kind === "deploy" ? "Deploy" : "Rollback"} done.`;
    } catch (e) {
      if (mine === this.#runs) {
        this.#runError = { target, error: e as ErrorReport };
        if (this.target === target) this.error = e as ErrorReport;
      }
    } finally {
      if (mine === this.#runs) {
        this.running = null;
        this.stopping = false;
        // The run's own lock went with it; the refresh reads who holds it now.
        if (this.target === target) this.lock = null;
        void this.refresh();
      }
    }
  }

  /** A reviewer approves the review on screen with their key; an error stays in `error`. */
  async approve(keyName: string, reviewer: string): Promise<boolean> {
    const review = this.review;
    if (review === null) return false;
    this.error = null;
    try {
      // The window runs no migration in a deploy, so it approves none.
      const approval = await commands.approveReview({ review: review.id, keyName, reviewer, migrations: [] });
      if (this.review?.id === review.id) this.approval = approval;
      return true;
    } catch (e) {
      this.error = e as ErrorReport;
      return false;
    }
  }

  /** A deploy; `resume`, a deploy cut short or stopped whose snapshot to keep. */
  deploy(message: string, migrations: string[], resume: string | null = null) {
    const target = this.target!;
    const review = this.approval?.review ?? null;
    // Held to the review on show: if origin moved since, nothing is deployed.
    const shown = this.review;
    const seen = shown ? (shown.commits[0]?.hash ?? shown.head) : null;
    // And to the plan its dialog showed: if the target or its policy changed since, nothing runs.
    const plan = this.plan?.digest ?? null;
    return this.#run("deploy", (onEvent) => commands.deploy({ target, request: { message, migrations, review, resume, seen, plan }, onEvent }));
  }

  /** Looks at the target's last run every few seconds until the run `id` ends, then
   *  reads everything again (its lock is freed, its record complete). */
  #watchElsewhere(target: string, id: string) {
    clearTimeout(this.#watchingElsewhere);
    this.#watchingElsewhere = setTimeout(async () => {
      if (this.target !== target || this.elsewhere?.id !== id) return;
      try {
        const record = (await commands.lastRun({ target }))?.record;
        if (record?.id === id && record.outcome === "running") return this.#watchElsewhere(target, id);
      } catch {
        return this.#watchElsewhere(target, id);
      }
      if (this.target === target) void this.refresh();
    }, ELSEWHERE_POLL_MS);
  }

  /** Asks a run this window did not start (it was reloaded since) to stop once its
   *  current step ends; a run of another process (the CLI) is stopped there. */
  async stopElsewhere() {
    const target = this.target;
    if (target === null || !this.elsewhere) return;
    this.error = null;
    try {
      await commands.stopDeploy({ target });
      this.stopping = true;
      this.announcement = "Stopping once the current step ends.";
    } catch (e) {
      const error = e as ErrorReport;
      this.error = { ...error, remedy: "It runs in another process (the CLI, or another window): stop it there (Ctrl-C in its terminal stops it after the current step)." };
    }
  }

  /** Asks the running deploy or rollback to stop once its current step ends. */
  async stop() {
    if (this.runTarget === null || !this.running) return;
    try {
      await commands.stopDeploy({ target: this.runTarget });
      this.stopping = true;
      this.announcement = "Stopping once the current step ends.";
    } catch (e) {
      this.error = e as ErrorReport;
    }
  }

  /** Reads what a deploy (`resuming`: one that keeps its snapshot) will run. */
  planDeploy(resuming: boolean) {
    return this.#plan((target) => commands.planDeploy({ target, migrations: [], resuming }));
  }

  /** Reads what a rollback to the snapshot of deploy `to` (the newest on show) will run. */
  planRollback(to: string | null) {
    const chosen = to ?? this.snapshots[0]?.deploy ?? null;
    return this.#plan((target) => commands.planRollback({ target, to: chosen }));
  }

  async #plan(read: (target: string) => Promise<RunPlan>) {
    const target = this.target;
    const mine = ++this.#plans;
    this.plan = null;
    this.planError = null;
    if (target === null) return;
    try {
      const plan = await read(target);
      if (mine === this.#plans && this.target === target) this.plan = plan;
    } catch (e) {
      if (mine === this.#plans && this.target === target) this.planError = e as ErrorReport;
    }
  }

  /** Back to the snapshot of deploy `to`, or of the newest deploy on show: named, so
   *  what runs is the snapshot the dialog showed (and its plan, held by its digest). */
  rollback(reason: string, to: string | null = null) {
    const target = this.target!;
    const chosen = to ?? this.snapshots[0]?.deploy ?? null;
    const plan = this.plan?.digest ?? null;
    return this.#run("rollback", (onEvent) => commands.rollback({ target, to: chosen, reason, plan, onEvent }));
  }

  async releaseLock(reason: string) {
    const target = this.target;
    if (target === null) return;
    this.error = null;
    try {
      this.lock = await commands.releaseLock({ target, reason });
      if (session.selected === target) session.lock = this.lock;
    } catch (e) {
      this.error = e as ErrorReport;
    }
  }
}

export const deploy = new DeployStore();
