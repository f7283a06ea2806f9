import { describe, expect, it } from "vitest";
import { guidanceFor } from "./errors";

describe("guidanceFor", () => {
  it("treats a changed host key as danger and says it stopped before authenticating", () => {
    const g = guidanceFor("host_key_mismatch");
    expect(g.severity).toBe("danger");
    expect(g.title.toLowerCase()).toContain("host key does not match");
    expect(g.todo).toContain("before sending your key");
  });
});
