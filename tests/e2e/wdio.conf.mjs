// End-to-end tests of the real console window: tauri-driver drives WebKitWebDriver,
// which starts the built app (SHIPSHAPE_E2E_APP) against the lab. Each spec file gets a
// fresh app process and a fresh data dir, prepared by specs/homes.mjs.
import { spawn } from "node:child_process";
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, basename } from "node:path";
import { prepareHome } from "./specs/homes.mjs";
import { running } from "./specs/support.mjs";

const app = process.env.SHIPSHAPE_E2E_APP;
if (!app) throw new Error("SHIPSHAPE_E2E_APP must name the built shipshape-console binary");
const lab = JSON.parse(readFileSync(process.env.SHIPSHAPE_LAB, "utf8"));

let driver;
let spec;
let homes;
let home;

/** The app's processes started on `dataDir` (their SHIPSHAPE_HOME) that still run: a
 *  console whose window has closed must be gone within seconds. */
function consolesOn(dataDir) {
  const pids = [];
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0] !== app || !running(pid)) continue;
      if (readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(`SHIPSHAPE_HOME=${dataDir}`)) pids.push(pid);
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** Taps, inside the window, what the core sends it: every command's answer or refusal
 *  and every channel message, kept for the secret scan after the suite (run-all.sh).
 *  What the window sends the core is not kept: a passphrase typed to import a key must
 *  cross to the core. Calls before the tap (the app's first screen) are not seen; every
 *  step a spec takes is. Kept up to 32 MB, so a flood (the hostile host) stays bounded. */
function tapIpc() {
  // Tauri's IPC functions cannot be replaced (defined read-only), but every answer,
  // refusal and channel message reaches the page through one Map of callbacks, which its
  // runCallback reads with `get`: the tap wraps that.
  const callbacks = window.__TAURI_INTERNALS__?.callbacks;
  if (!callbacks) return false;
  const tap = (window.__shipshapeTap = { kept: [], size: 0, dropped: 0 });
  const keep = (data) => {
    let text;
    try {
      text = JSON.stringify(data) ?? "undefined";
    } catch {
      text = String(data);
    }
    if (tap.size + text.length > 32 * 1024 * 1024) return void (tap.dropped += 1);
    tap.size += text.length;
    tap.kept.push(text);
  };
  const get = callbacks.get.bind(callbacks);
  callbacks.get = (id) => {
    const callback = get(id);
    return (
      callback &&
      ((data) => {
        keep(data);
        return callback(data);
      })
    );
  };
  return true;
}

export const config = {
  runner: "local",
  specs: ["./specs/*.e2e.mjs"],
  maxInstances: 1,
  hostname: "127.0.0.1",
  port: 4444,
  capabilities: [{ maxInstances: 1, "tauri:options": { application: app } }],
  logLevel: "warn",
  framework: "mocha",
  mochaOpts: { ui: "bdd", timeout: 120000 },
  reporters: ["spec"],
  waitforTimeout: 20000,

  beforeSession: async (_config, _caps, specs) => {
    spec = basename(specs[0], ".e2e.mjs");
    // run-all.sh keeps the homes together, for the secret scan after the suite.
    homes = process.env.SHIPSHAPE_E2E_HOMES ?? tmpdir();
    mkdirSync(homes, { recursive: true });
    home = mkdtempSync(join(homes, `shipshape-e2e-${spec}-`));
    const env = { ...process.env, SHIPSHAPE_HOME: home, ...prepareHome(spec, home, lab) };
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
    driver = spawn("tauri-driver", ["--port", "4444"], { stdio: ["ignore", "inherit", "inherit"], env });
    await new Promise((resolve) => setTimeout(resolve, 800));
  },

  before: async () => {
    if (!(await browser.execute(tapIpc))) console.log(`IPC tap of ${spec} not installed: no Tauri IPC in the page`);
  },

  after: async () => {
    try {
      const tapped = await browser.execute(() => window.__shipshapeTap);
      writeFileSync(join(homes, `ipc-${spec}.json`), JSON.stringify(tapped));
    } catch (error) {
      // A spec that ends the app itself (SIGKILL, SIGTERM) leaves nothing to read.
      console.log(`IPC tap of ${spec} not read: ${String(error).split("\n")[0]}`);
    }
  },

  // A console still running 10 s after its spec's session ended (its window closed, or
  // it was killed), and then 5 s after a SIGTERM, is a failure run-all.sh counts: it
  // would keep its connections, and what it runs on the host, and spoil the next spec's
  // counts. It is ended here.
  afterSession: async () => {
    driver?.kill();
    let left = consolesOn(home);
    for (let waited = 0; left.length > 0 && waited < 10000; waited += 200) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      left = consolesOn(home);
    }
    if (left.length === 0) return;
    const where = left.map((pid) => {
      const wchan = (() => { try { return readFileSync(`/proc/${pid}/wchan`, "utf8"); } catch { return "?"; } })();
      return `${pid} (waiting in ${wchan || "user space"})`;
    });
    // Left by the driver (seen once so far, in the targets spec: WebKitWebDriver had not ended
    // it, and it sat in its main loop): a logout's SIGTERM must still end it cleanly, as
    // on a desktop. Only a console that outlives that too is a failure.
    for (const pid of left) try { process.kill(Number(pid), "SIGTERM"); } catch { /* gone */ }
    for (let waited = 0; left.length > 0 && waited < 5000; waited += 200) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      left = consolesOn(home);
    }
    if (left.length === 0) {
      console.log(`console of ${spec} left running by the driver 10 s after its session ended: ${where.join(", ")}; it ended on SIGTERM`);
      return;
    }
    console.log(`console of ${spec} still running 10 s after its session ended and 5 s after SIGTERM: ${where.join(", ")}; killed`);
    appendFileSync(join(homes, "consoles-left"), `the console of ${spec} kept running after its session ended and a SIGTERM: ${where.join(", ")}\n`);
    for (const pid of left) try { process.kill(Number(pid), "SIGKILL"); } catch { /* gone */ }
  },
};
