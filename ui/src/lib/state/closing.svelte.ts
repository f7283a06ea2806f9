// Closing the window while a deploy or rollback runs. The core holds the close and asks
// here (closing would end the run's connection, and the host would stop the step under
// way: a compose update or a migration cut halfway). The operator keeps the window,
// lets the run stop after its step and then closes, or closes now.
import * as commands from "../commands";
import type { ErrorReport } from "../bindings";
import { deploy } from "./deploy.svelte";

export class CloseAsk {
  /** The targets a close would cut short, while the window asks; null otherwise. */
  targets = $state<string[] | null>(null);
  /** The run was asked to stop: the window closes once it has. */
  afterStop = $state(false);
  /** Whether this page runs the run asked about: one started before a reload runs on
   *  in the core, unseen here, so its end cannot be awaited here. */
  seen = $state(false);
  error = $state<ErrorReport | null>(null);

  /** From start-up on, a close during a run is asked about here. */
  listen() {
    void commands.guardClose({ onClose: (targets) => this.ask(targets) }).catch(() => {});
  }

  ask(targets: string[]) {
    this.targets = targets;
    this.seen = deploy.running !== null;
    this.error = null;
    // Said, so a close asked again waits for this answer: a page that never says so is
    // taken for one that hangs, and the desktop's own dialog asks instead.
    void commands.closeAsked({ targets }).catch(() => {});
  }

  keepOpen() {
    this.targets = null;
    this.afterStop = false;
  }

  /** Closes, cutting the run short: the answer names the targets asked about. */
  async closeNow() {
    const targets = this.targets;
    if (targets === null) return;
    try {
      await commands.closeAnyway({ targets });
    } catch (e) {
      this.error = e as ErrorReport;
      this.afterStop = false;
    }
  }

  /** Asks the run to stop after its current step; `settle` closes once it has. */
  async stopThenClose() {
    this.afterStop = true;
    await deploy.stop();
    if (deploy.error) this.afterStop = false;
    this.settle();
  }

  /** Called as runs end: a close waiting for the stop goes ahead once none runs. */
  settle() {
    if (this.afterStop && !deploy.running) void this.closeNow();
  }
}

export const closing = new CloseAsk();
