import { afterEach, describe, expect, it } from "vitest";
import { Channel } from "@tauri-apps/api/core";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import * as commands from "./commands";
import { asErrorReport } from "./ipc";

afterEach(() => clearMocks());

/** What Rust's `Channel::send` does: delivers message number `index` to the channel. */
function push<T>(channel: Channel<T>, index: number, message: T) {
  const internals = (window as unknown as { __TAURI_INTERNALS__: { runCallback(id: number, data: unknown): void } })
    .__TAURI_INTERNALS__;
  internals.runCallback(channel.id, { index, message });
}

const target = { name: "t", host: "h", port: 22, user: "ubuntu", project_dir: "/p", key: null, policy_file: null, environment: "production" as const, jump: [] };

describe("asErrorReport", () => {
  it("passes a core error through unchanged", () => {
    const report = { code: "host_key_mismatch" as const, message: "m", detail: null };
    expect(asErrorReport(report)).toBe(report);
  });

  it("wraps anything else so the UI always has a code", () => {
    expect(asErrorReport("boom")).toMatchObject({ code: "protocol", message: "boom", detail: null, danger: false });
    expect(asErrorReport("boom").remedy).not.toBe("");
  });

  it("words Tauri's refusal of an argument as bad input, cut short", () => {
    const refusal = `invalid args \`lines\` for command \`follow_logs\`: invalid type: string "${"x".repeat(100_000)}", expected u32`;
    const report = asErrorReport(refusal);
    expect(report.code).toBe("bad_input");
    expect(report.message.length).toBeLessThan(200);
    expect(report.message).toContain("(100003 characters) expected u32");
  });
});

describe("the generated commands", () => {
  it("invoke the Rust name with the arguments under Tauri's camelCase keys", async () => {
    const calls: [string, unknown][] = [];
    mockIPC((command, args) => {
      calls.push([command, args]);
      return null;
    });
    await commands.saveTarget({ target, previousName: null });
    await commands.cancelOperation({ request: "r7" });
    await commands.listTargets();
    expect(calls).toEqual([
      ["save_target", { target, previousName: null }],
      ["cancel_operation", { request: "r7" }],
      ["list_targets", {}],
    ]);
  });

  it("reject with the core's ErrorReport, or one made from any other failure", async () => {
    const report = { code: "target_not_found", message: "no target t", detail: null };
    mockIPC((command) => {
      throw command === "service_status" ? report : new Error("ipc down");
    });
    await expect(commands.serviceStatus({ target: "t" })).rejects.toEqual(report);
    await expect(commands.history()).rejects.toMatchObject({ code: "protocol", message: "Error: ipc down" });
  });

  it("hand a channel's messages to the caller's callback", async () => {
    const texts: string[] = [];
    mockIPC((_command, args) => {
      const onOutput = (args as { onOutput: Channel<string> }).onOutput;
      expect(onOutput).toBeInstanceOf(Channel);
      push(onOutput, 0, "line 1\n");
      push(onOutput, 1, "line 2\n");
      return { title: "Restart" };
    });
    const outcome = await commands.runOperation({
      request: "r1",
      target: "t",
      address: "ubuntu@h:22",
      operation: { op: "restart", service: "db" },
      onOutput: (text) => texts.push(text),
    });
    expect(outcome).toEqual({ title: "Restart" });
    expect(texts).toEqual(["line 1\n", "line 2\n"]);
  });
});
