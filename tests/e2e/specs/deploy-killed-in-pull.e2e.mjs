// The console killed with SIGKILL in the middle of a deploy's `pull` (the lab's registry
// frozen with SIGSTOP, so the pull hangs there): nothing of it is left running on the
// host, the lock is free without anyone breaking it, the journal keeps the deploy as
// interrupted with its last step and its chain verifies; the next start offers to
// resume, verify or roll back, and resuming keeps the snapshot the first run took.
import { execFileSync } from "node:child_process";
import { brieflyListed, cli, confirmRun, consolePid, deployHeldInPull, deployScreenAfterRestart, container, docker, newImageOnRegistry, registry, running, screenshot, shipshapeProcessesOnHost } from "./support.mjs";

let pushed = { previous: "", undo: () => {} };

describe("the console killed during a deploy's pull", () => {
  before(() => {
    pushed = newImageOnRegistry("killed-in-pull");
  });

  after(() => pushed.undo());

  it("leaves an interrupted deploy that the next start offers to resume", async () => {
    await deployHeldInPull("Killed in pull (e2e)");
    await browser.waitUntil(() => shipshapeProcessesOnHost().join("\n").includes("pull"), {
      timeout: 10000,
      timeoutMsg: "no pull was running on the host",
    });
    await screenshot("killed-in-pull-before");
    const pid = consolePid();
    expect(pid).not.toBeNull();
    execFileSync("kill", ["-KILL", pid]);
    execFileSync("kill", ["-CONT", registry()]);

    const killedAt = Date.now();
    let left = shipshapeProcessesOnHost();
    while ((left.length > 0 || running(pid)) && Date.now() - killedAt < 10000) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      left = shipshapeProcessesOnHost();
    }
    expect(running(pid) ? `console ${pid} still running` : "console gone").toBe("console gone");
    expect(brieflyListed(left)).toBe("");
    expect(cli("lock", "status", "Local lab")).toContain("free");
    const history = JSON.parse(cli("history", "--json"));
    const deploy = history.filter((r) => r.kind === "deploy").at(-1);
    expect(deploy.outcome).toBe("interrupted");
    expect(deploy.title).toContain("last step: Pull the latest code");
    cli("history", "verify");

    const banner = await deployScreenAfterRestart("deploy-interrupted");
    expect(await banner.getText()).toContain("Killed in pull (e2e)");
    for (const choice of ["interrupted-resume", "interrupted-verify", "interrupted-rollback"]) {
      expect(await $(`[data-testid="${choice}"]`).isDisplayed()).toBe(true);
    }
    await screenshot("killed-in-pull-next-start");

    await $('[data-testid="interrupted-resume"]').click();
    await $('[data-testid="confirm-dialog"]').waitForDisplayed();
    // A resume keeps the snapshot it resumes, and says so among what it will run.
    await $('[data-testid="run-plan"]').waitForDisplayed({ timeout: 15000 });
    expect(await $('[data-testid="run-plan"]').getText()).toContain("Keep the snapshot of the deploy resumed");
    expect((await confirmRun()).some((c) => c.endsWith("up -d --remove-orphans"))).toBe(true);
    const result = await $('[data-testid="deploy-result"]');
    await result.waitForDisplayed({ timeout: 120000 });
    expect(await result.getAttribute("data-outcome")).toBe("succeeded");
    const steps = await $$('[data-testid="deploy-step"]').map((s) => s.getText());
    expect(steps.some((s) => s.includes("Keep the snapshot of the deploy resumed") && s.includes(deploy.id))).toBe(true);
    expect(docker("inspect", "-f", "{{.Image}}", container("market-updater-aws")).trim()).not.toBe(pushed.previous);
  });
});
