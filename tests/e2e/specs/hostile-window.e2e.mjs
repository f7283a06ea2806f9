// The hostile host through the window: a target on the lab's sshd-hostile, whose docker
// answers `ps` and `logs` with 1 GB of output. The dashboard's status and a log follow
// read it while the window is watched: the memory of all the console's processes (PSS of
// the console and WebKit's web and network processes) stays under 300 MB (issue 10), and
// the window answers a script and a click within 2 s throughout.
//
// At rest the window's processes take about 222 MB (debug build, Xvfb, WebKit's
// shared-memory renderer, no JIT), and the peak landed at 264-269 MB; with the JIT the web
// process alone grew by 30 MB more and the peak was 310-330 MB. Before the viewer paced
// the core (credits, skipped lines counted), the web process passed 1.6 GB within 45 s
// and kept growing.
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { consolePid, lab, screenshot } from "./support.mjs";

const TOTAL_LIMIT_MB = 300;
const ANSWER_MS = 2000;
const WATCH_MS = 45000;

/** This spec's console and every process below it (WebKit's). */
function appProcesses() {
  const pid = consolePid();
  const all = pid ? [pid] : [];
  for (let i = 0; i < all.length; i++) {
    try {
      all.push(...execFileSync("pgrep", ["-P", all[i]], { encoding: "utf8" }).split("\n").filter(Boolean));
    } catch {} // pgrep exits 1 when a process has no children
  }
  return all;
}

/** Proportional memory of `pids` in MB, and each process's share. */
function pss(pids) {
  const each = {};
  for (const pid of pids) {
    try {
      const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
      const name = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
      each[`${name} ${pid}`] = Number(rollup.match(/^Pss:\s+(\d+) kB/m)[1]) / 1024;
    } catch {} // a process that just ended
  }
  return { total: Object.values(each).reduce((a, b) => a + b, 0), each };
}

/** How long the window takes to run a script and to show a click's effect, in ms. */
async function answerTimes() {
  let start = Date.now();
  await browser.execute(() => document.title);
  const script = Date.now() - start;
  const wrap = await $('[data-testid="log-wrap"]');
  const was = await wrap.isSelected();
  start = Date.now();
  await wrap.click();
  await browser.waitUntil(async () => (await wrap.isSelected()) !== was, { timeout: 10000, interval: 20 });
  return { script, click: Date.now() - start };
}

describe("the hostile host's 1 GB through the window", () => {
  before(() => writeFileSync(lab.hostile_mode, "gigabyte"));
  after(() => writeFileSync(lab.hostile_mode, ""));

  it("keeps all the console's processes under 300 MB and answering while it reads it", async () => {
    await $('[data-testid="target"]').waitForDisplayed({ timeout: 30000 });
    const idle = pss(appProcesses());
    console.log(`console at rest: ${idle.total.toFixed(0)} MB PSS`, JSON.stringify(idle.each));

    // The dashboard's status: `docker compose ps` answers 1 GB that is not JSON.
    const hostile = await $('//button[@data-testid="target"][.//span[text()="hostile"]]');
    await hostile.click();
    await $('[data-testid="connect"]').click();
    let peak = idle;
    const sample = () => {
      const now = pss(appProcesses());
      if (now.total > peak.total) peak = now;
    };
    await browser.waitUntil(
      async () => {
        sample();
        return (await $('[role="alert"]').isExisting()) || (await $('[data-testid="live"]').isExisting());
      },
      { timeout: 120000, interval: 500, timeoutMsg: "the dashboard never said what came of the status" },
    );

    // A log follow of 1 GB of lines, watched for 45 s.
    await $('[data-testid="nav-logs"]').click();
    await $('[data-testid="log-service-backend-aws"]').click();
    const answers = [];
    const until = Date.now() + WATCH_MS;
    while (Date.now() < until) {
      sample();
      answers.push(await answerTimes());
      await browser.pause(500);
    }
    const received = Number(await $('[data-testid="log-line-count"]').getAttribute("data-count"));
    const slowest = answers.reduce((a, b) => ({ script: Math.max(a.script, b.script), click: Math.max(a.click, b.click) }));
    await screenshot("hostile-logs");
    const state = await $('[data-testid="log-state"]').getAttribute("data-state");
    const stop = await $('[data-testid="log-stop"]');
    if ((await stop.isExisting()) && (await stop.isEnabled())) await stop.click();
    console.log(
      `hostile host through the window: ${received.toLocaleString()} log lines received (viewer ${state}); peak ${peak.total.toFixed(0)} MB PSS in all`,
      JSON.stringify(peak.each),
      `; slowest answer: script ${slowest.script} ms, click ${slowest.click} ms (${answers.length} tries)`,
    );
    const consoleOwn = Math.max(...Object.entries(peak.each).filter(([k]) => k.startsWith("shipshape-")).map(([, v]) => v));
    if (process.env.SHIPSHAPE_PROVING_GROUND) {
      const ok = peak.total < TOTAL_LIMIT_MB && slowest.script < ANSWER_MS && slowest.click < ANSWER_MS;
      appendFileSync(
        process.env.SHIPSHAPE_PROVING_GROUND,
        `| hostile host through the window: 1 GB from ps and a log follow | ${received} lines | ${ok ? "passed" : "FAILED"}: console process ${consoleOwn.toFixed(0)} MB; all its processes ${idle.total.toFixed(0)} MB at rest, ${peak.total.toFixed(0)} MB at peak (PSS); slowest answer ${Math.max(slowest.script, slowest.click)} ms | 0 |\n`,
      );
    }
    expect(received).toBeGreaterThan(0);
    // Measured, not read as nothing: the console's own process was among those summed.
    expect(idle.total).toBeGreaterThan(50);
    expect(Object.keys(peak.each).some((name) => name.startsWith("shipshape-"))).toBe(true);
    expect(peak.total).toBeLessThan(TOTAL_LIMIT_MB);
    expect(slowest.script).toBeLessThan(ANSWER_MS);
    expect(slowest.click).toBeLessThan(ANSWER_MS);
  });
});
