// The target being added or edited on the Targets screen. In a store so that leaving the
// screen (to import or make the key it needs, say) and coming back loses nothing typed.
import type { ErrorReport, Target } from "../bindings";
import * as commands from "../commands";

export class TargetForm {
  /** The draft, and the name it had (`null`: a new target). */
  editing = $state<{ draft: Target; previous: string | null } | null>(null);
  /** The jump hosts as the operator types them (`ssh -J` syntax); the core parses them. */
  jumpSpec = $state("");
  /** The project directory the chosen policy gives: while the draft's is that one (the
   *  operator typed no other), choosing another policy file brings that file's, as
   *  `shipshape target add` without `--dir` takes it. */
  policyDir = $state<string | null>(null);
  /** Why the policy file typed does not read (its line and field), shown beside it. */
  policyProblem = $state<ErrorReport | null>(null);
  #asked = 0;
  #reading: Promise<void> = Promise.resolve();
  /** The policy file last read (`null`: the built-in policy). */
  #readFile: string | null = null;

  /** Begins a new target from the policy's defaults, as the core has them. */
  async begin() {
    const draft = await commands.targetDraft({ policyFile: null });
    this.#readFile = null;
    this.editing = { draft, previous: null };
    this.policyDir = draft.project_dir;
    this.policyProblem = null;
  }

  /** Begins editing a saved target; its policy's directory is learnt, not assumed. */
  edit(target: Target) {
    this.editing = { draft: { ...target }, previous: target.name };
    this.policyDir = null;
    this.policyProblem = null;
    void this.policyChosen();
  }

  /** The policy file field was left: the file is read now (a problem is said at once,
   *  not at Save) and its project directory taken, unless the operator chose one. */
  policyChosen(): Promise<void> {
    this.#reading = this.#read();
    return this.#reading;
  }

  /** The policy file as typed, read: Save waits for it (Enter in the policy field
   *  submits at once, its read under way or not begun), so the directory it brings is
   *  the one saved. */
  settled(): Promise<void> {
    const file = this.editing?.draft.policy_file?.trim() || null;
    return this.editing && file !== this.#readFile ? this.policyChosen() : this.#reading;
  }

  async #read() {
    const editing = this.editing;
    if (!editing) return;
    const asked = ++this.#asked;
    const policyFile = editing.draft.policy_file?.trim() || null;
    this.#readFile = policyFile;
    try {
      const { project_dir } = await commands.targetDraft({ policyFile });
      if (asked !== this.#asked || this.editing !== editing) return;
      this.policyProblem = null;
      if (this.policyDir !== null && editing.draft.project_dir === this.policyDir) {
        editing.draft.project_dir = project_dir;
      }
      this.policyDir = project_dir;
    } catch (e) {
      if (asked !== this.#asked || this.editing !== editing) return;
      this.policyProblem = e as ErrorReport;
    }
  }
}

export const targetForm = new TargetForm();

/** A target's jump hosts as `ssh -J` writes them, for the form to show and the core to
 *  parse back: each hop with its own user (one left out would take the target's user as
 *  it is when saved, changed or not) and an IPv6 address in brackets. */
export const jumpSpecOf = (target: Target) =>
  target.jump
    .map((j) => `${j.user}@${j.host.includes(":") ? `[${j.host}]` : j.host}${j.port === 22 ? "" : `:${j.port}`}`)
    .join(",");
