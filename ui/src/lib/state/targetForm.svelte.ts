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

/** A target's jump hosts as `ssh -J` writes them, for the form to show and the core to
 *  parse back: each hop with its own user (one left out would take the target's user as
 *  it is when saved, changed or not) and an IPv6 address in brackets. */
export const jumpSpecOf = (target: Target) =>
  target.jump
    .map((j) => `${j.user}@${j.host.includes(":") ? `[${j.host}]` : j.host}${j.port === 22 ? "" : `:${j.port}`}`)
    .join(",");
