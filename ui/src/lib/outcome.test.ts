import { describe, expect, it } from "vitest";
import { outcomeLabel } from "./outcome";

describe("outcomeLabel", () => {
  it("tells an end from a stop, a timeout and a lost connection", () => {
    expect(outcomeLabel("exited", 0)).toEqual({ text: "✔ Done", ok: true });
    expect(outcomeLabel("exited", 2).text).toBe("✖ Failed (exit code 2)");
    expect(outcomeLabel("cancelled", null).text).toContain("Stopped");
    expect(outcomeLabel("timed_out", null).text).toContain("Timed out");
    expect(outcomeLabel("interrupted", null)).toEqual({ text: "⚠ Interrupted: never finished", ok: false });
    expect(outcomeLabel("not_started", null).text).toContain("Not started");
  });
});
