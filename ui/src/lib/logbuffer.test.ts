import { describe, expect, it } from "vitest";
import { findRanges, isErrorLine, lineFilter, LogBuffer, pieces, type Filter } from "./logbuffer";

const ticks = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `tick ${from + i}`);
const noFilter: Filter = { query: "", matchesOnly: true, errorsOnly: false, upToSeq: null };

describe("LogBuffer", () => {
  it("keeps the newest lines up to its capacity and counts the dropped ones", () => {
    const buffer = new LogBuffer(3);
    buffer.push(ticks(1, 2));
    expect(buffer.raw()).toEqual(["tick 1", "tick 2"]);
    buffer.push(ticks(3, 5));
    expect(buffer.raw()).toEqual(["tick 3", "tick 4", "tick 5"]);
    expect([buffer.length, buffer.dropped, buffer.received, buffer.lastSeq]).toEqual([3, 2, 5, 5]);
    buffer.clear();
    expect([buffer.length, buffer.dropped]).toEqual([0, 0]);
  });

  it("keeps its text under a bound too: long lines push out old ones, and the newest stays", () => {
    const buffer = new LogBuffer(1000, 100);
    buffer.push(["a".repeat(40), "b".repeat(40), "c".repeat(40)]);
    expect(buffer.raw()).toEqual(["b".repeat(40), "c".repeat(40)]);
    expect(buffer.dropped).toBe(1);
    buffer.push(["\x1b[31m" + "d".repeat(150) + "\x1b[0m"]); // alone over the bound: still shown
    expect(buffer.length).toBe(1);
    expect(buffer.at(0).text).toBe("d".repeat(150));
    buffer.push(["e"]);
    expect(buffer.raw()).toEqual(["e"]);
    expect(buffer.received).toBe(5);
  });

  it("gives the newest matching lines for the view, oldest first, with the total", () => {
    const buffer = new LogBuffer(100);
    buffer.push(ticks(1, 30));
    const { lines, matching } = buffer.tail({ ...noFilter, query: "tick 2" }, 3);
    expect(lines.map((l) => l.raw)).toEqual(["tick 27", "tick 28", "tick 29"]);
    expect(matching).toBe(11); // tick 2, tick 20..29
  });

  it("freezes the view at a line while paused", () => {
    const buffer = new LogBuffer(100);
    buffer.push(ticks(1, 5));
    const frozen = buffer.lastSeq;
    buffer.push(ticks(6, 9));
    const { lines } = buffer.tail({ ...noFilter, upToSeq: frozen }, 100);
    expect(lines.map((l) => l.raw)).toEqual(ticks(1, 5));
  });

  it("gives, unfiltered, what a look at every line gives: the newest, up to a pause", () => {
    const buffer = new LogBuffer(50);
    buffer.push(ticks(1, 40));
    buffer.skip(7); // lines the core skipped: seq jumps
    buffer.push(ticks(41, 80)); // the ring wraps and drops the oldest
    const everyLine = (filter: Filter, limit: number) => {
      const passing = Array.from({ length: buffer.length }, (_, i) => buffer.at(i)).filter(lineFilter(filter));
      return { lines: passing.slice(Math.max(0, passing.length - limit)), matching: passing.length };
    };
    const seqs = [null, 0, 30, 47, 48, 55, 87, 1000];
    for (const upToSeq of seqs) {
      for (const limit of [1, 10, 50, 100]) {
        for (const filter of [{ ...noFilter, upToSeq }, { ...noFilter, upToSeq, query: "tick 5", matchesOnly: false }]) {
          const { lines, matching } = buffer.tail(filter, limit);
          const expected = everyLine(filter, limit);
          expect(matching, `up to ${upToSeq}, ${limit}`).toBe(expected.matching);
          expect(lines.map((l) => l.seq)).toEqual(expected.lines.map((l) => l.seq));
        }
      }
    }
  });

  it("filters error lines, and searches without filtering when asked", () => {
    const buffer = new LogBuffer(100);
    buffer.push(["INFO ok", "\x1b[31mERROR\x1b[0m boom", "INFO fine"]);
    expect(buffer.tail({ ...noFilter, errorsOnly: true }, 10).lines.map((l) => l.text)).toEqual(["ERROR boom"]);
    expect(buffer.tail({ ...noFilter, query: "fine", matchesOnly: false }, 10).matching).toBe(3);
  });
});

describe("isErrorLine", () => {
  it("finds levels, exceptions, tracebacks and HTTP 5xx", () => {
    for (const line of [
      "2024-06-01 ERROR database unreachable",
      'time=1 level=error msg="boom"',
      '{"level":"error","msg":"x"}',
      "Traceback (most recent call last):",
      "java.lang.IllegalStateException: bad",
      "ValueError: invalid literal",
      '127.0.0.1 - - [01/Jun/2024] "GET /api HTTP/1.1" 502 12',
      "[::1]:4000: response:500",
      "upstream status=503",
    ]) {
      expect(isErrorLine(line), line).toBe(true);
    }
  });

  it("leaves ordinary lines alone, including numbers that merely look like 5xx", () => {
    for (const line of [
      "INFO market-updater: tick 500 BTC-USD price updated",
      "[::1]:4000: response:200",
      "0 errors, 12 warnings",
      '"GET / HTTP/1.1" 200 512',
      "LOG:  database system is ready to accept connections",
    ]) {
      expect(isErrorLine(line), line).toBe(false);
    }
  });
});

describe("search highlighting", () => {
  it("finds every match case-insensitively", () => {
    expect(findRanges("Tick tick TICK", "tick")).toEqual([[0, 4], [5, 9], [10, 14]]);
    expect(findRanges("abc", "")).toEqual([]);
  });

  it("marks matches across colour boundaries without losing the colours", () => {
    const buffer = new LogBuffer(10);
    buffer.push(["\x1b[32mtic\x1b[0mk 1"]);
    expect(pieces(buffer.at(0), "TICK")).toEqual([
      { text: "tic", cls: "fg2", mark: true },
      { text: "k", cls: "", mark: true },
      { text: " 1", cls: "", mark: false },
    ]);
    expect(pieces(buffer.at(0), "")).toEqual([
      { text: "tic", cls: "fg2", mark: false },
      { text: "k 1", cls: "", mark: false },
    ]);
  });

  it("renders a plain line without parsing it, and keeps parsed pieces only for lines with escapes", () => {
    const buffer = new LogBuffer(10);
    buffer.push(["order 12 filled", "", "\x1b[1mbold\x1b[0m tail"]);
    expect(pieces(buffer.at(0), "FILL")).toEqual([
      { text: "order 12 ", cls: "", mark: false },
      { text: "fill", cls: "", mark: true },
      { text: "ed", cls: "", mark: false },
    ]);
    expect(pieces(buffer.at(1), "")).toEqual([]);
    expect(pieces(buffer.at(2), "")).toEqual([
      { text: "bold", cls: "b", mark: false },
      { text: " tail", cls: "", mark: false },
    ]);
    expect([0, 1, 2].map((i) => buffer.at(i).segments !== undefined)).toEqual([false, false, true]);
  });
});
