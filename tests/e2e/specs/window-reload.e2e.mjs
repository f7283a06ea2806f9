// A reloaded window (WebKit's context menu offers Reload) takes its log follow with it:
// the old page's follow can no longer be stopped from the window, so the console stops
// it, and its process on the host ends. The new page shows the target again.
import { brieflyListed, shipshapeProcessesOnHost } from "./support.mjs";

const followed = (processes) => processes.filter((p) => p.includes("market-updater-aws"));

describe("a reloaded window", () => {
  it("leaves no follow of the old page running on the host", async () => {
    await $('[data-testid="target"]').waitForDisplayed();
    await $('[data-testid="connect"]').click();
    await $('[data-testid="live"]').waitForDisplayed({ timeout: 30000 });
    await $('[data-testid="nav-logs"]').click();
    await $('[data-testid="log-service-market-updater-aws"]').click();
    await browser.waitUntil(async () => (await $('[data-testid="log-state"]').getAttribute("data-state")) === "following", {
      timeout: 30000,
      timeoutMsg: "the follow never started",
    });
    await browser.waitUntil(() => followed(shipshapeProcessesOnHost()).length > 0, {
      timeout: 10000,
      timeoutMsg: "the follow was not running on the host",
    });

    await browser.refresh();
    const reloadedAt = Date.now();
    let left = followed(shipshapeProcessesOnHost());
    while (left.length > 0 && Date.now() - reloadedAt < 5000) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      left = followed(shipshapeProcessesOnHost());
    }
    expect(brieflyListed(left)).toBe("");
    await $('[data-testid="target"]').waitForDisplayed({ timeout: 20000 });
  });
});
