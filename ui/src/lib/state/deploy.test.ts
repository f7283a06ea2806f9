import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Channel } from "@tauri-apps/api/core";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import type { DeployEvent, DeployRecord, DeployResult, IncomingReview, LockStatus, StepRecord } from "../bindings";
import { DeployStore } from "./deploy.svelte";

function push<T>(channel: Channel<T>, index: number, message: T) {
  const internals = (window as unknown as { __TAURI_INTERNALS__: { runCallback(id: number, data: unknown): void } })
    .__TAURI_INTERNALS__;
  internals.runCallback(channel.id, { index, message });
}

const review: IncomingReview = { target: "a", head: "abc1234", upstream: "origin/main", commits: [], files: [], commands: [] };
const free: LockStatus = { held: false, holder: null };
const step = (title: string, status: StepRecord["status"]): StepRecord => ({
  step: "pull", title, status, commands: ["cd /p && docker compose --profile aws pull"], started_at: "t",
  duration_ms: 5, note: `${title}: ${status}`, record_ids: [], snapshot: null,
});
const record = (outcome: DeployRecord["outcome"]): DeployRecord => ({
  id: "deploy-1", kind: "deploy", target: "a", operator: { user: "ops", key_fingerprint: null }, message: "m",
  started_at: "t", finished_at: "t", outcome, commits: [], steps: [], checklist: null, rolled_back_to: null,
});

let onEvent: Channel<DeployEvent> | null;
let finish: ((value: DeployResult) => void) | null;
let calls: string[];

beforeEach(() => {
  onEvent = null;
  finish = null;
  calls = [];
  mockIPC((command, args) => {
    calls.push(command);
    if (command === "review_incoming") return review;
    if (command === "lock_status") return free;
    if (command === "history") return [];
    if (command === "deploy") {
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
    expect(store.steps).toEqual([{ title: "Lock the host", running: true, output: "", record: null }]);
    push(onEvent!, 1, { kind: "output", text: "db Pulling\n" });
    push(onEvent!, 2, { kind: "output", text: "db Pulled\n" });
    await settle();
    expect(store.steps[0].output).toBe("db Pulling\ndb Pulled\n");
    push(onEvent!, 3, { kind: "step_ended", step: step("Lock the host", "failed") });
    await settle();
    expect(store.steps[0].running).toBe(false);
    expect(store.steps[0].record?.status).toBe("failed");

    const error = { code: "busy", title: "Busy", message: "locked by ann", remedy: "", detail: null, danger: false } as const;
    finish!({ record: record("failed"), error });
    await run;
    expect(store.running).toBeNull();
    expect(store.error?.message).toBe("locked by ann");
    expect(store.record?.outcome).toBe("failed");
    expect(calls.filter((c) => c === "lock_status").length).toBe(2); // read again after the run
  });
});

describe("an interrupted deploy", () => {
  it("is offered on the screen when the target's newest deploy never ended", async () => {
    const run = (id: string, target: string, outcome: "exited" | "interrupted") => ({
      id, kind: "deploy" as const, target, operator: "ops", title: `Deploy ${target}: m (last step: Pull the images)`,
      command: "guided", started_at: "t", finished_at: "", duration_ms: 0, exit_code: null, outcome,
      output_sha256: "", output_bytes: 0,
    });
    mockIPC((command) => {
      if (command === "review_incoming") return review;
      if (command === "lock_status") return free;
      if (command === "history") return [run("d1", "a", "exited"), run("d2", "a", "interrupted"), run("d3", "b", "exited")];
    });
    const store = new DeployStore();
    await store.useTarget("a");
    expect(store.interrupted?.id).toBe("d2");
    await store.useTarget("b");
    expect(store.interrupted).toBeNull();
  });
});
