// A Docker engine that stops answering (dockerd stopped with SIGSTOP): the refresh ends
// by the policy's read deadline, and the console says it was a timeout, not that the
// connection failed; once the engine answers again, Refresh works.
import { execFileSync } from "node:child_process";
import { screenshot, waitForState } from "./support.mjs";

const dockerd = execFileSync("pgrep", ["-xo", "dockerd"], { encoding: "utf8" }).trim();
const signal = (name) => execFileSync("kill", [`-${name}`, dockerd]);

describe("a frozen Docker engine", () => {
  after(() => signal("CONT")); // never leave the lab frozen, whatever failed

  it("shows a timeout within the deadline, then recovers", async () => {
    const target = await $('[data-testid="target"]');
    await target.waitForDisplayed();
    expect(await target.getText()).toContain("Lab, short deadlines");
    await $('[data-testid="connect"]').click();
    await waitForState("backend-aws", "running");

    signal("STOP");
    const started = Date.now();
    await $('[data-testid="connect"]').click(); // Refresh
    const state = await $('[data-testid="connection-state"]');
    await browser.waitUntil(async () => (await state.getAttribute("data-state")) === "failed", {
      timeout: 15000,
      timeoutMsg: "the refresh never ended while the engine was frozen",
    });
    const waited = Date.now() - started;
    expect(waited).toBeLessThan(12000);
    expect(await state.getText()).toContain("No answer in time");
    expect(await state.getText()).not.toContain("Connection failed");
    expect(await $("main").getText()).toContain("3 s");
    await screenshot("frozen-engine-timeout");

    signal("CONT");
    await $('[data-testid="connect"]').click();
    await browser.waitUntil(async () => (await state.getAttribute("data-state")) === "connected", {
      timeout: 30000,
      timeoutMsg: "Refresh did not work again after the engine was thawed",
    });
    await waitForState("backend-aws", "running");
  });
});
