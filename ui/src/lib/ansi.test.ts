import { describe, expect, it } from "vitest";
import { applySgr, from256, parseAnsi, PLAIN, stripAnsi, styleClass } from "./ansi";

const texts = (line: string) => parseAnsi(line).map((s) => [s.text, styleClass(s.style)]);

describe("parseAnsi", () => {
  it("splits a coloured line into styled segments", () => {
    expect(texts("\x1b[1;31mERROR\x1b[0m db down")).toEqual([["ERROR", "fg1 b"], [" db down", ""]]);
  });

  it("drops compose's erase-line and other non-colour sequences", () => {
    expect(texts("\x1b[2Kdb-1  | ready\x1b[?25l")).toEqual([["db-1  | ready", ""]]);
    expect(texts("a\x1b]0;title\x07b\x1b]8;;http://x\x1b\\c")).toEqual([["abc", ""]]);
  });

  it("keeps styles across resets of single attributes", () => {
    expect(texts("\x1b[4;32mok\x1b[24m green\x1b[39m plain")).toEqual([["ok", "fg2 u"], [" green", "fg2"], [" plain", ""]]);
  });

  it("maps bright, background, 256 and true colours onto the 16-colour palette", () => {
    expect(styleClass(applySgr(PLAIN, "91;104"))).toBe("fg9 bg12");
    expect(styleClass(applySgr(PLAIN, "38;5;196"))).toBe("fg9");
    expect(styleClass(applySgr(PLAIN, "38;2;0;200;0"))).toBe("fg2");
    expect(styleClass(applySgr(PLAIN, "48;5;3"))).toBe("bg3");
    expect(from256(244)).toBe(8);
  });

  it("treats an empty SGR as a reset and survives malformed ones", () => {
    expect(texts("\x1b[31mred\x1b[mplain")).toEqual([["red", "fg1"], ["plain", ""]]);
    expect(texts("\x1b[38;5mx")).toEqual([["x", ""]]);
    expect(texts("\x1b[31")).toEqual([["[31", ""]]);
  });

  it("never lets markup through: text stays text", () => {
    expect(texts("<img src=x onerror=alert(1)>")).toEqual([["<img src=x onerror=alert(1)>", ""]]);
  });

  it("removes control characters but keeps tabs", () => {
    expect(stripAnsi("a\tb\r\x07\x1b[0mc")).toBe("a\tbc");
  });

  it("strips to exactly the text of its segments", () => {
    for (const line of ["\x1b[2K\x1b[31mx\x1b[0m\ty\r", "plain", "\x1b]0;t\x07€ 5\x1b[1m0\x1b[22m0"]) {
      expect(parseAnsi(line).map((s) => s.text).join("")).toBe(stripAnsi(line));
    }
  });
});
