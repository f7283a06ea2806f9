// The data dir each spec's app starts with, keyed by spec name. Runs in the test worker
// before the app starts; returns extra environment for the app (undefined removes a var).
import { statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const WRONG_FINGERPRINT = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

const homes = {
  // First run: the app creates "Local lab" from SHIPSHAPE_LAB.
  dashboard: () => ({}),

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
