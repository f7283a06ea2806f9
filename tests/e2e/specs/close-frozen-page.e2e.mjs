// Closing the window during a deploy when the page does not answer (its scripts hang;
// WebKit's web process could as well have died): the first close asks the page, which
// never shows the question; asked again, the desktop's own dialog asks instead, so the
// window can always be closed, and never without the warning. Kept open, the deploy
// goes on; closed, the console exits and its run ends on the host as a cut-off one does:
// the lock freed, nothing of it left running.
import { execFileSync } from "node:child_process";
import { brieflyListed, cli, closeWindow, consolePid, deployHeldInPull, newImageOnRegistry, registry, running, shipshapeProcessesOnHost } from "./support.mjs";

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** The X window of the desktop's dialog, or null: xdotool on the app's display. */
const desktopDialog = () => {
  try {
    return execFileSync("xdotool", ["search", "--onlyvisible", "--name", "^Shipshape is not responding$"], { encoding: "utf8" }).trim().split("\n")[0] || null;
  } catch {
    return null; // xdotool exits 1 when nothing matches
  }
};
async function waitFor(what, check, ms = 15000) {
  const since = Date.now();
  while (!check()) {
    if (Date.now() - since > ms) throw new Error(`${what}: not within ${ms} ms`);
    await pause(200);
  }
}
/** Keys typed into the desktop's dialog, as a person would (focused first: no window
 *  manager gives it focus under Xvfb). */
const press = (...keys) => {
  execFileSync("xdotool", ["windowfocus", "--sync", desktopDialog()]);
  execFileSync("xdotool", ["key", "--delay", "150", ...keys]);
};
const screenshot = (name) => {
  const dir = process.env.SHIPSHAPE_E2E_SCREENSHOTS;
  if (dir) execFileSync("import", ["-window", "root", `${dir}/${name}.png`]);
};
let pushed = { previous: "", undo: () => {} };

describe("closing the window during a deploy, its page frozen", () => {
  before(() => {
    pushed = newImageOnRegistry("close-frozen-page");
  });

  after(() => pushed.undo());

  it("asks in the desktop's dialog once the page leaves a close unanswered", async () => {
    await deployHeldInPull("Closed with its page frozen (e2e)");
    const pid = consolePid();
    expect(pid).not.toBeNull();

    // The page's scripts hang from here on: no WebDriver call reaches it again.
    await browser.execute(() => void setTimeout(() => { for (;;); }, 300));
    await pause(1000);
    closeWindow(pid);
    await pause(3000);
    expect(desktopDialog()).toBeNull(); // the page was asked, and never showed it
    expect(running(pid)).toBe(true);

    closeWindow(pid);
    await waitFor("the desktop's dialog", () => desktopDialog() !== null);
    screenshot("close-frozen-page-dialog");
    // Escape, and then Enter, keep the window: "Keep the window" is the default.
    for (const key of ["Escape", "Return"]) {
      if (desktopDialog() === null) closeWindow(pid);
      await waitFor("the desktop's dialog", () => desktopDialog() !== null);
      press(key);
      await waitFor(`the dialog closed by ${key}`, () => desktopDialog() === null);
      await pause(1000);
      expect(running(pid)).toBe(true);
      expect(cli("lock", "status", "Local lab")).not.toContain("free");
    }

    // Asked again, it asks at once; "Close and cut it short" is the other button.
    closeWindow(pid);
    await waitFor("the desktop's dialog again", () => desktopDialog() !== null);
    press("Tab", "Return");
    await waitFor("the console gone", () => !running(pid), 30000);

    // Its connection closed with it: the run is cut off on the host as a SIGKILL's is.
    execFileSync("kill", ["-CONT", registry()]);
    const goneAt = Date.now();
    let left = shipshapeProcessesOnHost();
    while (left.length > 0 && Date.now() - goneAt < 10000) {
      await pause(200);
      left = shipshapeProcessesOnHost();
    }
    expect(brieflyListed(left)).toBe("");
    expect(cli("lock", "status", "Local lab")).toContain("free");
  });
});
