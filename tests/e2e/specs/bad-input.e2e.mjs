// The bad-input sweep over IPC: every command the window may invoke (tests/e2e/commands.json,
// generated from the #[tauri::command] functions, so a new command is swept the day it
// lands) is invoked from inside the real window with its arguments missing, empty,
// over-long, holding a NUL, or of the wrong kind: first all of them, then with a valid
// target so the arguments after it are reached. Each call must be refused, with one of
// the core's error codes and a short message (or by Tauri itself, whose refusal the
// client words as bad input), and nothing may change: the data dir, the keyring, the
// host's env file, audit log and containers.
import { createHash } from "node:crypto";
import { execFileSync, spawnSync } from "node:child_process";
import { appendFileSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { lab } from "./support.mjs";

const commands = JSON.parse(readFileSync(new URL("../commands.json", import.meta.url), "utf8"));
const bindings = readFileSync(new URL("../../../ui/src/lib/bindings.ts", import.meta.url), "utf8");
const codes = [...bindings.match(/export type ErrorCode = ([^;]*);/)[1].matchAll(/"(\w+)"/g)].map((m) => m[1]);

// A native file dialog waits for a person; it takes no input worth sweeping.
const NOT_SWEPT = new Set(["choose_report_path"]);

const LONG = "x".repeat(100_000);
/** What each kind of bad input sends for an argument of each kind (undefined: left out). */
const BAD = {
  missing: () => undefined,
  empty: (kind) => ({ string: "", number: "", bool: "", optional: "", list: "", object: {}, any: "" })[kind],
  "over-long": (kind) => (kind === "list" ? [LONG] : LONG),
  nul: (kind) => (kind === "list" ? ["a\u0000b"] : "a\u0000b"),
  "wrong kind": (kind) => ({ string: 42, number: "many", bool: "yes", optional: [1], list: {}, object: 42, any: undefined })[kind],
};

function sha256(path) {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

function filesBelow(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesBelow(path) : [path];
  });
}

/** Everything a refused call must leave as it was. */
function state() {
  const home = process.env.SHIPSHAPE_E2E_HOME;
  const out = {};
  // The diagnostics log grows with every call, as it should; the secret scan reads it.
  for (const file of filesBelow(home).filter((f) => !relative(home, f).startsWith("logs/"))) {
    out[`data dir: ${relative(home, file)}`] = sha256(file);
  }
  // secret-tool prints each item's attributes on its error stream.
  const found = spawnSync("secret-tool", ["search", "--all", "service", "shipshape"], { encoding: "utf8" });
  const keyring = `${found.stdout ?? ""}\n${found.stderr ?? ""}`;
  out.keyring = keyring.split("\n").filter((l) => l.startsWith("attribute.username")).sort().join(", ");
  out["host: .env.aws"] = sha256(join(lab.project_dir, ".env.aws"));
  out["host: audit log"] = String(statSync(`/home/${lab.user}/.shipshape/audit.log`, { throwIfNoEntry: false })?.size ?? 0);
  out["host: containers"] = execFileSync("docker", ["ps", "--all", "--no-trunc", "--format", "{{.ID}} {{.State}}"], { encoding: "utf8" });
  return out;
}

function changed(before, after) {
  return Object.keys({ ...before, ...after }).filter((k) => before[k] !== after[k]);
}

/** Invokes `command` with `args` inside the window; channels become real ones. */
async function invoke(command, args) {
  // executeAsync, not an async execute: WebKitWebDriver fails the whole script when a
  // promise inside it rejects, even a caught one.
  return browser.executeAsync(
    (command, args, done) => {
      const internals = window.__TAURI_INTERNALS__;
      const payload = {};
      for (const [key, value] of Object.entries(args)) {
        payload[key] = value === "<channel>" ? `__CHANNEL__:${internals.transformCallback(() => {})}` : value;
      }
      internals.invoke(command, payload).then(
        (value) => done({ resolved: true, value: JSON.stringify(value)?.slice(0, 300) ?? "undefined" }),
        // Not `error`: WebDriver reads a result with that key as its own failure.
        (refusal) => done({ resolved: false, refusal }),
      );
    },
    command,
    args,
  );
}

/** What is wrong with how a call ended, if anything. */
function judge(outcome) {
  if (outcome.resolved) return `resolved with ${outcome.value}`;
  const error = outcome.refusal;
  if (typeof error === "string") {
    // Tauri's own refusal of the arguments; the client words it as bad input.
    return error.startsWith("invalid args") ? null : `rejected with a bare string: ${error.slice(0, 200)}`;
  }
  if (!error || !codes.includes(error.code)) return `rejected without an error code: ${JSON.stringify(error).slice(0, 200)}`;
  if (!error.message) return "an error without a message";
  const said = `${error.message} ${error.remedy} ${error.detail ?? ""}`;
  if (said.length > 2000) return `a ${said.length}-character error, the value quoted whole`;
  if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(said)) return "control characters in the error";
  return null;
}

/** The argument sets of one command under one kind of bad input: all arguments bad, then
 *  (if there are others to reach) a valid target and the rest bad. Channels stay real. */
function cases(command, bad) {
  // Every argument optional: leaving them all out is a valid call, not bad input.
  if (bad === "missing" && command.args.every((a) => a.kind === "optional" || a.kind === "channel")) return [];
  const sets = [];
  const build = (validTarget) => {
    const args = {};
    for (const { key, kind } of command.args) {
      const value = kind === "channel" ? "<channel>" : validTarget && key === "target" ? "Local lab" : BAD[bad](kind);
      if (value !== undefined) args[key] = value;
    }
    return args;
  };
  sets.push(build(false));
  const hasTarget = command.args.some((a) => a.key === "target");
  // An optional argument left out is a valid call, not bad input.
  const others = command.args.filter(
    (a) => a.key !== "target" && a.kind !== "channel" && !(bad === "missing" && a.kind === "optional"),
  );
  if (hasTarget && others.length) sets.push(build(true));
  return sets;
}

describe("every IPC command given bad input", () => {
  it("refuses it with an error code and a short message, and changes nothing", async () => {
    await $('[data-testid="target"]').waitForDisplayed({ timeout: 30000 });
    let before = state();
    // The lab's key is in the keyring: a keyring that reads as empty would hide a change.
    expect(before.keyring).toContain("attribute.username");
    const failures = [];
    let calls = 0;
    const swept = commands.filter((c) => c.args.some((a) => a.kind !== "channel") && !NOT_SWEPT.has(c.name));
    for (const command of swept) {
      for (const bad of Object.keys(BAD)) {
        for (const args of cases(command, bad)) {
          const outcome = await invoke(command.name, args);
          calls += 1;
          const shown = Object.entries(args)
            .map(([k, v]) => `${k}=${typeof v === "string" && v.length > 40 ? `<${v.length} chars>` : JSON.stringify(v)?.slice(0, 40)}`)
            .join(" ");
          const problem = judge(outcome);
          if (problem) failures.push(`${command.name}(${shown}) [${bad}]: ${problem}`);
          const after = state();
          const what = changed(before, after);
          if (what.length) {
            failures.push(`${command.name}(${shown}) [${bad}]: changed ${what.join(", ")}`);
            before = after;
          }
        }
      }
    }
    const refused = calls - failures.length;
    const changes = failures.filter((f) => f.includes("]: changed ")).length;
    console.log(`IPC bad-input sweep: ${swept.length} commands, ${calls} calls, ${refused} refused as they should be`);
    // A row of the proving ground's table (tests/run-all.sh names the file).
    if (process.env.SHIPSHAPE_PROVING_GROUND) {
      const row = `| bad input: every IPC command (${swept.length} of them, from the real window; missing, empty, over-long, NUL, wrong kind) | ${calls} | ${refused} refused with an error code and a short message, ${calls - refused} not | ${changes} |`;
      appendFileSync(process.env.SHIPSHAPE_PROVING_GROUND, `${row}\n`);
    }
    if (failures.length) throw new Error(`${failures.length} of ${calls} calls were not refused cleanly:\n${failures.join("\n")}`);
    // The window is still the console: it answers and shows the lab target.
    await $('[data-testid="target"]').waitForDisplayed();
  });
});
