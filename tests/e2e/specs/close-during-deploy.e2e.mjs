// Closing the window while a deploy runs, as a window manager's close button does (the
// lab's registry frozen with SIGSTOP holds the deploy in its pull): the close is held
// and the window asks. Kept open, the deploy goes on; asked again, "Stop after this
// step, then close" lets the pull finish, the deploy stops there and frees the lock,
// and then the window closes and the console exits, leaving nothing on the host.
import { execFileSync } from "node:child_process";
import { brieflyListed, cli, closeWindow, consolePid, deployHeldInPull, deployScreenAfterRestart, newImageOnRegistry, pullRunning, registry, running, screenshot, shipshapeProcessesOnHost } from "./support.mjs";

let pushed = { previous: "", undo: () => {} };

describe("closing the window during a deploy", () => {
  before(() => {
    pushed = newImageOnRegistry("close-during-deploy");
  });

  after(() => pushed.undo());

  it("asks first, stays open when told, and closes once the deploy stopped after its step", async () => {
    await deployHeldInPull("Closed during the pull (e2e)");
    const pid = consolePid();
    expect(pid).not.toBeNull();

    closeWindow(pid);
    const dialog = await $('[data-testid="close-during-deploy"]');
    await dialog.waitForDisplayed({ timeout: 10000 });
    expect(await dialog.getText()).toContain("Pull the images");
    await screenshot("close-during-deploy");
    await $('[data-testid="close-keep-open"]').click();
    await dialog.waitForDisplayed({ reverse: true });
    await browser.pause(1000);
    expect(running(pid)).toBe(true);
    expect(await pullRunning()).toBe(true);

    closeWindow(pid);
    await dialog.waitForDisplayed({ timeout: 10000 });
    await $('[data-testid="close-after-step"]').click();
    await $('[data-testid="close-after-stop"]').waitForDisplayed();
    expect(running(pid)).toBe(true); // the pull still waits on the frozen registry
    execFileSync("kill", ["-CONT", registry()]);

    const thawedAt = Date.now();
    while (running(pid) && Date.now() - thawedAt < 120000) await new Promise((resolve) => setTimeout(resolve, 250));
    expect(running(pid) ? `console ${pid} still running` : "console gone").toBe("console gone");
    // Its connections closed with it: what it ran on the host ends (the live view's
    // watch too) as the host notices.
    const goneAt = Date.now();
    let left = shipshapeProcessesOnHost();
    while (left.length > 0 && Date.now() - goneAt < 10000) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      left = shipshapeProcessesOnHost();
    }
    expect(brieflyListed(left)).toBe("");
    expect(cli("lock", "status", "Local lab")).toContain("free");
    const deploy = JSON.parse(cli("history", "--json")).filter((r) => r.kind === "deploy").at(-1);
    expect(deploy.outcome).toBe("cancelled"); // stopped after its step, not cut off
    expect(deploy.title).toContain("stopped after Pull the images");

    // The next start offers to go on from it: it took its snapshot.
    const offer = await deployScreenAfterRestart("deploy-unfinished");
    expect(await offer.getText()).toContain("Closed during the pull (e2e)");
    for (const choice of ["unfinished-resume", "unfinished-rollback"]) {
      expect(await $(`[data-testid="${choice}"]`).isEnabled()).toBe(true);
    }
    await screenshot("stopped-deploy-next-start");
  });
});
