// End-to-end tests of the real console window: tauri-driver drives WebKitWebDriver,
// which starts the built app (SHIPSHAPE_E2E_APP) against the lab. Each spec file gets a
// fresh app process and a fresh data dir, prepared by specs/homes.mjs.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, basename } from "node:path";
import { prepareHome } from "./specs/homes.mjs";

const app = process.env.SHIPSHAPE_E2E_APP;
if (!app) throw new Error("SHIPSHAPE_E2E_APP must name the built shipshape-console binary");
const lab = JSON.parse(readFileSync(process.env.SHIPSHAPE_LAB, "utf8"));

let driver;

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
    const spec = basename(specs[0], ".e2e.mjs");
    // run-all.sh keeps the homes together, for the secret scan after the suite.
    const homes = process.env.SHIPSHAPE_E2E_HOMES ?? tmpdir();
    mkdirSync(homes, { recursive: true });
    const home = mkdtempSync(join(homes, `shipshape-e2e-${spec}-`));
    const env = { ...process.env, SHIPSHAPE_HOME: home, ...prepareHome(spec, home, lab) };
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
    driver = spawn("tauri-driver", ["--port", "4444"], { stdio: ["ignore", "inherit", "inherit"], env });
    await new Promise((resolve) => setTimeout(resolve, 800));
  },

  afterSession: () => {
    driver?.kill();
  },
};
