// The log viewer's memory: a bounded ring of lines (a follow can run for days; the
// window must not grow without end), what counts as an error line, and how a line is
// cut into styled, highlighted pieces for display. Pure logic, no DOM.
//
// Lines are held in blocks: a full block is one string (its lines end to end) with typed
// arrays for where each line ends, its `seq` and its flags. A held line then costs its
// text and 13 bytes, not an object and a string of its own (a full ring of 50,000 lines
// cost the window 30-36 MB that way). A line with escapes also keeps its text without
// them, which search reads. A `LogLine` is made only for the rows in sight.
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
/** Lines per block: a block is joined into one string when it is full. */
export const BLOCK_LINES = 256;

export interface LogLine {
  /** Position in the whole follow, from 1: stable while older lines are dropped. */
  seq: number;
  /** As the host sent it, escapes included. */
  raw: string;
  /** Without escapes: what search and the error check look at. */
  text: string;
  error: boolean;
  /** For a line with escapes: parsed on first display, then kept while the line is. */
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

const ERROR = 1;
/** The line has escapes or control characters: its text is not its raw form. */
const ESCAPED = 2;
/** Not the host's: a note of where lines were skipped, numbered as the last of them. */
const MARKER = 4;

/** Up to `size` consecutive lines. Open, it holds them as strings; full, as one string
 *  for the lines as sent and, if any had escapes, one for their text without them. */
class Block {
  /** The lines while the block fills; null once joined. */
  lines: string[] | null = [];
  /** Their text without escapes, where that differs (the rest are holes). */
  texts: string[] | null = null;
  joined: Joined | null = null;
  joinedTexts: Joined | null = null;
  readonly seqs: Float64Array;
  readonly flags: Uint8Array;
  count = 0;

  constructor(readonly size: number) {
    this.seqs = new Float64Array(size);
    this.flags = new Uint8Array(size);
  }

  add(raw: string, text: string, seq: number, flags: number): void {
    this.lines!.push(raw);
    if (text !== raw) (this.texts ??= [])[this.count] = text;
    this.seqs[this.count] = seq;
    this.flags[this.count] = flags;
    if (++this.count === this.size) this.join();
  }

  raw(j: number): string {
    return this.lines ? this.lines[j] : this.joined!.at(j);
  }

  text(j: number): string {
    if (!(this.flags[j] & ESCAPED)) return this.raw(j);
    return this.lines ? this.texts![j] : this.joinedTexts!.at(j);
  }

  /** The code units line `j` holds. */
  chars(j: number): number {
    const raw = this.lines ? this.lines[j].length : this.joined!.length(j);
    if (!(this.flags[j] & ESCAPED)) return raw;
    return raw + (this.lines ? this.texts![j].length : this.joinedTexts!.length(j));
  }

  /** Lets go of a dropped line's text while the block is open (joined, it goes with the block). */
  release(j: number): void {
    if (!this.lines) return;
    this.lines[j] = "";
    if (this.texts) this.texts[j] = "";
  }

  private join(): void {
    const lines = this.lines!;
    this.joined = new Joined(lines);
    const texts = this.texts;
    if (texts) this.joinedTexts = new Joined(lines.map((raw, j) => texts[j] ?? raw));
    this.lines = this.texts = null;
  }
}

/** Strings held as one, and where each ends. */
class Joined {
  private readonly all: string;
  private readonly ends: Uint32Array;

  constructor(strings: string[]) {
    this.ends = new Uint32Array(strings.length);
    let end = 0;
    for (let j = 0; j < strings.length; j++) this.ends[j] = end += strings[j].length;
    this.all = strings.join("");
  }

  private start(j: number): number {
    return j === 0 ? 0 : this.ends[j - 1];
  }

  at(j: number): string {
    return this.all.slice(this.start(j), this.ends[j]);
  }

  length(j: number): number {
    return this.ends[j] - this.start(j);
  }
}

/** The lines a view shows: made into `LogLine`s only when asked for. */
export interface ShownLines {
  /** How many lines the view has (at most the limit asked for). */
  readonly length: number;
  /** How many lines pass the filter, shown or not. */
  readonly matching: number;
  /** The buffer's clears so far: a `seq` names one line only between two clears. */
  readonly generation: number;
  /** The `seq` of the view's line `i` (0 = the oldest shown). */
  seq(i: number): number;
  at(i: number): LogLine;
}

/** A bounded ring of log lines, oldest first. */
export class LogBuffer {
  private blocks: Block[] = [];
  /** Lines of the first block already dropped. */
  private start = 0;
  private count = 0;
  /** Lines received since the last clear, dropped ones included. */
  received = 0;
  /** The text held, in code units (as sent, and without escapes where that differs). */
  private chars = 0;
  /** Held lines that are skip markers, not the host's. */
  private markers = 0;
  /** Bumped by each clear: `seq`s start again from 1. */
  private generation = 0;

  constructor(
    readonly capacity = BUFFER_CAPACITY,
    readonly maxChars = BUFFER_CHARS,
    readonly blockLines = BLOCK_LINES,
  ) {}

  get length(): number {
    return this.count;
  }

  /** The host's lines not held: pushed out because the buffer was full, or skipped. */
  get dropped(): number {
    return this.received - (this.count - this.markers);
  }

  /** The `seq` of the newest line (0 when empty). */
  get lastSeq(): number {
    return this.received;
  }

  push(lines: string[]): void {
    for (const raw of lines) {
      const text = stripAnsi(raw);
      this.add(raw, text, ++this.received, (isErrorLine(text) ? ERROR : 0) | (text === raw ? 0 : ESCAPED));
    }
  }

  private add(raw: string, text: string, seq: number, flags: number): void {
    if (this.count === this.capacity) this.dropOldest();
    let last = this.blocks.at(-1);
    if (!last || last.count === this.blockLines) this.blocks.push((last = new Block(this.blockLines)));
    last.add(raw, text, seq, flags);
    this.count++;
    if (flags & MARKER) this.markers++;
    this.chars += last.chars(last.count - 1);
    while (this.chars > this.maxChars && this.count > 1) this.dropOldest();
  }

  private dropOldest(): void {
    const first = this.blocks[0];
    if (first.flags[this.start] & MARKER) this.markers--;
    this.chars -= first.chars(this.start);
    first.release(this.start);
    this.count--;
    if (++this.start === this.blockLines) {
      this.blocks.shift();
      this.start = 0;
    }
  }

  /** Counts `count` lines the core skipped before they reached the viewer as dropped,
   *  and, given a `note`, holds it where they were: the view and a saved file show the
   *  gap instead of joining the lines on either side as if nothing came between. It is
   *  marked as an error line, so a search for errors shows where some may have been. */
  skip(count: number, note?: string): void {
    this.received += count;
    if (count > 0 && note !== undefined) this.add(note, note, this.received, MARKER | ERROR);
  }

  clear(): void {
    this.blocks = [];
    this.start = this.count = this.received = this.chars = this.markers = 0;
    this.generation++;
  }

  /** The line `i` (0 = the oldest held), made now: keep it only while it is shown. */
  at(i: number): LogLine {
    const block = this.blockOf(i);
    const j = this.indexIn(i);
    return { seq: block.seqs[j], raw: block.raw(j), text: block.text(j), error: (block.flags[j] & ERROR) !== 0 };
  }

  /** The `seq` of line `i`, without making the line. */
  seqAt(i: number): number {
    return this.blockOf(i).seqs[this.indexIn(i)];
  }

  private blockOf(i: number): Block {
    return this.blocks[Math.floor((this.start + i) / this.blockLines)];
  }

  private indexIn(i: number): number {
    return (this.start + i) % this.blockLines;
  }

  /** Every line, oldest first, as the host sent it. */
  raw(): string[] {
    const lines: string[] = [];
    for (let i = 0; i < this.count; i++) lines.push(this.at(i).raw);
    return lines;
  }

  /** The newest `limit` lines passing `filter`, oldest first, and how many pass in all. */
  tail(filter: Filter, limit: number): ShownLines {
    const end = filter.upToSeq === null ? this.count : this.countUpTo(filter.upToSeq);
    const query = filter.matchesOnly ? filter.query.trim().toLowerCase() : "";
    // Unfiltered, the lines shown are the newest (up to a pause): no need to look at the
    // whole ring, 50,000 lines, for each batch a follow brings.
    if (!filter.errorsOnly && query === "") {
      const from = Math.max(0, end - limit);
      return this.shown(end - from, end, (i) => from + i);
    }
    const found: number[] = [];
    let matching = 0;
    for (let i = end - 1; i >= 0; i--) {
      const block = this.blockOf(i);
      const j = this.indexIn(i);
      if (filter.errorsOnly && !(block.flags[j] & ERROR)) continue;
      if (query !== "" && !block.text(j).toLowerCase().includes(query)) continue;
      matching++;
      if (found.length < limit) found.push(i);
    }
    found.reverse();
    return this.shown(found.length, matching, (i) => found[i]);
  }

  /** A view of `length` lines, its line `i` being the buffer's line `line(i)`. */
  private shown(length: number, matching: number, line: (i: number) => number): ShownLines {
    const generation = this.generation;
    return { length, matching, generation, seq: (i) => this.seqAt(line(i)), at: (i) => this.at(line(i)) };
  }

  /** How many lines have a `seq` of at most `seq` (they come first: `seq` only grows). */
  private countUpTo(seq: number): number {
    let low = 0;
    let high = this.count;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.seqAt(middle) <= seq) low = middle + 1;
      else high = middle;
    }
    return low;
  }
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
