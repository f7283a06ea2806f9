import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Channel } from "@tauri-apps/api/core";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import type { ErrorCode, ErrorReport, LogEvent } from "../bindings";
import { LogBuffer } from "../logbuffer";
import { LogFollow, skippedNote } from "./logs.svelte";

/** What Rust's `Channel::send` does: delivers message number `index` to the channel. */
function push<T>(channel: Channel<T>, index: number, message: T) {
  const internals = (window as unknown as { __TAURI_INTERNALS__: { runCallback(id: number, data: unknown): void } })
    .__TAURI_INTERNALS__;
  internals.runCallback(channel.id, { index, message });
}

/** An error as the core reports it. */
const report = (code: ErrorCode, message: string): ErrorReport => ({
  code, title: "t", message, remedy: "r", detail: null, danger: false,
});

let calls: [string, unknown][];
let events: Channel<LogEvent> | null;

beforeEach(() => {
  calls = [];
  events = null;
  mockIPC((command, args) => {
    calls.push([command, args]);
    if (command === "follow_logs") {
      events = (args as { onEvent: Channel<LogEvent> }).onEvent;
      return { id: 3, target: "a", service: "db", address: "ubuntu@h:22", command: "cd /p && docker compose --profile aws logs -n 200 -f db" };
    }
    return null;
  });
});

afterEach(() => clearMocks());

describe("the log follow store", () => {
  it("says when the lines from before a pause were all pushed out", async () => {
    const follow = new LogFollow(new LogBuffer(4));
    follow.useTarget("a", "def-a");
    await follow.follow("db");
    push(events!, 0, { event: "lines", lines: ["one", "two"], skipped: 0 });
    follow.togglePause();
    push(events!, 1, { event: "lines", lines: ["3", "4"], skipped: 0 });
    expect(follow.pausedLinesGone).toBe(false);
    push(events!, 2, { event: "lines", lines: ["5"], skipped: 0 });
    expect(follow.pausedLinesGone).toBe(false); // "two" is still held
    push(events!, 3, { event: "lines", lines: ["6"], skipped: 0 });
    expect(follow.pausedLinesGone).toBe(true);
    follow.togglePause();
    expect(follow.pausedLinesGone).toBe(false);
    // Paused before any line came: none was pushed out.
    const early = new LogFollow(new LogBuffer(2));
    early.useTarget("a", "def-a");
    await early.follow("db");
    early.togglePause();
    push(events!, 0, { event: "lines", lines: ["1", "2", "3"], skipped: 0 });
    expect(early.pausedLinesGone).toBe(false);
  });

  it("keeps the lines of a follow with no screen open, and ends it when another target is chosen", async () => {
    const follow = new LogFollow();
    follow.useTarget("a", "def-a");
    await follow.follow("db");
    expect(follow.state).toBe("following");
    expect(follow.command).toContain("logs -n 200 -f db");
    push(events!, 0, { event: "lines", lines: ["one", "two"], skipped: 0 });
    push(events!, 1, { event: "lines", lines: ["three"], skipped: 0 });
    expect(follow.buffer.received).toBe(3);

    follow.useTarget("a", "def-a"); // the same target again (the screen reopened): nothing changes
    expect(follow.buffer.received).toBe(3);
    expect(calls.some(([c]) => c === "stop_logs")).toBe(false);

    follow.useTarget("b", "def-b");
    expect(calls).toContainEqual(["stop_logs", { id: 3 }]);
    expect(follow.service).toBeNull();
    expect(follow.state).toBe("idle");
    expect(follow.buffer.received).toBe(0);
    // Late lines of the ended follow are ignored.
    push(events!, 2, { event: "lines", lines: ["late"], skipped: 0 });
    expect(follow.buffer.received).toBe(0);
  });

  it("ends a follow whose target was redefined meanwhile, keeping its lines, and says where a follow runs", async () => {
    const follow = new LogFollow();
    follow.useTarget("a", "def-a");
    await follow.follow("db");
    expect(follow.address).toBe("ubuntu@h:22");
    push(events!, 0, { event: "lines", lines: ["one"], skipped: 0 });
    follow.useTarget("a", "def-a moved to another host");
    expect(calls).toContainEqual(["stop_logs", { id: 3 }]);
    expect(follow.state).toBe("stopped");
    expect(follow.buffer.received).toBe(1);
    expect(follow.announcement).toContain("redefined");
    // Late lines from the old host are ignored.
    push(events!, 1, { event: "lines", lines: ["late"], skipped: 0 });
    expect(follow.buffer.received).toBe(1);
  });

  it("goes on with a follow of the service asked for again, lines and pause kept; another service starts afresh", async () => {
    const follow = new LogFollow();
    follow.useTarget("a", "def-a");
    await follow.follow("db");
    push(events!, 0, { event: "lines", lines: ["Traceback (most recent call last):"], skipped: 0 });
    follow.togglePause();
    await follow.follow("db"); // the dashboard's Logs button, the palette
    expect(calls.filter(([c]) => c === "follow_logs")).toHaveLength(1);
    expect(calls.some(([c]) => c === "stop_logs")).toBe(false);
    expect(follow.buffer.received).toBe(1);
    expect(follow.pausedAt).toBe(1);
    await follow.follow("web");
    expect(calls).toContainEqual(["stop_logs", { id: 3 }]);
    expect(follow.buffer.received).toBe(0);
    expect(follow.pausedAt).toBeNull();
    // Timestamps still start the same service's follow again (they are in its command).
    follow.toggleTimestamps();
    await Promise.resolve();
    expect(calls.filter(([c]) => c === "follow_logs")).toHaveLength(3);
  });

  it("unpauses a view whose follow ended because its target was redefined, and ends the follow when no target is left", async () => {
    const follow = new LogFollow();
    follow.useTarget("a", "def-a");
    await follow.follow("db");
    push(events!, 0, { event: "lines", lines: ["one"], skipped: 0 });
    follow.togglePause();
    follow.useTarget("a", "def-a moved");
    expect(follow.state).toBe("stopped");
    expect(follow.pausedAt).toBeNull();

    const last = new LogFollow();
    last.useTarget("a", "def-a");
    await last.follow("db");
    calls = [];
    last.reset();
    expect(calls).toContainEqual(["stop_logs", { id: 3 }]);
    expect([last.target, last.service, last.state, last.buffer.received]).toEqual([null, null, "idle", 0]);
    push(events!, 1, { event: "lines", lines: ["late"], skipped: 0 });
    expect(last.buffer.received).toBe(0);
  });

  it("acknowledges every batch, those before the follow's id too, and counts skipped lines as dropped", async () => {
    // follow_logs answers only after a first batch arrived: its id is not known yet.
    let answer: () => void = () => {};
    clearMocks();
    mockIPC((command, args) => {
      calls.push([command, args]);
      if (command !== "follow_logs") return null;
      events = (args as { onEvent: Channel<LogEvent> }).onEvent;
      return new Promise((resolve) => {
        answer = () => resolve({ id: 3, target: "a", service: "db", address: "ubuntu@h:22", command: "c" });
      });
    });
    const follow = new LogFollow();
    follow.useTarget("a", "def-a");
    const started = follow.follow("db");
    await new Promise((resolve) => setTimeout(resolve, 0));
    push(events!, 0, { event: "lines", lines: ["early"], skipped: 0 });
    expect(calls.filter(([c]) => c === "ack_log_batch")).toEqual([]);
    answer();
    await started;
    push(events!, 1, { event: "lines", lines: ["newest"], skipped: 1_000 });
    expect(calls.filter(([c]) => c === "ack_log_batch")).toEqual([
      ["ack_log_batch", { id: 3 }],
      ["ack_log_batch", { id: 3 }],
    ]);
    expect(follow.buffer.received).toBe(1_002);
    expect(follow.buffer.dropped).toBe(1_000);
    // The gap is held where it was, not joined over.
    expect(follow.buffer.raw()).toEqual(["early", skippedNote(1_000), "newest"]);
    expect(follow.buffer.raw()[1]).toContain("1,000 lines skipped here");
  });

  it("says how a follow ended: stopped on request, or failed with the core's error", async () => {
    const follow = new LogFollow();
    follow.useTarget("a", "def-a");
    await follow.follow("db");
    follow.stop();
    expect(follow.state).toBe("stopping");
    push(events!, 0, { event: "ended", cancelled: true, exit_code: null, error: null });
    expect(follow.state).toBe("stopped");

    await follow.follow("db");
    const lost = report("connection_lost", "lost");
    push(events!, 0, { event: "ended", cancelled: false, exit_code: null, error: lost });
    expect(follow.state).toBe("failed");
    expect(follow.error).toEqual(lost);
  });
});
