// The env file editor of the selected target: its keys (names only, never values), and
// the last save with what it changed and where the old file was kept. A value the
// operator types goes straight into one call and is not kept here.
import * as commands from "../commands";
import type { EnvKeys, EnvSaved, ErrorReport } from "../bindings";

export class EnvStore {
  target = $state<string | null>(null);
  keys = $state<EnvKeys | null>(null);
  saved = $state<EnvSaved | null>(null);
  error = $state<ErrorReport | null>(null);
  busy = $state(false);

  /** The screen is shown for `target`: its keys are read afresh (the CLI or another
   *  operator may have changed the file), and a save's report is kept only while the
   *  same target stays on show. */
  async show(target: string) {
    if (this.target !== target) return this.useTarget(target);
    this.error = null;
    await this.refresh();
  }

  async useTarget(target: string) {
    if (this.target === target) return;
    this.target = target;
    this.keys = null;
    this.saved = null;
    this.error = null;
    await this.refresh();
  }

  async refresh() {
    const target = this.target;
    if (target === null) return;
    try {
      const keys = await commands.envKeys({ target });
      if (this.target === target) this.keys = keys;
    } catch (e) {
      if (this.target === target) this.error = e as ErrorReport;
    }
  }

  async #save(change: () => Promise<EnvSaved>): Promise<boolean> {
    const target = this.target;
    this.busy = true;
    this.error = null;
    try {
      const saved = await change();
      // Saved on `target`: another target chosen since shows none of it (nor its
      // offer to update the services).
      if (this.target !== target) return true;
      this.saved = saved;
      await this.refresh();
      return true;
    } catch (e) {
      if (this.target === target) this.error = e as ErrorReport;
      return false;
    } finally {
      this.busy = false;
    }
  }

  set(key: string, value: string) {
    const target = this.target!;
    return this.#save(() => commands.setEnvKey({ target, key, value }));
  }

  unset(key: string) {
    const target = this.target!;
    return this.#save(() => commands.unsetEnvKey({ target, key }));
  }
}

export const envFile = new EnvStore();
