// Per-service progress of `docker compose pull` / `up`, read from the lines compose
// prints without a terminal: v2's " backend-aws Pulled" and " Container atp-db-1  Started",
// v1's "Recreating atp_db_1 ... " then "Recreating atp_db_1 ... done".

export type Stage = "waiting" | "working" | "done" | "failed";

/** A stage as the screens show it: a mark beside a word, never colour alone. */
export const STAGE_LOOK: Record<Stage, string> = { waiting: "○ waiting", working: "↻ working", done: "✔ done", failed: "✖ failed" };

const STAGES: Record<string, Stage> = {
  Waiting: "waiting",
  Pulling: "working",
  Downloading: "working",
  Extracting: "working",
  Creating: "working",
  Recreating: "working",
  Starting: "working",
  Stopping: "working",
  Restarting: "working",
  Pulled: "done",
  Skipped: "done",
  Created: "done",
  Recreated: "done",
  Started: "done",
  Running: "done",
  Stopped: "done",
  Healthy: "done",
  Error: "failed",
};

/** Folds output text into a service → stage map, for the services named in `services`. */
export function progressOf(output: string, services: string[]): Record<string, Stage> {
  const stages: Record<string, Stage> = {};
  for (const raw of output.split(/\r?\n/)) {
    const words = raw.replace(/\u001b\[[0-9;]*[A-Za-z]/g, "").trim().split(/\s+/);
    const serviceOf = (word: string) =>
      services.find((s) => word === s || new RegExp(`[-_]${s}[-_]\\d+$`).test(word));
    for (let i = 0; i + 1 < words.length; i++) {
      const [first, second] = [words[i], words[i + 1]];
      if (STAGES[second] && serviceOf(first)) {
        stages[serviceOf(first)!] = STAGES[second]; // v2: NAME Stage
      } else if (STAGES[first] && serviceOf(second)) {
        const last = words[words.length - 1].toLowerCase(); // v1: Stage NAME ... done
        stages[serviceOf(second)!] = last === "done" ? "done" : last === "error" ? "failed" : STAGES[first];
      }
    }
  }
  return stages;
}
