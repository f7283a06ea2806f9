import { describe, expect, it } from "vitest";
import { findRanges, isErrorLine, LogBuffer, pieces, type Filter, type LogLine, type ShownLines } from "./logbuffer";

const ticks = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `tick ${from + i}`);
const noFilter: Filter = { query: "", matchesOnly: true, errorsOnly: false, upToSeq: null };
/** What a filter keeps, line by line: the oracle `tail` is held to. */
const lineFilter = (filter: Filter) => (line: LogLine) => {
  const query = filter.query.trim().toLowerCase();
  return (
    (filter.upToSeq === null || line.seq <= filter.upToSeq) &&
    (!filter.errorsOnly || line.error) &&
    (!filter.matchesOnly || query === "" || line.text.toLowerCase().includes(query))
  );
};
/** The lines of a view, made. */
const made = (view: ShownLines) => Array.from({ length: view.length }, (_, i) => view.at(i));

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
    const view = buffer.tail({ ...noFilter, query: "tick 2" }, 3);
    expect(made(view).map((l) => l.raw)).toEqual(["tick 27", "tick 28", "tick 29"]);
    expect(view.matching).toBe(11); // tick 2, tick 20..29
  });

  it("freezes the view at a line while paused", () => {
    const buffer = new LogBuffer(100);
    buffer.push(ticks(1, 5));
    const frozen = buffer.lastSeq;
    buffer.push(ticks(6, 9));
    expect(made(buffer.tail({ ...noFilter, upToSeq: frozen }, 100)).map((l) => l.raw)).toEqual(ticks(1, 5));
  });

  it("gives, in blocks of any size, what a look at every line gives: the newest passing, up to a pause", () => {
    const pushed: string[] = [];
    for (let n = 1; n <= 80; n++) pushed.push(n % 7 === 0 ? `\x1b[31mERROR\x1b[0m tick ${n}` : n % 5 === 0 ? `\x1b[1mtick ${n}\x1b[0m` : `tick ${n}`);
    for (const blockLines of [1, 3, 4, 7, 16, 256]) {
      const buffer = new LogBuffer(50, 1_000_000, blockLines);
      buffer.push(pushed.slice(0, 40));
      buffer.skip(7); // lines the core skipped: seq jumps
      buffer.push(pushed.slice(40)); // the ring is full and drops the oldest, block by block
      expect(buffer.raw(), `blocks of ${blockLines}`).toEqual(pushed.slice(30));
      const every = Array.from({ length: buffer.length }, (_, i) => buffer.at(i));
      expect(every.map((l) => l.seq)).toEqual([...Array.from({ length: 10 }, (_, i) => 31 + i), ...Array.from({ length: 40 }, (_, i) => 48 + i)]);
      expect(every.map((l) => l.text)).toEqual(pushed.slice(30).map((raw) => raw.replace(/\x1b\[\d+m/g, "")));
      expect(every.filter((l) => l.error).length).toBe(7); // 35, 42, ..., 77
      const everyLine = (filter: Filter, limit: number) => {
        const passing = every.filter(lineFilter(filter));
        return { lines: passing.slice(Math.max(0, passing.length - limit)), matching: passing.length };
      };
      for (const upToSeq of [null, 0, 30, 40, 47, 48, 55, 87, 1000]) {
        for (const limit of [1, 10, 50, 100]) {
          for (const filter of [
            { ...noFilter, upToSeq },
            { ...noFilter, upToSeq, query: "tick 5", matchesOnly: false },
            { ...noFilter, upToSeq, query: " TICK 6" },
            { ...noFilter, upToSeq, errorsOnly: true },
          ]) {
            const view = buffer.tail(filter, limit);
            const expected = everyLine(filter, limit);
            const where = `blocks of ${blockLines}, up to ${upToSeq}, ${limit}, ${JSON.stringify(filter)}`;
            expect(view.matching, where).toBe(expected.matching);
            expect(made(view), where).toEqual(expected.lines);
            expect(Array.from({ length: view.length }, (_, i) => view.seq(i)), where).toEqual(expected.lines.map((l) => l.seq));
          }
        }
      }
    }
  });

  it("names each clear, since seq starts again from 1", () => {
    const buffer = new LogBuffer(10, 1_000_000, 4);
    buffer.push(ticks(1, 6));
    const before = buffer.tail(noFilter, 10);
    buffer.clear();
    buffer.push(["other 1"]);
    const after = buffer.tail(noFilter, 10);
    expect([after.seq(0), after.at(0).raw]).toEqual([1, "other 1"]);
    expect(after.generation).not.toBe(before.generation);
  });

  it("filters error lines, and searches without filtering when asked", () => {
    const buffer = new LogBuffer(100);
    buffer.push(["INFO ok", "\x1b[31mERROR\x1b[0m boom", "INFO fine"]);
    expect(made(buffer.tail({ ...noFilter, errorsOnly: true }, 10)).map((l) => l.text)).toEqual(["ERROR boom"]);
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
    const lines = [0, 1, 2].map((i) => buffer.at(i));
    expect(pieces(lines[0], "FILL")).toEqual([
      { text: "order 12 ", cls: "", mark: false },
      { text: "fill", cls: "", mark: true },
      { text: "ed", cls: "", mark: false },
    ]);
    expect(pieces(lines[1], "")).toEqual([]);
    expect(pieces(lines[2], "")).toEqual([
      { text: "bold", cls: "b", mark: false },
      { text: " tail", cls: "", mark: false },
    ]);
    expect(lines.map((line) => line.segments !== undefined)).toEqual([false, false, true]);
  });

  it("holds a note where lines were skipped, numbered as the last of them, and counts only the host's lines", () => {
    const buffer = new LogBuffer(4, 1_000_000, 2);
    buffer.push(["a", "b"]);
    buffer.skip(10, "10 skipped");
    buffer.push(["c"]);
    expect(buffer.raw()).toEqual(["a", "b", "10 skipped", "c"]);
    expect(Array.from({ length: 4 }, (_, i) => buffer.seqAt(i))).toEqual([1, 2, 12, 13]);
    expect(buffer.received).toBe(13);
    expect(buffer.dropped).toBe(10);
    expect(buffer.tail({ ...noFilter, errorsOnly: true }, 10).matching).toBe(1); // the note shows with errors
    // The ring drops the oldest, the note too in its turn: the count stays the host's.
    buffer.push(["d", "e", "f"]);
    expect(buffer.raw()).toEqual(["c", "d", "e", "f"]);
    expect(buffer.dropped).toBe(12);
  });
});
