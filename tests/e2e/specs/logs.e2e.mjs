// The log viewer on the lab's market-updater-aws (a line a second): lines keep coming
// while following, pausing freezes the view but not the stream, search marks matches,
// timestamps re-follow with -t, the saved file holds the lines as plain text, and
// stopping ends `docker compose logs -f` on the host.
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { container, docker, screenshot } from "./support.mjs";

const SERVICE = "market-updater-aws";
const COMMAND = `cd /home/ubuntu/automated-trading-platform && docker compose --profile aws logs -n 200 -f ${SERVICE}`;

const view = () => $('[data-testid="log-view"]');
const received = async () => Number(await $('[data-testid="log-line-count"]').getAttribute("data-count"));
const lastShown = async () => Number(await (await view()).getAttribute("data-last-seq"));
const lastLine = () => $('[data-testid="log-view"] [data-testid="log-line"]:last-child');

/** The host's `docker compose logs -f` processes for the service (the lab runs on this machine). */
function remoteFollows() {
  try {
    return execFileSync("pgrep", ["-f", `compose --profile aws logs .*-f ${SERVICE}`], { encoding: "utf8" }).trim();
  } catch {
    return ""; // pgrep exits 1 when nothing matches
  }
}

async function waitForState(state, timeout = 30000) {
  await browser.waitUntil(async () => (await $('[data-testid="log-state"]').getAttribute("data-state")) === state, {
    timeout,
    timeoutMsg: `the viewer never showed ${state}`,
  });
}

describe("logs", () => {
  before(() => {
    docker("start", container(SERVICE)); // a stopped service's log stream ends at once
  });

  it("follows market-updater-aws and keeps receiving its lines", async () => {
    await $('[data-testid="target"]').waitForDisplayed();
    await $('[data-testid="nav-logs"]').click();
    await $(`[data-testid="log-service-${SERVICE}"]`).click();
    await waitForState("following");
    expect(await $('[data-testid="log-command"]').getText()).toBe(COMMAND);
    await browser.waitUntil(async () => (await received()) > 0, { timeoutMsg: "no line arrived" });
    const before = await received();
    await browser.pause(3200);
    expect(await received()).toBeGreaterThan(before);
    // Lines keep arriving (one a second): the view catches up with what was received.
    await browser.waitUntil(async () => (await lastShown()) === (await received()), {
      timeoutMsg: "the view does not show the last line received",
    });
    expect(await lastLine().getText()).toMatch(/tick \d+/);
    expect(remoteFollows()).not.toBe("");
    await screenshot("logs-following");
  });

  it("pausing freezes the view while lines keep arriving", async () => {
    await $('[data-testid="log-pause"]').click();
    const frozen = await lastShown();
    const receivedWhenPaused = await received();
    await browser.pause(2500);
    expect(await lastShown()).toBe(frozen);
    expect(await received()).toBeGreaterThan(receivedWhenPaused);
    expect(await $('[data-testid="log-new-while-paused"]').getText()).toMatch(/^\d+ new while paused$/);
    await $('[data-testid="log-pause"]').click(); // resume
    await browser.waitUntil(async () => (await lastShown()) > frozen, { timeoutMsg: "resuming did not show new lines" });
  });

  it("search marks the matching text and narrows to matching lines", async () => {
    const tick = (await lastLine().getText()).match(/tick \d+/)[0];
    await $('[data-testid="log-search"]').setValue(tick.toUpperCase());
    await browser.waitUntil(async () => (await $('[data-testid="log-match-count"]').isExisting()));
    expect(await $('[data-testid="log-match-count"]').getText()).toMatch(/^[1-9]\d* matching$/);
    const mark = await $('[data-testid="log-view"] [data-testid="log-match"]');
    expect(await mark.getText()).toBe(tick); // the line's own text, highlighted
    const held = await (await view()).getAttribute("data-held");
    expect(Number(held)).toBeGreaterThanOrEqual(1);
    expect(await $('[data-testid="log-match-count"]').getText()).toBe(`${held} matching`);
    await screenshot("logs-search");
    await $('[data-testid="log-search"]').clearValue();
    await $('[data-testid="log-errors-only"]').click(); // the updater logs no errors
    await browser.waitUntil(async () => (await (await view()).getAttribute("data-held")) === "0");
    await $('[data-testid="log-errors-only"]').click();
  });

  it("timestamps re-follow the service with -t", async () => {
    await $('[data-testid="log-timestamps"]').click();
    await browser.waitUntil(async () => (await $('[data-testid="log-command"]').getText()).includes(" -t -f "), {
      timeoutMsg: "the command never gained -t",
    });
    await waitForState("following");
    expect(await $('[data-testid="log-command"]').getText()).toBe(COMMAND.replace(" -f ", " -t -f "));
    await browser.waitUntil(async () => /\| \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z /.test(await lastLine().getText()), {
      timeoutMsg: "lines never showed docker's timestamps",
    });
  });

  it("saves the lines it holds to a plain-text file in Downloads", async () => {
    const shown = await lastLine().getText();
    const heldBefore = await received(); // far below the buffer's capacity: nothing dropped
    await $('[data-testid="log-download"]').click();
    const saved = await $('[data-testid="log-saved-path"]');
    await saved.waitForDisplayed();
    const path = await saved.getText();
    expect(path).toMatch(/\/Downloads\/shipshape-Local-lab-market-updater-aws-\d{8}T\d{6}Z(-\d+)?\.log$/);
    const text = readFileSync(path, "utf8");
    rmSync(path);
    const lines = text.trimEnd().split("\n");
    expect(lines.length).toBeGreaterThanOrEqual(heldBefore); // every line held when clicked
    expect(lines.length).toBeLessThanOrEqual(await received());
    expect(text).not.toContain("\x1b");
    const squeeze = (line) => line.replace(/\s+/g, " ").trim();
    expect(lines.map(squeeze)).toContain(squeeze(shown));
  });

  it("a long follow keeps only the rows in sight in the page, at the newest line", async () => {
    // No search in force (Escape in the search field clears it), then 3000 lines at
    // once, straight into the service's log.
    await $('[data-testid="log-search"]').click();
    await browser.keys("Escape");
    await browser.waitUntil(async () => !(await $('[data-testid="log-match-count"]').isExisting()), { timeoutMsg: "the search stayed" });
    const from = await received();
    docker("exec", container(SERVICE), "sh", "-c",
      'i=0; while [ $i -lt 3000 ]; do i=$((i+1)); echo "burst $i of 3000"; done > /proc/1/fd/1');
    await browser.waitUntil(async () => (await received()) >= from + 3000, { timeoutMsg: "the burst did not arrive" });
    await browser.waitUntil(async () => (await lastShown()) === (await received()), { timeoutMsg: "the view is behind" });
    const held = Number(await (await view()).getAttribute("data-held"));
    expect(held).toBeGreaterThanOrEqual(2000); // the view holds its latest 2000...
    const inPage = (await $$('[data-testid="log-view"] [data-testid="log-line"]')).length;
    expect(inPage).toBeLessThan(150); // ...but only about a screenful is in the page
    // The rows follow the newest line (a frame may pass between the count and the rows).
    // The last row's number and text are read in one script, never a render apart.
    const newest = () =>
      browser.execute(() => {
        const view = document.querySelector('[data-testid="log-view"]');
        const rows = view.querySelectorAll('[data-testid="log-line"]');
        const row = rows[rows.length - 1];
        return { last: Number(view.getAttribute("data-last-seq")), seq: Number(row?.getAttribute("data-seq")), text: row?.textContent ?? "" };
      });
    // The count includes the service's own ticks, so it can be reached with the burst's
    // last line still to come (seen: the newest row "burst 2999 of 3000"): wait for a row
    // that ends it, the burst's last or a tick.
    await browser.waitUntil(async () => { const n = await newest(); return n.seq === n.last && /burst 3000 of 3000|tick \d+/.test(n.text); }, {
      timeout: 10000,
      timeoutMsg: "the view did not show the newest line",
    });
    // Scrolled up while following, the line read stays put: each new tick pushes the
    // oldest of the view's 2000 lines out above it, which used to slide the text up.
    const topRow = () =>
      browser.execute(() => {
        const view = document.querySelector('[data-testid="log-view"]');
        const top = view.getBoundingClientRect().top;
        const row = [...view.querySelectorAll('[data-testid="log-line"]')].find((r) => r.getBoundingClientRect().bottom > top + 1);
        return { seq: Number(row?.getAttribute("data-seq")), offset: Math.round(row.getBoundingClientRect().top - top) };
      });
    await browser.execute(() => { document.querySelector('[data-testid="log-view"]').scrollTop = 1000 * 19; });
    await browser.pause(300);
    const reading = await topRow();
    const receivedThen = await received();
    await browser.waitUntil(async () => (await lastShown()) >= receivedThen + 2, { timeout: 10000, timeoutMsg: "no tick arrived" });
    await browser.pause(300);
    expect(await topRow()).toEqual(reading);
    // Paused (the view still), Home goes to the oldest line the view holds; resumed,
    // End goes back to the newest.
    await $('[data-testid="log-pause"]').click();
    await (await view()).click();
    await browser.keys("Home");
    const firstSeq = Number(await (await $('[data-testid="log-view"] [data-testid="log-line"]')).getAttribute("data-seq"));
    const frozen = await view();
    expect(firstSeq).toBe((await lastShown()) - Number(await frozen.getAttribute("data-held")) + 1);
    await $('[data-testid="log-pause"]').click();
    await (await view()).click();
    await browser.keys("End");
    await browser.waitUntil(async () => Number(await lastLine().getAttribute("data-seq")) === (await lastShown()), {
      timeoutMsg: "End did not bring the newest line back",
    });
    await screenshot("logs-long-follow");
  });

  it("stop ends the follow on the host", async () => {
    await $('[data-testid="log-stop"]').click();
    await waitForState("stopped", 10000);
    await browser.waitUntil(async () => remoteFollows() === "", {
      timeout: 5000,
      timeoutMsg: "docker compose logs -f still runs on the host",
    });
    const count = await received();
    await browser.pause(1500);
    expect(await received()).toBe(count);
    expect(await $('[data-testid="log-follow"]').isEnabled()).toBe(true);
  });
});
