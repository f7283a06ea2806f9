// A long operation or verification that ends while the window is in the background is
// announced on the desktop. A real notification daemon (dunst) runs on the test's own
// D-Bus session; its history shows what the console sent. The app runs with
// SHIPSHAPE_NOTIFY_AFTER_MS=0 (homes.mjs), so a quick Health counts as long; focus is
// taken from the window by giving it to the X root window with the pointer off the
// window (there is no window manager: a pointer over it would hand it focus back), as
// switching away would.
import { execFileSync, spawn } from "node:child_process";
import { consolePid, waitForState } from "./support.mjs";

let dunst;

/** How many notifications dunst holds: on screen, waiting, or in its history. */
function received() {
  const count = (which) => Number(execFileSync("dunstctl", ["count", which], { encoding: "utf8" }).trim());
  return count("displayed") + count("waiting") + count("history");
}

/** What dunst was sent, newest first: the ones on screen are closed first, which moves
 *  them into its history (a notification reaches it only once closed or expired). */
function shown() {
  execFileSync("dunstctl", ["close-all"]);
  const history = JSON.parse(execFileSync("dunstctl", ["history"], { encoding: "utf8" }));
  return history.data.flat().map((n) => `${n.summary.data} | ${n.body.data}`);
}

/** Runs `operation` on the lab target through the window's IPC, as its dialog would,
 *  without any input event (a synthesized click could bring the window forward). */
async function runInWindow(operation) {
  return browser.executeAsync((operation, done) => {
    const internals = window.__TAURI_INTERNALS__;
    const request = `notify-${Date.now()}`;
    const onOutput = `__CHANNEL__:${internals.transformCallback(() => {})}`;
    // Planned first, as the dialog does: a run names the host its plan showed.
    internals
      .invoke("plan_operation", { target: "Local lab", operation })
      .then((plan) => internals.invoke("run_operation", { request, target: "Local lab", address: plan.address, operation, onOutput }))
      .then(
        (outcome) => done({ ok: true, title: outcome.title }),
        (refusal) => done({ ok: false, refusal }),
      );
  }, operation);
}

/** Runs a verification of the lab target through the window's IPC, as its screen would. */
async function verifyInWindow() {
  return browser.executeAsync((done) => {
    const internals = window.__TAURI_INTERNALS__;
    const onItem = `__CHANNEL__:${internals.transformCallback(() => {})}`;
    internals.invoke("verify", { request: `notify-verify-${Date.now()}`, target: "Local lab", onItem }).then(
      (checklist) => done({ ok: true, failed: checklist.items.filter((i) => i.status === "fail").length }),
      (refusal) => done({ ok: false, refusal }),
    );
  });
}

function focusWindow(which) {
  execFileSync("xdotool", ["windowfocus", "--sync", which]);
}

describe("desktop notifications", () => {
  before(async () => {
    dunst = spawn("dunst", [], { stdio: "ignore" });
    await browser.waitUntil(() => {
      try {
        execFileSync("dunstctl", ["is-paused"], { stdio: "ignore" });
        return true;
      } catch {
        return false;
      }
    }, { timeout: 10000, timeoutMsg: "dunst never answered on the session bus" });
  });
  after(() => {
    dunst?.kill();
    // As the suite found the display: focus where the pointer is, the pointer mid-screen.
    execFileSync("xdotool", ["mousemove", "--sync", "640", "400"]);
    const root = execFileSync("xdotool", ["search", "--maxdepth", "0", "--name", ""], { encoding: "utf8" }).trim().split("\n")[0];
    focusWindow(root);
  });

  it("announces an operation that ended in the background, and not one watched in front", async () => {
    await $('[data-testid="target"]').waitForDisplayed();
    await $('[data-testid="connect"]').click();
    await waitForState("backend-aws", "running");
    const root = execFileSync("xdotool", ["search", "--maxdepth", "0", "--name", ""], { encoding: "utf8" }).trim().split("\n")[0];

    // This spec's window, found by its process: the spec before's window can still be on
    // the display under the same name while its app closes.
    const app = execFileSync("xdotool", ["search", "--onlyvisible", "--pid", consolePid()], { encoding: "utf8" }).trim().split("\n")[0];
    focusWindow(app);
    await browser.waitUntil(() => browser.execute(() => document.hasFocus()), { timeout: 5000, timeoutMsg: "the window never had focus" });
    const watched = await runInWindow({ op: "health" });
    expect(watched.ok).toBe(true);
    await browser.pause(1000);
    expect(received()).toBe(0);

    execFileSync("xdotool", ["mousemove", "--sync", "1279", "799"]);
    focusWindow(root);
    await browser.waitUntil(async () => !(await browser.execute(() => document.hasFocus())), {
      timeout: 5000,
      timeoutMsg: "the window kept focus",
    });
    const unwatched = await runInWindow({ op: "health" });
    expect(unwatched.ok).toBe(true);
    await browser.waitUntil(() => received() > 0, { timeout: 10000, timeoutMsg: "no notification reached dunst" });
    const [latest] = shown();
    console.log(`notification shown by dunst: ${latest}`);
    expect(latest).toContain(`${unwatched.title} finished`);
    expect(latest).toContain("Local lab");

    // A verification is long work too: its verdict is announced.
    const before = received();
    const verified = await verifyInWindow();
    expect(verified.ok).toBe(true);
    await browser.waitUntil(() => received() > before, { timeout: 10000, timeoutMsg: "no notification for the verification" });
    const [verdict] = shown();
    console.log(`notification shown by dunst: ${verdict}`);
    // The verdict in words: passed, or done with items to tick, or failed with how many.
    expect(verdict).toMatch(verified.failed === 0 ? /^Verification (passed|done: \d+ items? to tick) \|/ : new RegExp(`^Verification failed: ${verified.failed} items? \\|`));
    expect(verdict).toContain("Local lab");
  });
});
