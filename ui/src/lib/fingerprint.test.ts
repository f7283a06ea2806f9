import { describe, expect, it } from "vitest";
import { compareFingerprint, normalizeFingerprint } from "./fingerprint";

const FP = "SHA256:+p+Z1VF9qrvl6Q0eYxxgc0DZGe5A045pT/o8rvqfmJk";

describe("normalizeFingerprint", () => {
  it("accepts the prefix, no prefix, padding and stray spaces", () => {
    expect(normalizeFingerprint(FP)).toBe(FP);
    expect(normalizeFingerprint(FP.slice(7))).toBe(FP);
    expect(normalizeFingerprint(` ${FP}= `)).toBe(FP);
    expect(normalizeFingerprint("sha256:" + FP.slice(7))).toBe(FP);
  });

  it("refuses what is not a SHA256 fingerprint", () => {
    expect(normalizeFingerprint("MD5:12:34")).toBeNull();
    expect(normalizeFingerprint("SHA256:short")).toBeNull();
  });
});

describe("compareFingerprint", () => {
  it("tells match, mismatch, malformed and empty apart", () => {
    expect(compareFingerprint(FP, FP)).toBe("match");
    expect(compareFingerprint("SHA256:" + "A".repeat(43), FP)).toBe("mismatch");
    expect(compareFingerprint("nope", FP)).toBe("malformed");
    expect(compareFingerprint("  ", FP)).toBe("empty");
  });
});
