// The command palette's open state, and an operation it asked the dashboard to start:
// the dashboard owns the operation dialog, so the palette hands the request over here.
import type { Operation } from "../bindings";

class Palette {
  open = $state(false);
  /** Asked for on `target`: only that target's dashboard opens it; any other drops it. */
  requested = $state<{ target: string; operation: Operation } | null>(null);
}

export const palette = new Palette();
