// End-to-end tests of the real console window: tauri-driver drives WebKitWebDriver,
// which starts the built app (SHIPSHAPE_E2E_APP) against the lab. Each spec file gets a
// fresh app process and a fresh data dir, prepared by specs/homes.mjs.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, basename } from "node:path";
import { prepareHome } from "./specs/homes.mjs";

const app = process.env.SHIPSHAPE_E2E_APP;
if (!app) throw new Error("SHIPSHAPE_E2E_APP must name the built shipshape-console binary");
const lab = JSON.parse(readFileSync(process.env.SHIPSHAPE_LAB, "utf8"));

let driver;
let spec;
let homes;

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
    const home = mkdtempSync(join(homes, `shipshape-e2e-${spec}-`));
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

  afterSession: () => {
    driver?.kill();
  },
};
