import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Channel } from "@tauri-apps/api/core";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import type { CheckItem, Checklist } from "../bindings";
import { ChecklistStore } from "./checklist.svelte";

function push<T>(channel: Channel<T>, index: number, message: T) {
  const internals = (window as unknown as { __TAURI_INTERNALS__: { runCallback(id: number, data: unknown): void } })
    .__TAURI_INTERNALS__;
  internals.runCallback(channel.id, { index, message });
}

const item = (id: CheckItem["id"], status: CheckItem["status"]): CheckItem => ({
  id, title: id, group: "verification", status, note: `${id} is ${status}`, probed_status: status,
  evidence: [], ticked_by: null, ticked_at: null, waiver: null, rerun_by: null, rerun_at: null,
});

const list = (id: string, items: CheckItem[]): Checklist => ({
  id, target: { name: "a", host: "h", port: 22, user: "ubuntu", project_dir: "/p", host_key: "SHA256:x" },
  operator: { user: "ops", key_fingerprint: "SHA256:k" }, started_at: "2026-11-26T00:00:00Z",
  finished_at: "2026-11-26T00:00:01Z", git_commit: null, images: [], items, policy: null,
});

let calls: [string, unknown][];
let onItem: Channel<CheckItem> | null;
let finish: ((value: Checklist) => void) | null;

beforeEach(() => {
  calls = [];
  onItem = null;
  finish = null;
  mockIPC((command, args) => {
    calls.push([command, args]);
    if (command === "latest_checklist") return list("v-old", [item("health", "fail")]);
    if (command === "report_exports") return [];
    if (command === "verify") {
      onItem = (args as { onItem: Channel<CheckItem> }).onItem;
      return new Promise<Checklist>((resolve) => (finish = resolve));
    }
    if (command === "change_check") {
      const { item: id } = args as { item: CheckItem["id"] };
      return list("v-new", [{ ...item(id, "manual"), status: "pass", ticked_by: "ops (SHA256:k)", ticked_at: "t" }]);
    }
    return null;
  });
});

afterEach(() => clearMocks());

describe("a run while another target is shown", () => {
  it("goes on, can be stopped from there, lets no second one start, and shows again on its target", async () => {
    const store = new ChecklistStore();
    await store.useTarget("a");
    const running = store.run();
    await new Promise((r) => setTimeout(r, 0));
    push(onItem!, 0, item("code-deployed", "pass"));
    await store.useTarget("b");
    expect(store.running).toBe(false);
    expect(store.runningElsewhere).toBe("a");
    expect(await store.run()).toBe(false);
    expect(calls.filter(([command]) => command === "verify").length).toBe(1);
    await store.useTarget("a");
    expect(store.running).toBe(true);
    expect(store.items.map((i) => i.id)).toEqual(["code-deployed"]);
    finish!(list("v-new", [item("code-deployed", "pass")]));
    await running;
    expect(store.checklist?.id).toBe("v-new");
    expect(store.runningElsewhere).toBeNull();
  });
});

describe("a run that fails while another target is shown", () => {
  it("says so when its target is chosen again", async () => {
    const store = new ChecklistStore();
    await store.useTarget("a");
    let reject: ((error: unknown) => void) | null = null;
    mockIPC((command) => {
      if (command === "verify") return new Promise((_, no) => (reject = no));
      if (command === "latest_checklist") return null;
      return [];
    });
    const running = store.run();
    await new Promise((r) => setTimeout(r, 0));
    await store.useTarget("b");
    reject!({ code: "connection_lost", title: "Connection lost", message: "a went away", remedy: "r", detail: null, danger: false });
    await running;
    expect(store.error).toBeNull();
    expect(store.announcement).toBe("Verification of a failed: Connection lost.");
    await store.useTarget("a");
    expect(store.error?.code).toBe("connection_lost");
  });
});

describe("the checklist store", () => {
  it("shows the newest verification, then items one by one while a run goes, then the result", async () => {
    const store = new ChecklistStore();
    await store.useTarget("a");
    expect(store.items.map((i) => i.status)).toEqual(["fail"]);

    const running = store.run();
    await new Promise((r) => setTimeout(r, 0));
    expect(store.running).toBe(true);
    expect(store.items).toEqual([]);
    push(onItem!, 0, item("code-deployed", "pass"));
    await new Promise((r) => setTimeout(r, 0));
    expect(store.items.map((i) => i.id)).toEqual(["code-deployed"]);
    finish!(list("v-new", [item("code-deployed", "pass"), item("migrations", "manual")]));
    await running;
    expect(store.running).toBe(false);
    expect(store.checklist?.id).toBe("v-new");
    expect(store.announcement).toBe("Verification of a done: nothing failed.");

    await store.change("migrations", { change: "tick" });
    expect(calls.at(-1)).toEqual(["change_check", { checklist: "v-new", item: "migrations", change: { change: "tick" } }]);
    expect(store.items[0].ticked_by).toBe("ops (SHA256:k)");

    // A double click's second click lands on Untick: it is not taken.
    const changes = () => calls.filter(([command]) => command === "change_check").length;
    const before = changes();
    await store.change("migrations", { change: "untick" });
    expect(changes()).toBe(before);
    await new Promise((r) => setTimeout(r, 700));
    await store.change("migrations", { change: "untick" });
    expect(changes()).toBe(before + 1);
  });

  it("stops a run by the request it started, and goes back to the newest checklist", async () => {
    const store = new ChecklistStore();
    await store.useTarget("a");
    let reject: ((error: unknown) => void) | null = null;
    mockIPC((command, args) => {
      calls.push([command, args]);
      if (command === "verify") return new Promise((_, no) => (reject = no));
      if (command === "cancel_operation") {
        reject!({ code: "stopped", title: "t", message: "Verify a was stopped", remedy: "r", detail: null, danger: false });
        return null;
      }
      return [];
    });
    const running = store.run();
    await new Promise((r) => setTimeout(r, 0));
    const [, verifyArgs] = calls.find(([command]) => command === "verify")!;
    const request = (verifyArgs as { request: string }).request;
    expect(request).toMatch(/^[0-9a-f]{32}$/);

    await store.stop();
    await running;
    expect(calls.find(([command]) => command === "cancel_operation")![1]).toEqual({ request });
    expect(store.running).toBe(false);
    expect(store.stopping).toBe(false);
    expect(store.error).toBeNull();
    expect(store.checklist?.id).toBe("v-old");
    expect(store.announcement).toBe("Verification stopped: nothing was recorded.");
    // Nothing runs to be stopped now.
    await store.stop();
    expect(calls.filter(([command]) => command === "cancel_operation").length).toBe(1);
  });

  it("keeps a run's error and lets another target replace the list", async () => {
    const store = new ChecklistStore();
    await store.useTarget("a");
    mockIPC((command) => {
      if (command === "verify") throw { code: "connection_lost", title: "t", message: "gone", remedy: "r", detail: null, danger: false };
      if (command === "latest_checklist") return null;
      return [];
    });
    await store.run();
    expect(store.error?.code).toBe("connection_lost");
    await store.useTarget("b");
    expect(store.checklist).toBeNull();
    expect(store.error).toBeNull();
  });
});

describe("re-running one item while another target is shown", () => {
  it("holds up neither that target's buttons nor shows its failure there", async () => {
    let fail: ((reason: unknown) => void) | null = null;
    mockIPC((command, args) => {
      const target = (args as { target?: string }).target;
      if (command === "latest_checklist") return list(target === "b" ? "v-b" : "v-a", [item("health", "fail")]);
      if (command === "rerun_check") return new Promise((_, reject) => (fail = reject));
      return [];
    });
    const store = new ChecklistStore();
    await store.useTarget("a");
    void store.rerun("health");
    expect(store.busy).toBe("health");
    await store.useTarget("b");
    expect(store.busy).toBeNull();
    fail!({ code: "connection_lost", title: "t", message: "gone", remedy: "r", detail: null, danger: false });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(store.error).toBeNull();
    expect(store.busy).toBeNull();
    // Back on its own page, the failure is said there.
    await store.useTarget("a");
    expect(store.error?.message).toBe("gone");
  });

  it("keeps each checklist's action its own when both run at once", async () => {
    const pending: Record<string, () => void> = {};
    mockIPC((command, args) => {
      const target = (args as { target?: string }).target;
      if (command === "latest_checklist") return list(target === "b" ? "v-b" : "v-a", [item("health", "fail")]);
      if (command === "rerun_check") {
        const id = (args as { checklist: string }).checklist;
        return new Promise((resolve) => (pending[id] = () => resolve(list(id, [item("health", "pass")]))));
      }
      return [];
    });
    const store = new ChecklistStore();
    await store.useTarget("a");
    void store.rerun("health");
    await store.useTarget("b");
    void store.rerun("health");
    await store.useTarget("a");
    expect(store.busy).toBe("health"); // a's own re-run still runs
    pending["v-b"]();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(store.busy).toBe("health");
    pending["v-a"]();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(store.busy).toBeNull();
  });
});

describe("the screen shown again", () => {
  it("reads the target's newest verification afresh (a deploy or the CLI recorded one meanwhile), but not during a run", async () => {
    let latest = list("v-old", [item("health", "fail")]);
    mockIPC((command, args) => {
      calls.push([command, args]);
      if (command === "latest_checklist") return latest;
      if (command === "report_exports") return [];
      if (command === "verify") {
        onItem = (args as { onItem: Channel<CheckItem> }).onItem;
        return new Promise<Checklist>((resolve) => (finish = resolve));
      }
      return null;
    });
    const store = new ChecklistStore();
    await store.show("a");
    expect(store.checklist?.id).toBe("v-old");
    latest = list("v-deploy", [item("health", "pass")]);
    await store.show("a");
    expect(store.checklist?.id).toBe("v-deploy");

    const running = store.run();
    await new Promise((r) => setTimeout(r, 0));
    latest = list("v-cli", [item("health", "pass")]);
    await store.show("a");
    expect(store.running).toBe(true);
    expect(store.checklist?.id).toBe("v-deploy");
    finish!(list("v-run", [item("health", "pass")]));
    await running;
    expect(store.checklist?.id).toBe("v-run");
  });
});
