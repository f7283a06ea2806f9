// Helpers the specs share: the lab's descriptor and Docker access as the lab operator.
import { execFileSync } from "node:child_process";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

export const lab = JSON.parse(readFileSync(process.env.SHIPSHAPE_LAB, "utf8"));
export const project = lab.project_dir.split("/").pop();

export function container(service) {
  return `${project}-${service}-1`;
}

export function docker(...args) {
  return execFileSync("docker", args, { encoding: "utf8" });
}

/** Reads what sshd logged after `offset` bytes. */
export function sshdLogSince(offset) {
  return readFileSync(lab.sshd_log).subarray(offset).toString("utf8");
}

export function sshdLogSize() {
  return statSync(lab.sshd_log).size;
}

export async function row(service) {
  return $(`[data-testid="service-row"][data-service="${service}"]`);
}

export async function waitForState(service, state, timeout = 30000) {
  await browser.waitUntil(async () => (await (await row(service)).getAttribute("data-state")) === state, {
    timeout,
    timeoutMsg: `${service} never showed ${state}`,
  });
}

export async function screenshot(name) {
  const dir = process.env.SHIPSHAPE_E2E_SCREENSHOTS;
  if (!dir) return;
  await browser.pause(250); // let WebKit paint the last change before it is captured
  // What the X display shows, as a person would see it. (WebKitWebDriver's own screenshot
  // never answers when WebKit draws with its shared-memory renderer, the console's
  // choice on a machine with no GPU.)
  execFileSync("import", ["-window", "root", `${dir}/${name}.png`]);
}

/** Confirms a deploy or resume once its dialog shows what it will run (the button waits
 *  for that); the commands shown are returned. */
export async function confirmRun() {
  const button = await $('[data-testid="confirm-button"]');
  await button.waitForEnabled({ timeout: 15000, timeoutMsg: "the run's commands were never shown" });
  const shown = await $$('[data-testid="run-plan-command"]').map((c) => c.getText());
  await button.click();
  return shown;
}

/** A new start of the console (a new session), on the Deploy screen: `panel`, what it
 *  offers about the last run, once shown. */
export async function deployScreenAfterRestart(panel) {
  await browser.reloadSession();
  await $('[data-testid="target"]').waitForDisplayed();
  await $('[data-testid="nav-deploy"]').click();
  const shown = await $(`[data-testid="${panel}"]`);
  await shown.waitForDisplayed({ timeout: 30000 });
  return shown;
}

/** The lab registry's process: frozen with SIGSTOP, it holds a deploy in its pull. */
export const registry = () => execFileSync("pgrep", ["-o", "-f", "docker-registry"], { encoding: "utf8" }).trim();

/** Whether the deploy on screen is in its image pull. */
export async function pullRunning() {
  const steps = await $$('[data-testid="deploy-step"]').map(async (s) => [await s.getText(), await s.getAttribute("data-state")]);
  return steps.some(([text, state]) => text.includes("Pull the images") && state === "running");
}

/** A deploy started on the Deploy screen with `message` and confirmed, held in its image
 *  pull by the lab's registry frozen with SIGSTOP (thawed by `newImageOnRegistry`'s undo
 *  if the spec does not): returns once the pull runs. */
export async function deployHeldInPull(message) {
  await $('[data-testid="target"]').waitForDisplayed();
  await $('[data-testid="nav-deploy"]').click();
  await $('[data-testid="review-approval"]').waitForDisplayed({ timeout: 30000 });
  execFileSync("kill", ["-STOP", registry()]);
  await $('[data-testid="deploy-message"]').setValue(message);
  await $('[data-testid="deploy-start"]').click();
  await confirmRun();
  await browser.waitUntil(pullRunning, { timeout: 60000, timeoutMsg: "the pull never started" });
}

/** The window manager's close: WM_DELETE_WINDOW to the windows of process `pid`. */
export const closeWindow = (pid) =>
  execFileSync("/usr/bin/python3", [new URL("../wm-close.py", import.meta.url).pathname, pid], { encoding: "utf8" });

export const asLabUser = (...args) =>
  execFileSync("runuser", ["-u", "ubuntu", "--", "sh", "-c", `cd ${lab.project_dir} && "$@"`, "sh", ...args], {
    encoding: "utf8",
  }).trim();

/** A new market-updater image on the lab registry, so a deploy has an image to pull
 *  (the host keeps running the old one, `previous`); `undo` puts the registry, the env
 *  file, the services and the host's lock dir back as they were. */
export function newImageOnRegistry(label) {
  const tag = `${lab.registry}/atp/market-updater:lab`;
  const image = docker("image", "inspect", "-f", "{{.Id}}", tag).trim();
  const env = readFileSync(join(lab.project_dir, ".env.aws"));
  docker("commit", "-c", `LABEL shipshape.test=${label}`, container("market-updater-aws"), tag);
  docker("push", "-q", tag);
  docker("tag", image, tag);
  const undo = () => {
    try { execFileSync("kill", ["-CONT", registry()]); } catch { /* already running */ }
    docker("tag", image, tag);
    docker("push", "-q", tag);
    writeFileSync(join(lab.project_dir, ".env.aws"), env);
    asLabUser("docker", "compose", "--profile", "aws", "up", "-d", "--wait");
    asLabUser("rm", "-rf", "/home/ubuntu/.shipshape");
  };
  return { previous: image, undo };
}

/** The lab user's processes that a console started on the host: supervisors, watchers,
 *  `docker events` of the live view, log follows (the lab runs on this machine). */
export function shipshapeProcessesOnHost() {
  try {
    return execFileSync("pgrep", ["-u", lab.user, "-af", "shipshape-|logs -f|docker events"], { encoding: "utf8" })
      .split("\n")
      .filter(Boolean);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

/** Processes from shipshapeProcessesOnHost() as one line a failed expectation can show
 *  (a supervisor's script is long: its start and its end, the command, are kept). */
export function brieflyListed(processes) {
  return processes.map((p) => (p.length > 200 ? `${p.slice(0, 60)} … ${p.slice(-120)}` : p)).join(" | ");
}

/** Whether process `pid` runs (one killed that its parent has not reaped yet, a zombie,
 *  does not). */
export function running(pid) {
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/** This spec's console process: the newest one of the app under test (the spec before's
 *  may still be closing), or null if none runs. */
export function consolePid() {
  const app = process.env.SHIPSHAPE_E2E_APP.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  try {
    return execFileSync("pgrep", ["-n", "-f", `^${app}( |$)`], { encoding: "utf8" }).trim() || null;
  } catch {
    return null; // pgrep exits 1 when nothing matches
  }
}

/** With the live view on and a log follow running, the console process is killed with
 *  `signal`; within 5 s nothing it started may be left on the host. */
/** Connects the dashboard's target (its live view) and follows market-updater-aws's logs. */
export async function liveViewAndFollow() {
  await $('[data-testid="target"]').waitForDisplayed();
  await $('[data-testid="connect"]').click();
  await $('[data-testid="live"]').waitForDisplayed({ timeout: 30000 });
  await $('[data-testid="nav-logs"]').click();
  await $('[data-testid="log-service-market-updater-aws"]').click();
  await browser.waitUntil(async () => (await $('[data-testid="log-state"]').getAttribute("data-state")) === "following", {
    timeout: 30000,
    timeoutMsg: "the follow never started",
  });
}

export async function killedConsoleLeavesNothing(signal) {
  await liveViewAndFollow();
  await browser.waitUntil(
    () => {
      const running = shipshapeProcessesOnHost().join("\n");
      return running.includes("docker events") && running.includes("logs");
    },
    { timeout: 10000, timeoutMsg: "the live view and the follow were not both running on the host" },
  );
  const pid = consolePid();
  expect(pid).not.toBeNull();
  execFileSync("kill", [`-${signal}`, pid]);
  const killedAt = Date.now();
  let left = shipshapeProcessesOnHost();
  while (left.length > 0 && Date.now() - killedAt < 5000) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    left = shipshapeProcessesOnHost();
  }
  expect(brieflyListed(left)).toBe("");
}

/** The `shipshape` CLI built beside the console, on the console's data dir. */
export function cli(...args) {
  const bin = `${process.env.SHIPSHAPE_E2E_APP.replace(/shipshape-console$/, "")}shipshape`;
  return execFileSync(bin, args, {
    encoding: "utf8",
    env: { ...process.env, SHIPSHAPE_HOME: process.env.SHIPSHAPE_E2E_HOME },
  });
}

/** Waits until the target list does (or, with `present` false, does not) show `name`.
 *  The list is read in one script, not element by element: an element that leaves the
 *  page between the two (the very removal awaited) sent WebdriverIO looking for it
 *  again by its index for longer than this wait, though the page was already right. */
export async function waitForTarget(name, present = true) {
  await browser.waitUntil(
    async () => {
      const names = await browser.execute(() =>
        [...document.querySelectorAll('[data-testid="target"]')].map((t) => t.textContent ?? ""),
      );
      return names.some((n) => n.includes(name)) === present;
    },
    { timeout: 10000, timeoutMsg: `the target list never ${present ? "showed" : "dropped"} ${name}` },
  );
}

/** Closes the console's window, so the app exits as after a click on its close button;
 *  WebdriverIO reports the session gone, which is the point. */
export async function closeConsole() {
  try {
    await browser.closeWindow();
  } catch (e) {
    if (!String(e).includes("window handles were removed")) throw e;
  }
  await new Promise((resolve) => setTimeout(resolve, 1500)); // let the app finish exiting
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** axe-core's WCAG 2.1 A and AA rules on the page as it is now: the violations, one line each. */
export async function axeViolations() {
  const loaded = await browser.execute(() => typeof window.axe !== "undefined");
  if (!loaded) await browser.execute(`${axeSource}; return true;`);
  const result = await browser.executeAsync((done) => {
    window.axe
      .run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } })
      .then((r) => done(r.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).slice(0, 4).join(" | ")}`)))
      .catch((e) => done([`axe failed: ${e}`]));
  });
  return result;
}


/** Presses Tab (Shift+Tab with `back`) until the element with one of `testids` has focus:
 *  how a keyboard user gets there. Fails after 80 presses. */
export async function tabTo(testids, back = false) {
  const wanted = [testids].flat();
  for (let i = 0; i < 80; i++) {
    const at = await browser.execute(() => document.activeElement?.getAttribute("data-testid") ?? null);
    if (wanted.includes(at)) return at;
    await browser.keys(back ? ["Shift", "Tab"] : ["Tab"]);
  }
  throw new Error(`Tab never reached ${wanted.join(" or ")}`);
}
