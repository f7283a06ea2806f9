// How a run ended, in the words the console uses: the core says whether it ran to its
// end, was cancelled, timed out, was interrupted or never started; the exit code says how an end went.
import type { RunOutcome } from "./bindings";

export interface OutcomeLabel {
  text: string;
  ok: boolean;
}

export function outcomeLabel(outcome: RunOutcome, exitCode: number | null): OutcomeLabel {
  switch (outcome) {
    case "cancelled":
      return { text: "■ Stopped on request", ok: false };
    case "timed_out":
      return { text: "⏱ Timed out (ended on the host)", ok: false };
    case "interrupted":
      return { text: "⚠ Interrupted: never finished", ok: false };
    case "not_started":
      return { text: "⊘ Not started: the host was not reached", ok: false };
    case "running":
      return { text: "… Running", ok: true };
    case "exited":
      return exitCode === 0 ? { text: "✔ Done", ok: true } : { text: `✖ Failed (exit code ${exitCode ?? "none"})`, ok: false };
  }
}
