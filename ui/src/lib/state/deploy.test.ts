import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Channel } from "@tauri-apps/api/core";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import type { Approval, DeployEvent, DeployRecord, DeployResult, DeployReview, HistoryRecord, LastRun, LockStatus, StepRecord } from "../bindings";
import { DeployStore, ELSEWHERE_POLL_MS } from "./deploy.svelte";
import { session } from "./session.svelte";

function push<T>(channel: Channel<T>, index: number, message: T) {
  const internals = (window as unknown as { __TAURI_INTERNALS__: { runCallback(id: number, data: unknown): void } })
    .__TAURI_INTERNALS__;
  internals.runCallback(channel.id, { index, message });
}

let review: DeployReview;
const reviewWith = (id: string, digest: string): DeployReview => ({
  id, target: "a", made_at: "t", made_by: { user: "ops", key_fingerprint: null }, head: "abc1234",
  upstream: "origin/main", commits: [], files: [], compose: { file: null, rows: [], note: "same" },
  env_keys: { compared_with: null, added: [], removed: [], changed: [], note: "" }, images: [], commands: [], digest,
});
const approval: Approval = {
  review: "review-1", digest: "d1", reviewer: "Rita", user: "rita", key_name: "rita",
  key_fingerprint: "SHA256:x", approved_at: "t", migrations: [], signature: "-----BEGIN SSH SIGNATURE-----",
};
const free: LockStatus = { held: false, holder: null, break_command: "sh -c break" };
const step = (title: string, status: StepRecord["status"]): StepRecord => ({
  step: "pull", title, status, commands: ["cd /p && docker compose --profile aws pull"], started_at: "t",
  duration_ms: 5, note: `${title}: ${status}`, record_ids: [], snapshot: null,
});
const record = (outcome: DeployRecord["outcome"]): DeployRecord => ({
  id: "deploy-1", kind: "deploy", target: "a", operator: { user: "ops", key_fingerprint: null }, message: "m",
  started_at: "t", finished_at: "t", outcome, commits: [], steps: [], checklist: null, rolled_back_to: null,
  resumes: null, review: null, approval: null,
});

let onEvent: Channel<DeployEvent> | null;
let finish: ((value: DeployResult) => void) | null;
let calls: string[];
let deployArgs: Record<string, unknown> | null;
let stopArgs: Record<string, unknown> | null;

beforeEach(() => {
  onEvent = null;
  finish = null;
  calls = [];
  deployArgs = null;
  stopArgs = null;
  review = reviewWith("review-1", "d1");
  mockIPC((command, args) => {
    calls.push(command);
    if (command === "review_deploy") return review;
    if (command === "approve_review") return approval;
    if (command === "lock_status") return free;
    if (command === "last_run") return null;
    if (command === "deploy_snapshots") return [];
    if (command === "plan_deploy") return { address: "u@h:22", steps: [], digest: "plan-1" };
    if (command === "stop_deploy") {
      stopArgs = args as Record<string, unknown>;
      return null;
    }
    if (command === "deploy") {
      deployArgs = args as Record<string, unknown>;
      onEvent = (args as { onEvent: Channel<DeployEvent> }).onEvent;
      return new Promise<DeployResult>((resolve) => (finish = resolve));
    }
  });
});

afterEach(() => clearMocks());

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("the deploy store", () => {
  it("fills in steps as they start and end, and keeps the error that stopped the run", async () => {
    const store = new DeployStore();
    await store.useTarget("a");
    expect(store.review?.head).toBe("abc1234");
    expect(store.lock?.held).toBe(false);

    const run = store.deploy("m", []);
    await settle();
    expect(store.running).toBe("deploy");
    push(onEvent!, 0, { kind: "step_started", step: "lock", title: "Lock the host" });
    await settle();
    expect(store.steps).toEqual([{ title: "Lock the host", running: true, output: "", progress: {}, record: null }]);
    push(onEvent!, 1, { kind: "output", text: "db Pulling\n" });
    push(onEvent!, 2, { kind: "output", text: "db Pulled\n" });
    await settle();
    expect(store.steps[0].output).toBe("db Pulling\ndb Pulled\n");
    push(onEvent!, 3, { kind: "step_ended", step: step("Lock the host", "failed") });
    await settle();
    expect(store.steps[0].running).toBe(false);
    expect(store.steps[0].record?.status).toBe("failed");
    // A failed step keeps what it printed last, to read why.
    expect(store.steps[0].output).toBe("db Pulling\ndb Pulled\n");

    const error = { code: "busy", title: "Busy", message: "locked by ann", remedy: "", detail: null, danger: false } as const;
    finish!({ record: record("failed"), error });
    await run;
    expect(store.running).toBeNull();
    expect(store.error?.message).toBe("locked by ann");
    expect(store.record?.outcome).toBe("failed");
    expect(calls.filter((c) => c === "lock_status").length).toBe(2); // read again after the run
  });
});

describe("a read of the review that failed", () => {
  it("is offered again, and a read that works takes its error away but never a run's", async () => {
    let fail = true;
    mockIPC((command, args) => {
      if (command === "review_deploy") {
        if (fail) throw { code: "timeout", title: "Timed out", message: "origin did not answer", remedy: "", detail: null, danger: false };
        return review;
      }
      if (command === "lock_status") return free;
      if (command === "last_run") return null;
      if (command === "deploy_snapshots") return [];
      if (command === "deploy") {
        onEvent = (args as { onEvent: Channel<DeployEvent> }).onEvent;
        return new Promise<DeployResult>((resolve) => (finish = resolve));
      }
    });
    const store = new DeployStore();
    await store.useTarget("a");
    expect(store.readFailed).toBe(true);
    expect(store.error?.code).toBe("timeout");
    fail = false;
    await store.refresh();
    expect(store.readFailed).toBe(false);
    expect(store.error).toBeNull();

    const run = store.deploy("m", []);
    await settle();
    const error = { code: "remote_failed", title: "Failed", message: "pull failed", remedy: "", detail: null, danger: false } as const;
    finish!({ record: record("failed"), error });
    await run;
    await settle();
    expect(store.error?.message).toBe("pull failed"); // the read after the run keeps it
  });
});

describe("the host's lock during a run", () => {
  it("reads as held by the run once its lock step is done", async () => {
    const store = new DeployStore();
    await store.useTarget("a");
    expect(store.lock?.held).toBe(false);
    const held: LockStatus = { held: true, holder: null, break_command: "sh -c break" };
    mockIPC((command, args) => {
      calls.push(command);
      if (command === "lock_status") return held;
      if (command === "deploy") {
        onEvent = (args as { onEvent: Channel<DeployEvent> }).onEvent;
        return new Promise<DeployResult>((resolve) => (finish = resolve));
      }
    });
    void store.deploy("m", []);
    await settle();
    push(onEvent!, 0, { kind: "step_ended", step: { ...step("Lock the host for this deploy", "done"), step: "lock" } });
    await settle();
    await settle();
    expect(store.lock?.held).toBe(true);
  });
});

describe("a run while another target is chosen", () => {
  it("goes on, ends as itself, and is stopped on its own target", async () => {
    const store = new DeployStore();
    await store.useTarget("a");
    void store.deploy("m", []);
    await settle();
    push(onEvent!, 0, { kind: "step_started", step: "lock", title: "Lock the host" });
    await store.useTarget("b");
    expect(store.running).toBe("deploy");
    expect(store.runTarget).toBe("a");
    await store.stop();
    expect(stopArgs).toEqual({ target: "a" });
    push(onEvent!, 1, { kind: "step_ended", step: step("Lock the host", "done") });
    finish!({ record: record("stopped"), error: null });
    await settle();
    await settle();
    // Before, the run's end was taken for a stale one: "running" stayed for good and
    // no deploy could start again until the console restarted.
    expect(store.running).toBeNull();
    expect(store.record?.outcome).toBe("stopped");
    expect(store.steps.map((s) => s.record?.status)).toEqual(["done"]);
    void store.deploy("m", []);
    await settle();
    expect(deployArgs?.target).toBe("b");
    expect(store.runTarget).toBe("b");
  });
});

describe("a reviewer's approval", () => {
  it("goes with the deploy, and is dropped when the review on screen no longer matches it", async () => {
    const store = new DeployStore();
    await store.useTarget("a");
    expect(await store.approve("rita", "Rita")).toBe(true);
    expect(store.approval?.reviewer).toBe("Rita");
    await store.planDeploy(false);
    void store.deploy("m", []);
    await settle();
    const request = deployArgs?.request as Record<string, unknown>;
    expect(request.review).toBe("review-1");
    expect(request.resume).toBeNull();
    // Held to the review on show: its commit goes with the deploy, and to the plan its
    // dialog showed, by its digest.
    expect(request.seen).toBe("abc1234");
    expect(request.plan).toBe("plan-1");
    await store.stop();
    expect(calls).toContain("stop_deploy");
    expect(store.stopping).toBe(true);
    finish!({ record: record("succeeded"), error: null });
    await settle();
    await settle();
    expect(store.stopping).toBe(false);
    review = reviewWith("review-2", "d2");
    await store.refresh();
    expect(store.review?.id).toBe("review-2");
    expect(store.approval).toBeNull();
  });
});

describe("the screen shown again", () => {
  it("reads the review afresh, once, and not while a run is under way", async () => {
    const store = new DeployStore();
    await store.show("a");
    const reads = () => calls.filter((c) => c === "review_deploy").length;
    const first = reads();
    await store.show("a");
    expect(reads()).toBe(first + 1);
    void store.deploy("m", []);
    await settle();
    await store.show("a");
    expect(reads()).toBe(first + 1);
  });
});

describe("an interrupted deploy", () => {
  // Which run is the target's last (the core's `last_run`) is tested in Rust
  // (`history::last_run`): here, what the screen makes of it.
  const run = (id: string, outcome: HistoryRecord["outcome"], exit_code: number | null = null, resumes?: string): HistoryRecord => ({
    id, kind: "deploy", target: "a", operator: "ops", title: `Deploy a: ${id}`, command: "guided", started_at: "t",
    finished_at: outcome === "interrupted" || outcome === "running" ? "" : "t", duration_ms: 0, exit_code, outcome,
    output_sha256: "", output_bytes: 0, ...(resumes ? { resumes } : {}),
  });
  const withLast = (last: () => LastRun | null, extra?: (command: string, args: unknown) => unknown) =>
    mockIPC((command, args) => {
      calls.push(command);
      if (command === "review_deploy") return review;
      if (command === "lock_status") return free;
      if (command === "last_run") return last();
      if (command === "deploy_snapshots") return [];
      return extra?.(command, args);
    });

  it("is offered on the screen when the target's last run never ended, and Resume only where it can go on", async () => {
    const last: Record<string, LastRun> = {
      a: { record: run("d2", "interrupted"), resumable: "d2", last_attempt: null },
      b: { record: run("d3", "exited", 0), resumable: null, last_attempt: null },
      // A rollback is never resumed.
      c: { record: run("r5", "interrupted"), resumable: null, last_attempt: null },
    };
    let target = "a";
    withLast(() => last[target]);
    const store = new DeployStore();
    await store.useTarget("a");
    expect([store.interrupted?.id, store.resumable, store.unfinished]).toEqual(["d2", "d2", null]);
    target = "b";
    await store.useTarget("b");
    expect([store.interrupted, store.resumable, store.unfinished]).toEqual([null, null, null]);
    target = "c";
    await store.useTarget("c");
    expect([store.interrupted?.id, store.resumable]).toEqual(["r5", null]);
  });

  it("offers the deploy a resume cut off was resuming", async () => {
    withLast(() => ({ record: run("d3", "interrupted", null, "d2"), resumable: "d2", last_attempt: null }));
    const store = new DeployStore();
    await store.useTarget("a");
    expect([store.interrupted?.id, store.resumable]).toEqual(["d3", "d2"]);
  });

  it("offers Resume, after a restart, for a deploy that stopped or failed after its snapshot", async () => {
    let last: LastRun | null = { record: run("d2", "cancelled"), resumable: "d2", last_attempt: null };
    withLast(() => last);
    const store = new DeployStore();
    await store.useTarget("a");
    expect([store.unfinished?.id, store.resumable, store.interrupted]).toEqual(["d2", "d2", null]);
    // A resume of d2 that failed after keeping its snapshot leaves d2 to go on from.
    last = { record: run("d4", "exited", 1, "d2"), resumable: "d2", last_attempt: null };
    await store.refresh();
    expect([store.unfinished?.id, store.resumable]).toEqual(["d4", "d2"]);
    // One that failed where it cannot go on (a later deploy's snapshot is newer, say).
    last = { record: run("d5", "exited", 1), resumable: null, last_attempt: null };
    await store.refresh();
    expect([store.unfinished, store.resumable]).toEqual([null, null]);
    // A deploy that finished leaves nothing to go on from.
    last = { record: run("d6", "exited", 0), resumable: null, last_attempt: null };
    await store.refresh();
    expect([store.unfinished, store.resumable, store.interrupted]).toEqual([null, null, null]);
  });

  it("says why the last resume of the deploy offered was refused, beside its Resume", async () => {
    const attempt = { id: "d3", started_at: "2026-12-05T10:00:00Z", step: "Review what the deploy changes", note: "the host's code moved" };
    let last: LastRun | null = { record: run("d2", "cancelled"), resumable: "d2", last_attempt: attempt };
    withLast(() => last);
    const store = new DeployStore();
    await store.useTarget("a");
    expect([store.unfinished?.id, store.resumable, store.lastAttempt]).toEqual(["d2", "d2", attempt]);
    // A resume got further since: nothing refused to say.
    last = { record: run("d4", "exited", 1, "d2"), resumable: "d2", last_attempt: null };
    await store.refresh();
    expect([store.resumable, store.lastAttempt]).toEqual(["d2", null]);
    // Another target says nothing of this one's refusals.
    last = { record: run("d2", "cancelled"), resumable: "d2", last_attempt: attempt };
    await store.refresh();
    last = null;
    await store.useTarget("b");
    expect(store.lastAttempt).toBeNull();
  });

  it("goes by the target's last run, not an older one this window ran", async () => {
    let last: LastRun | null = null;
    withLast(
      () => last,
      (command) => (command === "deploy" ? { record: { ...record("succeeded"), id: "d1" }, error: null } : undefined),
    );
    const store = new DeployStore();
    await store.useTarget("a");
    await store.deploy("m", []);
    // The CLI deploys since, and stops after its snapshot.
    last = { record: run("d2", "cancelled"), resumable: "d2", last_attempt: null };
    await store.refresh();
    expect([store.unfinished?.id, store.resumable]).toEqual(["d2", "d2"]);
  });

  it("keeps Resume on the deploy a failed resume of it left cut short, shown once", async () => {
    let last: LastRun | null = { record: run("d2", "cancelled"), resumable: "d2", last_attempt: null };
    withLast(
      () => last,
      (command, args) => {
        if (command !== "deploy") return undefined;
        deployArgs = args as Record<string, unknown>;
        return new Promise<DeployResult>((resolve) => (finish = resolve));
      },
    );
    const store = new DeployStore();
    await store.useTarget("a");
    const running = store.deploy("Resume d2", [], "d2");
    await settle();
    expect(deployArgs).toMatchObject({ request: { resume: "d2" } });
    // Its resume r1 failed before taking a snapshot of its own.
    last = { record: run("r1", "exited", 1, "d2"), resumable: "d2", last_attempt: null };
    finish!({ record: { ...record("failed"), id: "r1", resumes: "d2" }, error: null });
    await running;
    await vi.waitFor(() => expect(store.resumable).toBe("d2"));
    // Offered with this window's result of r1, not a second time beside it.
    expect(store.unfinished).toBeNull();
  });
});

describe("a run this window did not start", () => {
  it("is shown while it runs, can be asked to stop, and is read again once it ended", async () => {
    vi.useFakeTimers();
    let outcome: "running" | "exited" = "running";
    const seen: string[] = [];
    mockIPC((command) => {
      seen.push(command);
      if (command === "review_deploy") return review;
      if (command === "lock_status") return free;
      if (command === "last_run")
        return {
          record: {
            id: "d9", kind: "deploy", target: "a", operator: "ops", title: "Deploy a: m", command: "guided",
            started_at: "t", finished_at: "", duration_ms: 0, exit_code: outcome === "exited" ? 0 : null, outcome,
            output_sha256: "", output_bytes: 0,
          },
          resumable: null,
        };
      if (command === "deploy_snapshots") return [];
      if (command === "stop_deploy") return null;
    });
    const store = new DeployStore();
    await store.useTarget("a");
    expect(store.elsewhere?.id).toBe("d9");
    await store.stopElsewhere();
    expect(seen).toContain("stop_deploy");
    expect(store.stopping).toBe(true);
    const reviews = () => seen.filter((c) => c === "review_deploy").length;
    const before = reviews();
    await vi.advanceTimersByTimeAsync(ELSEWHERE_POLL_MS);
    expect(reviews()).toBe(before); // still running: only its last run is read
    outcome = "exited";
    await vi.advanceTimersByTimeAsync(ELSEWHERE_POLL_MS);
    expect(reviews()).toBe(before + 1);
    expect(store.elsewhere).toBeNull();
    expect(store.stopping).toBe(false);
    vi.useRealTimers();
  });
});

describe("the rollback", () => {
  it("is offered when the review cannot be read, and runs the snapshot the dialog showed", async () => {
    const snapshot = (deploy: string) => ({ deploy, taken_at: "t", git_commit: "abc", images: [], env_backup: null });
    let rollbackArgs: Record<string, unknown> | null = null;
    mockIPC((command, args) => {
      // origin is out of reach: the review's git fetch fails.
      if (command === "review_deploy") throw { code: "remote_failed", title: "The command failed on the host", message: "fetch failed", remedy: "", detail: null };
      if (command === "lock_status") return free;
      if (command === "last_run") return null;
      if (command === "deploy_snapshots") return [snapshot("deploy-2"), snapshot("deploy-1")];
      if (command === "rollback") {
        rollbackArgs = args as Record<string, unknown>;
        return { record: record("succeeded"), error: null };
      }
    });
    const store = new DeployStore();
    await store.useTarget("a");
    expect(store.readFailed).toBe(true);
    expect(store.snapshots.map((s) => s.deploy)).toEqual(["deploy-2", "deploy-1"]);
    await store.rollback("bad release");
    expect(rollbackArgs).toMatchObject({ target: "a", to: "deploy-2", reason: "bad release" });
  });

  it("shows what it will run for the snapshot the dialog shows, and only the newest plan asked for", async () => {
    const snapshot = (deploy: string) => ({ deploy, taken_at: "t", git_commit: "abc", images: [], env_backup: null });
    const plan = (to: unknown) => ({ address: "u@h:22", steps: [{ title: "Restore the snapshot", commands: [`restore ${to}`], note: null }], digest: `plan of ${to}` });
    const asked: unknown[] = [];
    let rollbackArgs: Record<string, unknown> | null = null;
    let answer: ((value: unknown) => void) | null = null;
    mockIPC((command, args) => {
      if (command === "lock_status") return free;
      if (command === "last_run") return null;
      if (command === "review_deploy") return review;
      if (command === "deploy_snapshots") return [snapshot("deploy-2"), snapshot("deploy-1")];
      if (command === "plan_rollback") {
        const to = (args as { to: unknown }).to;
        asked.push(to);
        // The first answer comes last: it must not replace the one asked for since.
        if (asked.length === 1) return new Promise((resolve) => (answer = () => resolve(plan(to))));
        return plan(to);
      }
      if (command === "plan_deploy") throw { code: "bad_input", title: "Bad input", message: "not a migration", remedy: "", detail: null, danger: false };
      if (command === "rollback") {
        rollbackArgs = args as Record<string, unknown>;
        return { record: record("succeeded"), error: null };
      }
    });
    const store = new DeployStore();
    await store.useTarget("a");
    const first = store.planRollback(null);
    await store.planRollback("deploy-1");
    answer!(null);
    await first;
    expect(asked).toEqual(["deploy-2", "deploy-1"]);
    expect(store.plan?.steps[0].commands).toEqual(["restore deploy-1"]);
    // The rollback confirmed is held to that plan, by its digest.
    await store.rollback("bad release", "deploy-1");
    expect(rollbackArgs).toMatchObject({ to: "deploy-1", plan: "plan of deploy-1" });
    // A plan that cannot be made says why, and leaves nothing to confirm.
    await store.planDeploy(false);
    expect(store.plan).toBeNull();
    expect(store.planError?.message).toBe("not a migration");
  });
});

describe("a pull's progress per service", () => {
  it("is read from every line as it came, not from the tail the layers' lines soon fill", async () => {
    session.targets = [{ target: { name: "a" }, services: ["backend-aws", "db"] } as never];
    const store = new DeployStore();
    await store.useTarget("a");
    void store.deploy("m", []);
    await settle();
    push(onEvent!, 0, { kind: "step_started", step: "pull", title: "Pull the images" });
    // A line cut between two chunks is read whole.
    push(onEvent!, 1, { kind: "output", text: " db Pulled\n backend-aws Pul" });
    push(onEvent!, 2, { kind: "output", text: "ling\n" });
    let i = 3;
    for (let n = 0; n < 400; n++) push(onEvent!, i++, { kind: "output", text: ` e23cdbba0406 Downloading [==>    ] ${n}MB/139MB\n` });
    await settle();
    const pull = store.steps[0];
    expect(pull.output).not.toContain("db Pulled");
    expect(pull.progress).toEqual({ db: "done", "backend-aws": "working" });
    push(onEvent!, i++, { kind: "output", text: " backend-aws Pulled\n" });
    push(onEvent!, i++, { kind: "step_ended", step: step("Pull the images", "done") });
    await settle();
    expect(store.steps[0].output).toBe("");
    session.targets = [];
  });
});

describe("the lock", () => {
  it("is shown, with its holder, when the review cannot be read", async () => {
    const held: LockStatus = {
      held: true, holder: { operator: "sam", key_fingerprint: "SHA256:x", machine: "laptop", since: "t", message: "deploy", deploy: "deploy-9" },
      break_command: "sh -c break",
    };
    mockIPC((command) => {
      // origin is out of reach: the review's git fetch fails; the lock is read all the same.
      if (command === "review_deploy") throw { code: "remote_failed", title: "The command failed on the host", message: "fetch failed", remedy: "", detail: null };
      if (command === "lock_status") return held;
      if (command === "last_run") return null;
      if (command === "deploy_snapshots") return [];
    });
    const store = new DeployStore();
    await store.useTarget("a");
    expect(store.readFailed).toBe(true);
    expect(store.error?.message).toBe("fetch failed");
    expect(store.lock?.held).toBe(true);
    expect(store.lock?.holder?.operator).toBe("sam");
  });

  it("that cannot be read fails the read even when the review can be", async () => {
    mockIPC((command) => {
      if (command === "review_deploy") return review;
      if (command === "lock_status") throw { code: "connection_lost", title: "Lost", message: "lock unread", remedy: "", detail: null };
      if (command === "last_run") return null;
      if (command === "deploy_snapshots") return [];
    });
    const store = new DeployStore();
    await store.useTarget("a");
    expect(store.readFailed).toBe(true);
    expect(store.error?.message).toBe("lock unread");
    expect(store.lock).toBeNull();
  });
});

describe("a run that failed while another target was shown", () => {
  it("still says why on its own page", async () => {
    const store = new DeployStore();
    await store.useTarget("a");
    void store.deploy("m", []);
    await settle();
    await store.useTarget("b");
    const failed = { code: "remote_failed", title: "The command failed on the host", message: "pull failed", remedy: "Check the registry.", detail: null };
    finish!({ record: record("failed"), error: failed as never });
    await settle();
    await settle();
    expect(store.error).toBeNull(); // b's page
    await store.useTarget("a");
    expect(store.error?.message).toBe("pull failed");
  });
});
