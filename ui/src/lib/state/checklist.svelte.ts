// The checklist of the selected target: its newest verification (with ticks and
// waivers), a run in progress (items arrive one by one as the core decides them), and
// the reports exported from it. In a store so that leaving the screen keeps a run going
// and coming back shows where it is.
import * as commands from "../commands";
import { newRequest } from "../ipc";
import type { CheckId, CheckItem, Checklist, ErrorReport, ItemChange, ReportExport } from "../bindings";

/** The checklist's items: the policy's nine verification steps and three Never Do rules. */
export const TOTAL_CHECKS = 12;
/** Longer than a double click's two clicks are apart. */
const SETTLE_MS = 600;

export class ChecklistStore {
  target = $state<string | null>(null);
  checklist = $state<Checklist | null>(null);
  /** Items decided so far in the run in progress. */
  arriving = $state<CheckItem[]>([]);
  /** The target a run is in progress on (one at a time): it goes on while another
   *  target's checklist is shown, and shows again when its target is chosen again. */
  runTarget = $state<string | null>(null);
  /** A run is in progress on the target shown. */
  readonly running = $derived(this.runTarget !== null && this.runTarget === this.target);
  /** A run is in progress on another target than the one shown: its name. */
  readonly runningElsewhere = $derived(this.runTarget !== null && this.runTarget !== this.target ? this.runTarget : null);
  /** The run in progress was asked to stop. */
  stopping = $state(false);
  /** The actions (tick, waive, re-run) under way, by the checklist each works on. */
  #working = $state.raw(new Map<string, CheckId>());
  /** How an action on a checklist not on show failed: shown when it is again. */
  #failed = new Map<string, ErrorReport>();
  /** The item of the checklist on show an action is working on: another target's
   *  checklist, shown meanwhile, is not held up by it. */
  get busy(): CheckId | null {
    const id = this.checklist?.id;
    return (id !== undefined && this.#working.get(id)) || null;
  }

  #begin(checklist: string, item: CheckId) {
    this.#working = new Map(this.#working).set(checklist, item);
  }

  #end(checklist: string, error: ErrorReport | null) {
    const working = new Map(this.#working);
    working.delete(checklist);
    this.#working = working;
    if (error === null) return;
    if (this.checklist?.id === checklist) this.error = error;
    else this.#failed.set(checklist, error);
  }
  /** An item just changed: its buttons wait a moment, so the second click of a double
   * click does not land on the button that replaced the first (Tick, then Untick). */
  settling = $state<CheckId | null>(null);
  error = $state<ErrorReport | null>(null);
  exports = $state<ReportExport[]>([]);
  /** For screen readers: what just happened. */
  announcement = $state("");
  readonly items = $derived(this.running ? this.arriving : (this.checklist?.items ?? []));
  readonly recordExports = $derived(this.exports.filter((e) => e.record_id === this.checklist?.id));
  #generation = 0;
  /** How a run ended in error on a target not shown then: shown when it is chosen again. */
  #runError: { target: string; error: ErrorReport } | null = null;
  /** The core's name for the run in progress, by which it is stopped. */
  #request: string | null = null;

  /** The Checklist screen is shown for `target`: shown again, its newest verification
   *  is read afresh (a deploy's last step, or `shipshape verify`, may have recorded a
   *  newer one meanwhile), unless a run of it or an action on the one shown is under
   *  way. */
  async show(target: string) {
    if (this.target !== target) return this.useTarget(target);
    if (this.running || this.busy !== null) return;
    const generation = this.#generation;
    try {
      const latest = await commands.latestChecklist({ target });
      const current = this.target === target && generation === this.#generation;
      if (current && !this.running && this.busy === null) {
        // An error about the checklist it replaces (a refused re-run) is not about it.
        if (latest?.id !== this.checklist?.id) this.error = null;
        this.checklist = latest;
      }
      if (current) await this.loadExports();
    } catch {
      // What is shown stays: the next showing reads again.
    }
  }

  /** Makes the store about `target`, showing its newest verification. */
  async useTarget(target: string) {
    if (this.target === target) return;
    this.#generation++;
    this.target = target;
    this.checklist = null;
    this.error = null;
    if (this.#runError?.target === target) {
      this.error = this.#runError.error;
      this.#runError = null;
    }
    try {
      const latest = await commands.latestChecklist({ target });
      if (this.target === target) {
        this.checklist = latest;
        const failed = latest ? this.#failed.get(latest.id) : undefined;
        if (latest && failed) {
          this.#failed.delete(latest.id);
          this.error = failed;
        }
      }
      await this.loadExports();
    } catch (e) {
      if (this.target === target) this.error = e as ErrorReport;
    }
  }

  /** Runs the verification of the target shown; refused (false) while one runs. */
  async run(): Promise<boolean> {
    const target = this.target;
    if (target === null || this.runTarget !== null) return false;
    this.runTarget = target;
    this.stopping = false;
    this.arriving = [];
    this.error = null;
    this.#runError = null;
    this.announcement = `Verifying ${target}…`;
    const request = (this.#request = newRequest());
    try {
      const checklist = await commands.verify({
        request,
        target,
        onItem: (item) => {
          if (this.#request === request) this.arriving = [...this.arriving, item];
        },
      });
      // Shown if its target is (another target's checklist reads it when chosen again).
      if (this.target === target) this.checklist = checklist;
      const failed = checklist.items.filter((i) => i.status === "fail").length;
      this.announcement = failed ? `Verification of ${target} done: ${failed} failed.` : `Verification of ${target} done: nothing failed.`;
    } catch (e) {
      const error = e as ErrorReport;
      // Stopped on request: the screen goes back to the newest checklist, said so.
      if (this.stopping && error.code === "stopped") this.announcement = "Verification stopped: nothing was recorded.";
      else {
        this.announcement = `Verification of ${target} failed: ${error.title}.`;
        if (this.target === target) this.error = error;
        else this.#runError = { target, error };
      }
    } finally {
      if (this.#request === request) this.#request = null;
      this.runTarget = null;
      this.arriving = [];
      this.stopping = false;
    }
    return true;
  }

  /** Stops the run in progress: its commands end on the host and the journal records
   *  it as cancelled. The items decided so far are dropped with it. */
  async stop() {
    const request = this.#request;
    if (request === null || this.stopping) return;
    this.stopping = true;
    this.announcement = "Stopping the verification…";
    try {
      await commands.cancelOperation({ request });
    } catch (e) {
      this.stopping = false;
      this.error = e as ErrorReport;
    }
  }

  async change(item: CheckId, change: ItemChange) {
    const checklist = this.checklist;
    if (!checklist || this.busy !== null || this.settling === item) return;
    this.#begin(checklist.id, item);
    this.error = null;
    let failed: ErrorReport | null = null;
    try {
      const changed = await commands.changeCheck({ checklist: checklist.id, item, change });
      // Another target's checklist may be on show by now: this answer is not for it.
      if (this.checklist?.id !== checklist.id) return;
      this.checklist = changed;
      this.announcement = `${item}: ${change.change === "waive" ? "waived" : change.change === "tick" ? "ticked" : "unticked"}.`;
      this.settling = item;
      setTimeout(() => {
        if (this.settling === item) this.settling = null;
      }, SETTLE_MS);
    } catch (e) {
      failed = e as ErrorReport;
    } finally {
      this.#end(checklist.id, failed);
    }
  }

  async rerun(item: CheckId) {
    const checklist = this.checklist;
    if (!checklist || this.busy !== null) return;
    this.#begin(checklist.id, item);
    this.error = null;
    let failed: ErrorReport | null = null;
    try {
      const rerun = await commands.rerunCheck({ checklist: checklist.id, item });
      if (this.checklist?.id !== checklist.id) return;
      this.checklist = rerun;
      this.announcement = `${item} ran again.`;
    } catch (e) {
      // Failed on a checklist no longer on show: said when it is shown again.
      failed = e as ErrorReport;
    } finally {
      this.#end(checklist.id, failed);
    }
  }

  async loadExports() {
    this.exports = await commands.reportExports();
  }
}

export const checklist = new ChecklistStore();
