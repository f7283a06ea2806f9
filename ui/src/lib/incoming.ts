// How a review of incoming commits reads: dates both relative (how stale is this?) and
// absolute (which exact moment, for the record), and git's one-letter file statuses as
// words, so the letter is never the only clue.
import type { ChangedFile } from "./bindings";

/** As many hex digits as `git log --oneline` shows. */
export function shortHash(hash: string): string {
  return hash.slice(0, 7);
}

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * 24 * 3600],
  ["month", 30 * 24 * 3600],
  ["week", 7 * 24 * 3600],
  ["day", 24 * 3600],
  ["hour", 3600],
  ["minute", 60],
];

/** "3 hours ago", "in 2 minutes", "just now"; the ISO text itself if it is not a date. */
export function relativeDate(iso: string, now: Date = new Date()): string {
  const then = new Date(iso);
  if (Number.isNaN(then.getTime())) return iso;
  const seconds = Math.round((then.getTime() - now.getTime()) / 1000);
  const format = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return format.format(Math.trunc(seconds / size), unit);
  }
  return "just now";
}

/** `1 commit`, `3 commits`. */
export const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** The author date as the operator's locale writes a full date and time. */
export function absoluteDate(iso: string): string {
  const then = new Date(iso);
  return Number.isNaN(then.getTime()) ? iso : then.toLocaleString();
}

const STATUS_WORDS: Record<string, string> = {
  A: "added",
  M: "modified",
  D: "deleted",
  R: "renamed",
  C: "copied",
  T: "type changed",
  U: "unmerged",
};

export function statusWord(file: ChangedFile): string {
  return STATUS_WORDS[file.status] ?? "changed";
}
