import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Channel } from "@tauri-apps/api/core";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import type { ErrorCode, ErrorReport, LiveStatus, StatusReport, TargetSummary } from "../bindings";
import { RESUBSCRIBE_AFTER_MS, TargetSession } from "./session.svelte";

const summary = (name: string): TargetSummary => ({
  target: { name, host: "h", port: 22, user: "ubuntu", project_dir: "/p", key: "k", policy_file: null, environment: "production" as const, jump: [] },
  address: "ubuntu@h:22",
  host_key: "SHA256:x",
  services: ["db"],
  status_command: "cd /p && docker compose --profile aws ps --all --format json",
});

const report = (target: string): StatusReport => ({
  target,
  address: "ubuntu@h:22",
  host_key: "SHA256:x",
  command: "cd /p && docker compose --profile aws ps --all --format json",
  checked_at: "2026-11-26T10:00:00Z",
  services: [],
});

/** What Rust's `Channel::send` does: delivers message number `index` to the channel. */
function push<T>(channel: Channel<T>, index: number, message: T) {
  const internals = (window as unknown as { __TAURI_INTERNALS__: { runCallback(id: number, data: unknown): void } })
    .__TAURI_INTERNALS__;
  internals.runCallback(channel.id, { index, message });
}

/** An error as the core reports it. */
const failure = (code: ErrorCode, message: string): ErrorReport => ({
  code, title: "t", message, remedy: "r", detail: null, danger: false,
});

let calls: string[];
let watchChannel: Channel<LiveStatus> | null;
let watchKnown: string | null | undefined;

beforeEach(() => {
  calls = [];
  watchChannel = null;
  watchKnown = undefined;
  mockIPC((command, args) => {
    calls.push(command);
    const target = (args as { target?: string }).target ?? "";
    if (command === "list_targets") return [summary("a"), summary("b")];
    if (command === "service_status") return report(target);
    if (command === "lock_status")
      return target === "a"
        ? { held: true, holder: { operator: "ann", key_fingerprint: "SHA256:k", machine: "m", since: "t", message: "release", deploy: "d" } }
        : { held: false, holder: null };
    if (command === "watch_status") {
      watchChannel = (args as { onStatus: Channel<LiveStatus> }).onStatus;
      watchKnown = (args as { known: string | null }).known;
      return 7;
    }
    return null;
  });
});

afterEach(() => {
  clearMocks();
  vi.useRealTimers();
});

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("the target session store", () => {
  it("keeps the newest target list when two reads answer out of order", async () => {
    // The first read (the CLI's add) answers after the second (its remove).
    const answers: ((list: TargetSummary[]) => void)[] = [];
    mockIPC((command) => (command === "list_targets" ? new Promise((resolve) => answers.push(resolve)) : null));
    const session = new TargetSession();
    const older = session.loadTargets();
    const newer = session.loadTargets();
    answers[1]([summary("a")]);
    await newer;
    answers[0]([summary("a"), summary("scratch")]);
    await older;
    expect(session.targets.map((t) => t.target.name)).toEqual(["a"]);
  });

  it("reads the host's deploy lock after connecting, and forgets it with another target", async () => {
    const session = new TargetSession();
    await session.loadTargets();
    session.select("a");
    await session.refresh();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(session.lock?.held).toBe(true);
    expect(session.lock?.holder?.operator).toBe("ann");
    session.select("b");
    expect(session.lock).toBeNull();
    session.stopWatch();
  });

  it("keeps the live watch of the selected target until another is chosen", async () => {
    const session = new TargetSession();
    await session.loadTargets();
    expect(session.selected).toBe("a");
    await session.refresh();
    await settle();
    expect(session.connection).toBe("connected");
    expect(session.watch).toBe(7);
    // The snapshot just read stands as the watch's first: the core is told when it was read.
    expect(watchKnown).toBe("2026-11-26T10:00:00Z");
    // A snapshot from the watch updates the state any screen reads.
    push(watchChannel!, 0, { kind: "snapshot", report: { ...report("a"), checked_at: "2026-11-26T10:05:00Z" } });
    expect(session.report?.checked_at).toBe("2026-11-26T10:05:00Z");
    expect(calls).not.toContain("stop_watch");

    session.select("b");
    expect(calls).toContain("stop_watch");
    expect(session.watch).toBeNull();
    expect(session.report).toBeNull();
    expect(session.connection).toBe("disconnected");
  });

  it("shows a watch that ended with a lost connection, then subscribes again by itself", async () => {
    vi.useFakeTimers();
    const session = new TargetSession();
    await session.loadTargets();
    await session.refresh();
    await vi.runOnlyPendingTimersAsync();
    const lost = failure("connection_lost", "The connection to h was lost.");
    push(watchChannel!, 0, { kind: "ended", error: lost });
    expect(session.connection).toBe("failed");
    expect(session.error).toEqual(lost);
    expect(session.watch).toBeNull();

    const before = calls.filter((c) => c === "service_status").length;
    await vi.advanceTimersByTimeAsync(RESUBSCRIBE_AFTER_MS);
    expect(calls.filter((c) => c === "service_status").length).toBe(before + 1);
    expect(session.connection).toBe("connected");
  });

  it("does not subscribe again when the host's identity is in question", async () => {
    vi.useFakeTimers();
    const session = new TargetSession();
    await session.loadTargets();
    await session.refresh();
    await vi.runOnlyPendingTimersAsync();
    const mismatch = failure("host_key_mismatch", "changed");
    push(watchChannel!, 0, { kind: "ended", error: mismatch });
    const before = calls.filter((c) => c === "service_status").length;
    await vi.advanceTimersByTimeAsync(RESUBSCRIBE_AFTER_MS * 2);
    expect(calls.filter((c) => c === "service_status").length).toBe(before);
  });

  it("keeps trying a lost live view through an outage, waiting longer each time", async () => {
    vi.useFakeTimers();
    // Once the view is lost, the host is down for two retries (an EC2 reboot), then answers.
    let down = 0;
    let refusing = false;
    mockIPC((command, args) => {
      calls.push(command);
      if (command === "list_targets") return [summary("a")];
      if (command === "service_status") {
        if (down-- > 0) {
          if (refusing) {
            refusing = false;
            throw failure("connection_refused", "h:22 refused the connection.");
          }
          throw failure("timeout", "no answer");
        }
        return report((args as { target: string }).target);
      }
      if (command === "watch_status") {
        watchChannel = (args as { onStatus: Channel<LiveStatus> }).onStatus;
        return 8;
      }
      return null;
    });
    const session = new TargetSession();
    await session.loadTargets();
    await session.refresh();
    await vi.runOnlyPendingTimersAsync();
    const lost = failure("connection_lost", "The connection to h was lost.");
    down = 2;
    refusing = true; // the first retry finds sshd not listening yet, the second no answer
    push(watchChannel!, 0, { kind: "ended", error: lost });
    const reads = () => calls.filter((c) => c === "service_status").length;
    const before = reads();
    await vi.advanceTimersByTimeAsync(RESUBSCRIBE_AFTER_MS);
    expect(reads()).toBe(before + 1);
    expect(session.connection).toBe("failed");
    await vi.advanceTimersByTimeAsync(RESUBSCRIBE_AFTER_MS * 2 - 1);
    expect(reads()).toBe(before + 1); // the second wait is twice as long
    await vi.advanceTimersByTimeAsync(1);
    expect(reads()).toBe(before + 2);
    await vi.advanceTimersByTimeAsync(RESUBSCRIBE_AFTER_MS * 4);
    expect(reads()).toBe(before + 3);
    expect(session.connection).toBe("connected");
    expect(session.watch).toBe(8);
  });

  it("keeps trying through a dropped network: the host's name unresolved, a handshake reset", async () => {
    vi.useFakeTimers();
    const outage = [failure("name_not_resolved", "h is not known."), failure("protocol", "connection reset")];
    mockIPC((command, args) => {
      calls.push(command);
      if (command === "list_targets") return [summary("a")];
      if (command === "service_status") {
        const fault = calls.filter((c) => c === "service_status").length > 1 ? outage.shift() : undefined;
        if (fault) throw fault;
        return report((args as { target: string }).target);
      }
      if (command === "watch_status") {
        watchChannel = (args as { onStatus: Channel<LiveStatus> }).onStatus;
        return 8;
      }
      return null;
    });
    const session = new TargetSession();
    await session.loadTargets();
    await session.refresh();
    await vi.runOnlyPendingTimersAsync();
    push(watchChannel!, 0, { kind: "ended", error: failure("connection_lost", "lost") });
    await vi.advanceTimersByTimeAsync(RESUBSCRIBE_AFTER_MS);
    expect(session.error?.code).toBe("name_not_resolved");
    await vi.advanceTimersByTimeAsync(RESUBSCRIBE_AFTER_MS * 2);
    expect(session.error?.code).toBe("protocol");
    await vi.advanceTimersByTimeAsync(RESUBSCRIBE_AFTER_MS * 4);
    expect(session.connection).toBe("connected");
    expect(session.error).toBeNull();
  });

  it("takes a failed Refresh's error down when the live view brings the services back", async () => {
    let failing = false;
    mockIPC((command, args) => {
      calls.push(command);
      if (command === "list_targets") return [summary("a")];
      if (command === "service_status") {
        if (failing) throw failure("timeout", "no answer in time");
        return report((args as { target: string }).target);
      }
      if (command === "watch_status") {
        watchChannel = (args as { onStatus: Channel<LiveStatus> }).onStatus;
        return 8;
      }
      return null;
    });
    const session = new TargetSession();
    await session.loadTargets();
    await session.refresh();
    await settle();
    failing = true;
    await session.refresh(); // Ctrl+R under load: ps times out, the watch runs on
    expect(session.error?.code).toBe("timeout");
    push(watchChannel!, 0, { kind: "snapshot", report: report("a") });
    expect(session.connection).toBe("connected");
    expect(session.error).toBeNull();
  });

  it("keeps no watch whose end came before its id", async () => {
    clearMocks();
    mockIPC((command, args) => {
      calls.push(command);
      const target = (args as { target?: string }).target ?? "";
      if (command === "list_targets") return [summary("a"), summary("b")];
      if (command === "service_status") return report(target);
      if (command === "watch_status") {
        // `docker events` failed at once: the end arrives before the answer with the id.
        push((args as { onStatus: Channel<LiveStatus> }).onStatus, 0, { kind: "ended", error: null });
        return 7;
      }
      return null;
    });
    const session = new TargetSession();
    await session.loadTargets();
    await session.refresh();
    await settle();
    await settle();
    expect(session.watch).toBeNull();
    expect(calls).toContain("stop_watch");
  });

  it("takes no end from a stopped watch for the one running now", async () => {
    const session = new TargetSession();
    await session.loadTargets();
    await session.refresh();
    await settle();
    const first = watchChannel!;
    expect(session.watch).toBe(7);
    // a -> b -> a: the first watch is stopped, a new one runs; the first one's end comes late.
    session.select("b");
    session.select("a");
    await session.refresh();
    await settle();
    expect(watchChannel).not.toBe(first);
    expect(session.watch).toBe(7);
    push(first, 0, { kind: "ended", error: null });
    expect(session.watch).toBe(7);
    session.stopWatch();
    expect(calls.filter((c) => c === "stop_watch").length).toBeGreaterThanOrEqual(2);
  });

  it("starts the live view again when the selected target is redefined elsewhere", async () => {
    let host = "h";
    mockIPC((command, args) => {
      calls.push(command);
      if (command === "list_targets") return [{ ...summary("a"), target: { ...summary("a").target, host } }];
      if (command === "service_status") return report((args as { target: string }).target);
      if (command === "watch_status") return 9;
      return null;
    });
    const session = new TargetSession();
    await session.loadTargets();
    await session.refresh();
    await settle();
    expect(session.watch).toBe(9);
    const watches = () => calls.filter((c) => c === "watch_status").length;
    const before = watches();
    await session.loadTargets(); // unchanged: nothing restarts
    await settle();
    expect(watches()).toBe(before);
    host = "h2"; // the CLI moved `a` to another host
    await session.loadTargets();
    await settle();
    expect(calls.filter((c) => c === "stop_watch").length).toBe(1);
    expect(watches()).toBe(before + 1);
  });
});

describe("a host key pinned anew", () => {
  it("takes the failure it caused away and connects again", async () => {
    let pin = "SHA256:old";
    let refused = true;
    mockIPC((command, args) => {
      calls.push(command);
      const target = (args as { target?: string }).target ?? "";
      if (command === "list_targets") return [{ ...summary("a"), host_key: pin }];
      if (command === "service_status") {
        if (refused) throw failure("host_key_mismatch", "the host key changed");
        return report(target);
      }
      if (command === "lock_status") return { held: false, holder: null };
      if (command === "watch_status") return 7;
      return null;
    });
    const session = new TargetSession();
    await session.loadTargets();
    session.select("a");
    await session.refresh();
    expect(session.connection).toBe("failed");
    expect(session.error?.code).toBe("host_key_mismatch");
    // Trusted again on the Targets screen: the list comes back with the new pin.
    pin = "SHA256:new";
    refused = false;
    await session.loadTargets();
    await settle();
    await settle();
    expect(session.error).toBeNull();
    expect(session.connection).toBe("connected");
  });
});

