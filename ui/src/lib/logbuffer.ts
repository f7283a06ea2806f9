// The log viewer's memory: a bounded ring of lines (a follow can run for days; the
// window must not grow without end), what counts as an error line, and how a line is
// cut into styled, highlighted pieces for display. Pure logic, no DOM.
import { PLAIN, parseAnsi, stripAnsi, styleClass, type Segment } from "./ansi";

/** How many lines the viewer keeps; older ones are dropped and counted. */
export const BUFFER_CAPACITY = 50_000;
/** And how much text (UTF-16 code units, ~2 bytes each): lines may be 64 KiB long, and
 *  50,000 of those would be gigabytes. */
export const BUFFER_CHARS = 8_000_000;
/** How many (matching) lines are rendered at once; the rest stay in the buffer. */
export const VIEW_LIMIT = 2_000;
/** How many of those are rendered when lines wrap (each then has a height of its own). */
export const WRAP_LIMIT = 300;
/** The policy's `logs -n 200`: the backlog a follow starts with. */
export const BACKLOG_LINES = 200;

export interface LogLine {
  /** Position in the whole follow, from 1: stable while older lines are dropped. */
  seq: number;
  /** As the host sent it, escapes included. */
  raw: string;
  /** Without escapes: what search and the error check look at. */
  text: string;
  error: boolean;
  /** For a line with escapes: parsed on first display, then kept. A plain line needs no
   *  parse and keeps nothing (a follow shows every line once: ~100 bytes a line saved). */
  segments?: Segment[];
}

/**
 * Lines that need a look: log levels, exceptions and tracebacks, and HTTP 5xx
 * responses. A bare " 5xx " is not enough (a counter passing 500 would turn every
 * line red), so a status needs its context: an access log's `" 502 `, `HTTP/1.1 503`,
 * `status=500`, `response:500`.
 */
const ERROR_PATTERNS = [
  /\b(?:ERROR|FATAL|CRITICAL|PANIC)\b/,
  /\blevel=(?:error|fatal|critical)\b/i,
  /"level"\s*:\s*"(?:error|fatal|critical)"/i,
  /Exception\b/,
  /\bTraceback\b/,
  /\b[A-Z][A-Za-z]*Error:/,
  /" 5\d\d\s/,
  /\bHTTP\/\d(?:\.\d)?"?\s+5\d\d\b/,
  /\b(?:status|status_code|response|code)[=:]\s*"?5\d\d\b/i,
];

export function isErrorLine(text: string): boolean {
  return ERROR_PATTERNS.some((pattern) => pattern.test(text));
}

/** A bounded ring of log lines, oldest first. */
export class LogBuffer {
  private ring: (LogLine | undefined)[];
  private start = 0;
  private count = 0;
  /** Lines received since the last clear, dropped ones included. */
  received = 0;
  /** The text held, in code units (`raw`, and `text` where it differs). */
  private chars = 0;

  constructor(
    readonly capacity = BUFFER_CAPACITY,
    readonly maxChars = BUFFER_CHARS,
  ) {
    this.ring = new Array(capacity);
  }

  get length(): number {
    return this.count;
  }

  /** Lines pushed out of the buffer because it was full. */
  get dropped(): number {
    return this.received - this.count;
  }

  /** The `seq` of the newest line (0 when empty). */
  get lastSeq(): number {
    return this.received;
  }

  push(lines: string[]): void {
    for (const raw of lines) {
      const stripped = stripAnsi(raw);
      const text = stripped === raw ? raw : stripped; // one string held, not two
      const line: LogLine = { seq: ++this.received, raw, text, error: isErrorLine(text) };
      if (this.count === this.capacity) this.dropOldest();
      this.ring[(this.start + this.count) % this.capacity] = line;
      this.count++;
      this.chars += size(line);
      while (this.chars > this.maxChars && this.count > 1) this.dropOldest();
    }
  }

  private dropOldest(): void {
    this.chars -= size(this.ring[this.start]!);
    this.ring[this.start] = undefined;
    this.start = (this.start + 1) % this.capacity;
    this.count--;
  }

  /** Counts `count` lines the core skipped before they reached the viewer as dropped. */
  skip(count: number): void {
    this.received += count;
  }

  clear(): void {
    this.ring = new Array(this.capacity);
    this.start = this.count = this.received = this.chars = 0;
  }

  at(i: number): LogLine {
    return this.ring[(this.start + i) % this.capacity]!;
  }

  /** Every line, oldest first, as the host sent it. */
  raw(): string[] {
    const lines: string[] = [];
    for (let i = 0; i < this.count; i++) lines.push(this.at(i).raw);
    return lines;
  }

  /** The newest `limit` lines passing `filter`, oldest first, and how many pass in all. */
  tail(filter: Filter, limit: number): { lines: LogLine[]; matching: number } {
    // Unfiltered, the lines shown are the newest (up to a pause): no need to look at the
    // whole ring, 50,000 lines, for each batch a follow brings.
    if (!filter.errorsOnly && !(filter.matchesOnly && filter.query.trim() !== "")) {
      const end = filter.upToSeq === null ? this.count : this.countUpTo(filter.upToSeq);
      const lines: LogLine[] = [];
      for (let i = Math.max(0, end - limit); i < end; i++) lines.push(this.at(i));
      return { lines, matching: end };
    }
    const keep = lineFilter(filter);
    const lines: LogLine[] = [];
    let matching = 0;
    for (let i = this.count - 1; i >= 0; i--) {
      const line = this.at(i);
      if (!keep(line)) continue;
      matching++;
      if (lines.length < limit) lines.push(line);
    }
    return { lines: lines.reverse(), matching };
  }

  /** How many lines have a `seq` of at most `seq` (they come first: `seq` only grows). */
  private countUpTo(seq: number): number {
    let low = 0;
    let high = this.count;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.at(middle).seq <= seq) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}

function size(line: LogLine): number {
  return line.raw.length + (line.text === line.raw ? 0 : line.text.length);
}

export interface Filter {
  /** Case-insensitive text to find; empty finds nothing and filters nothing. */
  query: string;
  /** Show only lines containing `query`. */
  matchesOnly: boolean;
  errorsOnly: boolean;
  /** Show nothing newer than this `seq` (the view is paused). */
  upToSeq: number | null;
}

export function matches(text: string, query: string): boolean {
  return query !== "" && text.toLowerCase().includes(query.toLowerCase());
}

export function lineFilter(filter: Filter): (line: LogLine) => boolean {
  const query = filter.query.trim();
  return (line) =>
    (filter.upToSeq === null || line.seq <= filter.upToSeq) &&
    (!filter.errorsOnly || line.error) &&
    (!filter.matchesOnly || query === "" || matches(line.text, query));
}

/** Where `query` occurs in `text`, case-insensitively, as [start, end) pairs. */
export function findRanges(text: string, query: string): [number, number][] {
  if (!query) return [];
  let haystack = text.toLowerCase();
  let needle = query.toLowerCase();
  // Lower-casing a few characters changes their length; then only exact case is safe.
  if (haystack.length !== text.length || needle.length !== query.length) [haystack, needle] = [text, query];
  const ranges: [number, number][] = [];
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + needle.length)) {
    ranges.push([at, at + needle.length]);
  }
  return ranges;
}

export interface Piece {
  text: string;
  /** Class names for the ANSI style. */
  cls: string;
  /** Part of a search match. */
  mark: boolean;
}

/** The line as pieces to render: ANSI styles kept, search matches marked. */
export function pieces(line: LogLine, query: string): Piece[] {
  const segments = line.raw === line.text ? plain(line.raw) : (line.segments ??= parseAnsi(line.raw));
  const ranges = findRanges(line.text, query.trim());
  const result: Piece[] = [];
  let offset = 0;
  let r = 0;
  for (const segment of segments) {
    const cls = styleClass(segment.style);
    const end = offset + segment.text.length;
    let at = offset;
    while (at < end) {
      while (r < ranges.length && ranges[r][1] <= at) r++;
      const range = ranges[r];
      let stop: number;
      let mark = false;
      if (!range || range[0] >= end) stop = end;
      else if (range[0] > at) stop = range[0];
      else {
        stop = Math.min(range[1], end);
        mark = true;
      }
      result.push({ text: segment.text.slice(at - offset, stop - offset), cls, mark });
      at = stop;
    }
    offset = end;
  }
  return result;
}

/** What `parseAnsi` makes of a line with no escape and no control character. */
function plain(text: string): Segment[] {
  return text ? [{ text, style: PLAIN }] : [];
}
