// A reloaded window (WebKit's context menu offers Reload) takes its log follow with it:
// the old page's follow can no longer be stopped from the window, so the console stops
// it, and its process on the host ends. The new page shows the target again.
import { brieflyListed, liveViewAndFollow, shipshapeProcessesOnHost } from "./support.mjs";

const followed = (processes) => processes.filter((p) => p.includes("market-updater-aws"));

describe("a reloaded window", () => {
  it("leaves no follow of the old page running on the host", async () => {
    await liveViewAndFollow();
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
