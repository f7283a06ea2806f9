import { describe, expect, it } from "vitest";
import { inert } from "./inert";

describe("inert", () => {
  it("shows bidirectional controls by their code and leaves other text alone", () => {
    expect(inert("Fix login \u202Etxt.exe")).toBe("Fix login <U+202E>txt.exe");
    expect(inert("a\u2066b\u2069c")).toBe("a<U+2066>b<U+2069>c");
    expect(inert("Привет, 世界, مرحبا")).toBe("Привет, 世界, مرحبا");
  });
});
