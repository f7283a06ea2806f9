// The target being added or edited on the Targets screen. In a store so that leaving the
// screen (to import or make the key it needs, say) and coming back loses nothing typed.
import type { Target } from "../bindings";

export class TargetForm {
  /** The draft, and the name it had (`null`: a new target). */
  editing = $state<{ draft: Target; previous: string | null } | null>(null);
  /** The jump hosts as the operator types them (`ssh -J` syntax); the core parses them. */
  jumpSpec = $state("");
}

export const targetForm = new TargetForm();
