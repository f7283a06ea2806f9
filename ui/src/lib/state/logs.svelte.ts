// The log viewer's follow: which target and service, its state, and the lines received
// (a bounded buffer). In a store rather than the Logs screen so that leaving the screen
// keeps following and coming back shows every line; choosing another target, or
// another service, ends the follow on the host.
import * as commands from "../commands";
import type { ErrorReport, LogEvent } from "../bindings";
import { BACKLOG_LINES, LogBuffer } from "../logbuffer";

export type FollowState = "idle" | "starting" | "following" | "stopping" | "stopped" | "ended" | "failed";

export class LogFollow {
  /** `buffer`: the lines held (a test's smaller one). */
  constructor(readonly buffer = new LogBuffer()) {}

  /** Bumped whenever the (non-reactive) buffer changes. */
  version = $state(0);
  target = $state<string | null>(null);
  service = $state<string | null>(null);
  state = $state<FollowState>("idle");
  /** The command running on the host, as the core reported it. */
  command = $state<string | null>(null);
  /** Where it runs (`user@host:port`), as the core reported it when it started. */
  address = $state<string | null>(null);
  error = $state<ErrorReport | null>(null);
  timestamps = $state(false);
  /** The buffer position the view is frozen at, while paused. */
  pausedAt = $state<number | null>(null);
  /** For screen readers: what just happened. */
  announcement = $state("");
  readonly active = $derived(this.state === "starting" || this.state === "following");
  #id: number | null = null;
  /** Batches taken before the follow's id was known, still to acknowledge. */
  #unacknowledged = 0;
  /** Events of a follow started before the current one are ignored. */
  #generation = 0;
  /** The target's definition (its address, key, route) the store is about. */
  #definition: string | null = null;

  /** Makes the store about `target` as `definition` defines it: a follow of another
   *  target ends, and so does one of this target redefined meanwhile (the CLI, another
   *  window), which reads the old definition's host: its lines stay, said to be over. */
  useTarget(target: string, definition: string) {
    if (this.target === target && this.#definition === definition) return;
    const redefined = this.target === target;
    this.#definition = definition;
    if (redefined) {
      if (!this.active) return;
      this.#stopCurrent();
      this.pausedAt = null; // its end is ignored now, which is what would unpause
      this.state = "stopped";
      this.announcement = `${target} was redefined: the follow of its old host ended.`;
      return;
    }
    this.#stopCurrent();
    this.target = target;
    this.service = null;
    this.buffer.clear();
    this.version++;
    this.state = "idle";
    this.command = null;
    this.error = null;
    this.pausedAt = null;
  }

  /** Follows `service`: a follow of it already running goes on, lines and pause kept
   *  (the dashboard's Logs button and the palette only bring its screen back). */
  async follow(service: string) {
    if (this.service === service && this.active) return;
    await this.#start(service);
  }

  /** No target any more (the last one removed): the follow ends on the host. */
  reset() {
    this.#stopCurrent();
    this.target = this.service = this.#definition = null;
    this.buffer.clear();
    this.version++;
    this.state = "idle";
    this.command = null;
    this.address = null;
    this.error = null;
    this.pausedAt = null;
  }

  async #start(service: string) {
    const target = this.target;
    if (target === null) return;
    this.#stopCurrent();
    const mine = ++this.#generation;
    this.service = service;
    this.buffer.clear();
    this.version++;
    this.pausedAt = null;
    this.error = null;
    this.command = null;
    this.address = null;
    this.state = "starting";
    try {
      const started = await commands.followLogs({
        target,
        service,
        lines: BACKLOG_LINES,
        timestamps: this.timestamps,
        onEvent: (event) => this.#onEvent(mine, event),
      });
      if (mine !== this.#generation) {
        void commands.stopLogs({ id: started.id });
        return;
      }
      this.command = started.command;
      this.address = started.address;
      if (this.state === "starting") {
        this.#id = started.id;
        for (; this.#unacknowledged > 0; this.#unacknowledged--) void commands.ackLogBatch({ id: started.id });
        this.state = "following";
        this.announcement = `Following the logs of ${service}.`;
      }
    } catch (e) {
      if (mine !== this.#generation) return;
      this.error = e as ErrorReport;
      this.state = "failed";
    }
  }

  #onEvent(mine: number, event: LogEvent) {
    if (mine !== this.#generation) return;
    if (event.event === "lines") {
      // The core sends the next batch only for this acknowledgement, so a host that
      // writes faster than the window shows cannot pile batches up in its memory; what
      // it skipped meanwhile is counted with the dropped lines.
      if (this.#id !== null) void commands.ackLogBatch({ id: this.#id });
      else this.#unacknowledged++;
      this.buffer.skip(event.skipped, skippedNote(event.skipped));
      this.buffer.push(event.lines);
      this.version++;
      return;
    }
    this.#id = null;
    this.pausedAt = null;
    this.error = event.error;
    this.state = event.error ? "failed" : event.cancelled ? "stopped" : "ended";
    this.announcement = event.error
      ? "The log follow failed."
      : event.cancelled
        ? "Stopped following."
        : "The log stream ended.";
  }

  /** Asks the host to stop; the follow's `ended` event then says it did. */
  stop() {
    if (this.#id === null) return;
    this.state = "stopping";
    void commands.stopLogs({ id: this.#id });
  }

  /** Paused, and every line from before the pause pushed out by newer ones the buffer
   *  keeps: an empty view then says so, not "no line matches". */
  get pausedLinesGone(): boolean {
    void this.version;
    const at = this.pausedAt;
    // Paused with nothing held yet (at 0), nothing was there to push out.
    return at !== null && at > 0 && this.buffer.length > 0 && this.buffer.seqAt(0) > at;
  }

  togglePause() {
    const paused = this.pausedAt !== null;
    this.pausedAt = paused ? null : this.buffer.lastSeq;
    this.announcement = paused ? "View resumed." : "View paused; new lines are still received.";
  }

  /** Timestamps are part of the command: a running (or finished) follow starts again. */
  toggleTimestamps() {
    this.timestamps = !this.timestamps;
    if (this.service && (this.active || this.state === "stopped" || this.state === "ended")) void this.#start(this.service);
  }

  /** Ends the current follow on the host; its events are ignored from now on. */
  #stopCurrent() {
    this.#generation++;
    if (this.#id !== null) void commands.stopLogs({ id: this.#id });
    this.#id = null;
  }
}

export const logFollow = new LogFollow();

/** The line held where lines were skipped. */
export function skippedNote(count: number): string {
  const lines = count === 1 ? "1 line" : `${count.toLocaleString("en-US")} lines`;
  return `[shipshape] ${lines} skipped here: the host wrote faster than the window shows. Follow again, or read them with \`logs -n\`.`;
}
