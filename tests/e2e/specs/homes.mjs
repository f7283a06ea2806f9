// The data dir each spec's app starts with, keyed by spec name. Runs in the test worker
// before the app starts; returns extra environment for the app (undefined removes a var).
import { execFileSync } from "node:child_process";
import { statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const WRONG_FINGERPRINT = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
export const KEY_PASSPHRASE = "e2e lab passphrase, not a secret";
/** The value the env editor's spec types: the secret scan looks for it everywhere too. */
export const TYPED_ENV_VALUE = "fake-e2e-value-7d41";

function rebuiltTarget(lab, name) {
  return { name, host: lab.host, port: lab.rebuilt_port, user: lab.user, project_dir: lab.project_dir, key: "local-lab" };
}

const homes = {
  // First run: the app creates "Local lab" from SHIPSHAPE_LAB.
  dashboard: () => ({}),
  "keyboard-access": () => ({}),
  operations: () => ({}),
  logs: () => ({}),
  "git-review": () => ({}),
  checklist: () => ({}),
  // The spec redefines the target in the console's settings file, as another process would.
  deploy: (home) => {
    process.env.SHIPSHAPE_E2E_HOME = home;
    return {};
  },

  // A deploy cut short: the CLI, on this data dir, killed with SIGKILL while it holds the
  // host's lock during the lab's minute-long migration.
  "deploy-interrupted": (home) => {
    const cli = `${process.env.SHIPSHAPE_E2E_APP.replace(/shipshape-console$/, "")}shipshape`;
    const script = `"$0" deploy "Local lab" --yes --message "Cut short (e2e)" --migrate apply_migration_backfill_prices.py >/dev/null 2>&1 &
pid=$!
for i in $(seq 300); do "$0" lock status "Local lab" 2>/dev/null | grep -q "locked by" && break; sleep 0.1; done
kill -9 "$pid"; wait "$pid" 2>/dev/null
for i in $(seq 100); do "$0" lock status "Local lab" 2>/dev/null | grep -q "free" && exit 0; sleep 0.1; done
exit 1`;
    execFileSync("sh", ["-c", script, cli], { env: { ...process.env, SHIPSHAPE_HOME: home }, stdio: "ignore" });
    return {};
  },
  "env-file": () => ({}),
  // The spec reads the journal with the CLI on the console's data dir.
  "deploy-killed-in-pull": (home) => {
    process.env.SHIPSHAPE_E2E_HOME = home;
    return {};
  },
  // The spec reads the journal and the lock with the CLI once the console has closed.
  "close-during-deploy": (home) => {
    process.env.SHIPSHAPE_E2E_HOME = home;
    return {};
  },
  // The spec reads the journal and the lock with the CLI once the console has closed.
  "close-frozen-page": (home) => {
    process.env.SHIPSHAPE_E2E_HOME = home;
    return {};
  },
  "console-sigterm": () => ({}),
  "console-sigkill": () => ({}),
  "window-reload": () => ({}),

  // First run on the lab; the spec changes the targets with the CLI in the same data dir.
  "shared-settings": (home) => {
    process.env.SHIPSHAPE_E2E_HOME = home;
    return {};
  },
  // A target on the lab's hostile sshd, added and trusted with the CLI, with short read
  // deadlines so a status that never parses ends in seconds.
  "hostile-window": (home, lab) => {
    const cli = `${process.env.SHIPSHAPE_E2E_APP.replace(/shipshape-console$/, "")}shipshape`;
    const policy = join(home, "quick.toml");
    writeFileSync(policy, "deadline_read_seconds = 5\ndeadline_health_seconds = 5\n");
    const env = { ...process.env, SHIPSHAPE_HOME: home };
    const port = String(lab.hostile_port);
    execFileSync(cli, ["target", "add", "hostile", "--host", lab.host, "--port", port, "--key", "local-lab", "--policy", policy], { env });
    execFileSync(cli, ["target", "trust", "hostile", "--fingerprint", lab.host_key_fingerprint], { env });
    return {};
  },
  // The sweep compares the data dir before and after each call.
  "bad-input": (home) => {
    process.env.SHIPSHAPE_E2E_HOME = home;
    return {};
  },

  // A settings file cut off mid-JSON (as by a crash of another writer): the console must
  // say so and leave it as it is, byte for byte.
  "damaged-settings": (home) => {
    const damaged = '{\n  "targets": [\n    { "name": "Prod", "host": "10.0.0.5", "po';
    writeFileSync(join(home, "settings.json"), damaged);
    process.env.SHIPSHAPE_E2E_HOME = home;
    process.env.SHIPSHAPE_E2E_DAMAGED = damaged;
    return {};
  },

  // First run on the lab; the spec adds a target for the "rebuilt" host and trusts it.
  targets: () => ({}),

  // A passphrase-protected key made by ssh-keygen, for the import dialog.
  keys: (home) => {
    const file = join(home, "id_ed25519_e2e");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", KEY_PASSPHRASE, "-C", "e2e", "-f", file]);
    process.env.SHIPSHAPE_E2E_KEY_FILE = file;
    return {};
  },

  // A target pinned to the lab's key, but its host now offers another: a changed key.
  "changed-key": (home, lab) => {
    writeFileSync(join(home, "settings.json"), JSON.stringify({ targets: [rebuiltTarget(lab, "Rebuilt lab")] }, null, 2));
    writeFileSync(join(home, "known_hosts"), `[${lab.host}]:${lab.rebuilt_port} ${lab.host_key_fingerprint}\n`);
    return {};
  },

  // The lab under a policy file whose read deadline is 3 s, pinned: a frozen Docker
  // engine shows as a timeout in seconds, not half a minute.
  "frozen-engine": (home, lab) => {
    const policy = join(home, "short-deadlines.toml");
    writeFileSync(policy, "deadline_read_seconds = 3\n");
    const target = {
      name: "Lab, short deadlines",
      host: lab.host,
      port: lab.port,
      user: lab.user,
      project_dir: lab.project_dir,
      key: "local-lab",
      policy_file: policy,
    };
    writeFileSync(join(home, "settings.json"), JSON.stringify({ targets: [target] }, null, 2));
    writeFileSync(join(home, "known_hosts"), `[${lab.host}]:${lab.port} ${lab.host_key_fingerprint}\n`);
    return {};
  },

  // The lab target; every operation counts as long enough to be announced.
  notifications: () => ({ SHIPSHAPE_NOTIFY_AFTER_MS: "0" }),

  // Nothing at all: no target, no lab bootstrap, a home with no ~/.ssh/config.
  newcomer: (home) => ({ SHIPSHAPE_LAB: undefined, HOME: home }),

  // Only a target whose pinned fingerprint is wrong; no lab bootstrap to restore the pin.
  "wrong-host-key": (home, lab) => {
    const target = {
      name: "Impostor check",
      host: lab.host,
      port: lab.port,
      user: lab.user,
      project_dir: lab.project_dir,
      key: "local-lab",
    };
    writeFileSync(join(home, "settings.json"), JSON.stringify({ targets: [target] }, null, 2));
    writeFileSync(join(home, "known_hosts"), `[${lab.host}]:${lab.port} ${WRONG_FINGERPRINT}\n`);
    // Everything sshd logs from here on was caused by this spec's app.
    process.env.SHIPSHAPE_E2E_SSHD_LOG_OFFSET = String(statSync(lab.sshd_log).size);
    return { SHIPSHAPE_LAB: undefined };
  },
};

export function prepareHome(spec, home, lab) {
  const prepare = homes[spec];
  if (!prepare) throw new Error(`no home is defined for spec ${spec} in homes.mjs`);
  return prepare(home, lab);
}
