import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { CloseAsk } from "./closing.svelte";
import { deploy } from "./deploy.svelte";

let calls: [string, unknown][];
let refuse = false;

beforeEach(() => {
  calls = [];
  refuse = false;
  mockIPC((command, args) => {
    calls.push([command, args]);
    if (command === "close_anyway" && refuse) throw { code: "bad_input", title: "t", message: "not asked", remedy: "", detail: null, danger: false };
    return null;
  });
});

afterEach(() => {
  clearMocks();
  deploy.running = null;
  deploy.runTarget = null;
});

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("closing the window during a deploy", () => {
  it("closes now with the targets it was asked about, and keeps a refusal's error", async () => {
    const closing = new CloseAsk();
    closing.ask(["prod"]);
    // Shown: the core then waits for this answer instead of taking the page for frozen.
    expect(calls).toContainEqual(["close_asked", { targets: ["prod"] }]);
    await closing.closeNow();
    expect(calls).toContainEqual(["close_anyway", { targets: ["prod"] }]);
    refuse = true;
    await closing.closeNow();
    expect(closing.error?.message).toBe("not asked");
    closing.keepOpen();
    expect(closing.targets).toBeNull();
  });

  it("stops the run after its step and closes only once it has ended", async () => {
    const closing = new CloseAsk();
    deploy.running = "deploy";
    deploy.runTarget = "prod";
    closing.ask(["prod"]);
    await closing.stopThenClose();
    expect(calls).toContainEqual(["stop_deploy", { target: "prod" }]);
    expect(calls.some(([c]) => c === "close_anyway")).toBe(false);
    deploy.running = null; // the run ended: App calls settle as it does
    closing.settle();
    await settle();
    expect(calls).toContainEqual(["close_anyway", { targets: ["prod"] }]);
  });

  it("knows a run it did not start (one from before a reload) is not one it can wait for", () => {
    const closing = new CloseAsk();
    closing.ask(["prod"]); // this page runs nothing: the core's run began before a reload
    expect(closing.seen).toBe(false);
    deploy.running = "rollback";
    closing.ask(["prod"]);
    expect(closing.seen).toBe(true);
  });

  it("kept open, a run ending closes nothing", async () => {
    const closing = new CloseAsk();
    deploy.running = "deploy";
    deploy.runTarget = "prod";
    closing.ask(["prod"]);
    await closing.stopThenClose();
    closing.keepOpen();
    deploy.running = null;
    closing.settle();
    await settle();
    expect(calls.some(([c]) => c === "close_anyway")).toBe(false);
  });
});
