import { describe, expect, it } from "vitest";
import { asErrorReport } from "./api";
import { guidanceFor } from "./errors";

describe("asErrorReport", () => {
  it("passes a core error through unchanged", () => {
    const report = { code: "host_key_mismatch" as const, message: "m", detail: null };
    expect(asErrorReport(report)).toBe(report);
  });

  it("wraps anything else so the UI always has a code", () => {
    expect(asErrorReport("boom")).toEqual({ code: "protocol", message: "boom", detail: null });
  });
});

describe("guidanceFor", () => {
  it("treats a changed host key as danger and says it stopped before authenticating", () => {
    const g = guidanceFor("host_key_mismatch");
    expect(g.severity).toBe("danger");
    expect(g.title.toLowerCase()).toContain("host key does not match");
    expect(g.todo).toContain("before sending your key");
  });
});
