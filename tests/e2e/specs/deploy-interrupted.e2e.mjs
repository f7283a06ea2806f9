// A deploy cut short (its process killed with SIGKILL while it held the host's lock):
// the next start shows it on the Deploy screen with the last step it completed, the lock
// already free, and offers to verify or roll back; verifying runs the checklist.
import { execFileSync, spawn } from "node:child_process";
import { screenshot } from "./support.mjs";

/** Another operator's deploy holding the host's lock: an flock and a holder file, as
 *  Shipshape's own lock script leaves them. */
function holdLock() {
  const holder = JSON.stringify({
    operator: "ann", key_fingerprint: "SHA256:e2e", machine: "ann-laptop", since: "2026-11-26T12:00:00Z",
    message: "Release 1.4 (e2e)", deploy: "deploy-e2e",
  });
  const script = `d="$HOME/.shipshape"; mkdir -p "$d"; exec 9>>"$d/deploy.lock"; flock 9; printf '%s\npid=%s\n' "$1" "$$" > "$d/deploy.holder"; exec sleep 60`;
  return spawn("runuser", ["-u", "ubuntu", "--", "sh", "-c", script, "sh", holder], { stdio: "ignore" });
}

describe("an interrupted deploy", () => {
  it("is offered for a verification or a rollback on the next start", async () => {
    await $('[data-testid="target"]').waitForDisplayed();
    await $('[data-testid="nav-deploy"]').click();
    const notice = await $('[data-testid="deploy-interrupted"]');
    await notice.waitForDisplayed({ timeout: 30000 });
    const text = await notice.getText();
    expect(text).toContain("Cut short (e2e)");
    expect(text).toContain("last step:");
    expect(await $('[data-testid="lock-state"]').getAttribute("data-held")).toBe("false");
    expect(await $('[data-testid="interrupted-rollback"]').isEnabled()).toBe(true);
    await $('[data-testid="interrupted-verify"]').click();
    const verified = await $('[data-testid="interrupted-verified"]');
    await verified.waitForDisplayed({ timeout: 60000 });
    expect(await verified.getText()).toMatch(/Checklist verify-\S+: \d+ failed/);
    await screenshot("deploy-interrupted");
  });

  it("shows another operator's lock in the status strip and on the dashboard", async () => {
    const holder = holdLock();
    try {
      await new Promise((resolve) => setTimeout(resolve, 500));
      await $('[data-testid="nav-dashboard"]').click();
      await $('[data-testid="connect"]').click(); // Refresh reads the lock again
      const strip = await $('[data-testid="strip-lock"]');
      await strip.waitForDisplayed({ timeout: 20000 });
      expect(await strip.getText()).toContain("Locked for a deploy by ann@ann-laptop");
      expect(await $('[data-testid="dashboard-lock"]').getText()).toContain("Release 1.4 (e2e)");
      await screenshot("dashboard-locked");
    } finally {
      holder.kill("SIGKILL");
      execFileSync("pkill", ["-u", "ubuntu", "-f", "sleep 60"]);
    }
  });
});
