import { describe, expect, it } from "vitest";
import { rank } from "./palette";

const entries = [
  { id: "1", kind: "Screen", label: "Dashboard" },
  { id: "2", kind: "Operation", label: "Restart backend-aws" },
  { id: "3", kind: "Operation", label: "Restart frontend-aws" },
  { id: "4", kind: "Target", label: "prod" },
];

describe("rank", () => {
  it("keeps every entry in order for an empty query", () => {
    expect(rank(entries, "  ").map((e) => e.id)).toEqual(["1", "2", "3", "4"]);
  });
  it("needs every word to start a word of the entry", () => {
    expect(rank(entries, "restart back").map((e) => e.id)).toEqual(["2"]);
    expect(rank(entries, "estart")).toEqual([]);
  });
  it("matches the kind too, earlier words first", () => {
    expect(rank(entries, "target").map((e) => e.id)).toEqual(["4"]);
    expect(rank(entries, "front").map((e) => e.id)).toEqual(["3"]);
  });
});
