// Operations from the dashboard: the exact command is shown before it runs, the row
// shows the restart in progress and then the real state without a manual refresh, and
// `down` cannot run until the target's name is typed.
import { container, docker, row, screenshot, waitForState } from "./support.mjs";

function startedAt(service) {
  return docker("inspect", "-f", "{{.State.StartedAt}}", container(service)).trim();
}

describe("operations", () => {
  it("restarts backend-aws from its row, showing the command first", async () => {
    await waitForState("backend-aws", "running"); // the console checks the lab on open
    const before = startedAt("backend-aws");

    await (await row("backend-aws")).$('[data-testid="restart-service"]').click();
    const command = await $('[data-testid="operation-command"]');
    await command.waitForDisplayed();
    expect(await command.getText()).toBe(
      "cd /home/ubuntu/automated-trading-platform && docker compose --profile aws restart backend-aws",
    );
    await screenshot("operation-confirm");
    await $('[data-testid="operation-run"]').click();

    // While the restart runs, the row says so; afterwards it shows the real state.
    await browser.waitUntil(async () => (await (await row("backend-aws")).getText()).includes("Restarting"), {
      timeout: 10000, interval: 50, timeoutMsg: "the row never showed the restart in progress",
    });
    const result = await $('[data-testid="operation-result"]');
    await result.waitForDisplayed({ timeout: 60000 });
    expect(await result.getAttribute("data-exit")).toBe("0");
    await waitForState("backend-aws", "running");
    expect(await (await row("backend-aws")).getText()).not.toContain("Restarting");
    expect(startedAt("backend-aws")).not.toBe(before);
    await browser.keys("Escape");
  });

  it("asks for the target's name before `down` and runs nothing when cancelled", async () => {
    await $('[data-testid="action-down"]').click();
    const command = await $('[data-testid="operation-command"]');
    await command.waitForDisplayed();
    expect(await command.getText()).toBe("cd /home/ubuntu/automated-trading-platform && docker compose --profile aws down");
    const run = await $('[data-testid="operation-run"]');
    expect(await run.isEnabled()).toBe(false);
    await $('[data-testid="confirm-input"]').setValue("Local la");
    expect(await run.isEnabled()).toBe(false);
    await $('[data-testid="confirm-input"]').setValue("Local lab");
    expect(await run.isEnabled()).toBe(true);
    await browser.keys("Escape"); // cancel: nothing runs
    await $('[data-testid="operation-dialog"]').waitForDisplayed({ reverse: true });
    expect(docker("inspect", "-f", "{{.State.Status}}", container("db")).trim()).toBe("running");
  });

  it("runs the health check and shows its output", async () => {
    await $('[data-testid="action-health"]').click();
    await $('[data-testid="operation-run"]').waitForEnabled();
    await $('[data-testid="operation-run"]').click();
    const output = await $('[data-testid="operation-output"]');
    await output.waitForDisplayed({ timeout: 30000 });
    expect(await output.getText()).toContain('"status":"ok"');
    await browser.keys("Escape");
  });

  it("shows pull's progress per service", async () => {
    await $('[data-testid="action-pull"]').click();
    await $('[data-testid="operation-run"]').waitForEnabled();
    await $('[data-testid="operation-run"]').click();
    await $('[data-testid="operation-result"]').waitForDisplayed({ timeout: 60000 });
    for (const service of ["backend-aws", "frontend-aws", "db", "market-updater-aws"]) {
      expect(await $(`[data-testid="operation-progress"] [data-service="${service}"]`).getAttribute("data-stage")).toBe("done");
    }
    await browser.keys("Escape");
  });

  it("streams a long migration's output and stops it on request", async () => {
    await $('[data-testid="action-migrate"]').click();
    await $('//button[@data-testid="migration-script"][contains(., "backfill_prices")]').click();
    await $('[data-testid="operation-run"]').waitForEnabled();
    await $('[data-testid="operation-run"]').click();
    const live = await $('[data-testid="operation-live-output"]');
    await browser.waitUntil(async () => (await live.isExisting()) && (await live.getText()).includes("backfill progress: 2"), {
      timeout: 20000, timeoutMsg: "the migration's output did not stream",
    });
    // Running, the dialog stays: Escape would hide the only Stop button and the output.
    await browser.keys("Escape");
    await browser.pause(300);
    expect(await $('[data-testid="operation-cancel"]').isDisplayed()).toBe(true);
    await $('[data-testid="operation-cancel"]').click();
    const result = await $('[data-testid="operation-result"]');
    await result.waitForDisplayed({ timeout: 10000 });
    expect(await result.getText()).toContain("Stopped on request");
    await browser.keys("Escape");
  });

  it("records what ran in the history", async () => {
    await $('[data-testid="nav-history"]').click();
    await $('[data-testid="history-table"]').waitForDisplayed();
    const rows = await $$('[data-testid="history-row"]');
    // Newest first: the stopped migration (stopped in its container too), the pull, the health check, the restart; the
    // cancelled `down` never ran.
    expect(rows.length).toBe(4);
    expect(await rows[0].getText()).toContain("(cancelled; stopped in the container)");
    expect(await rows[1].getText()).toContain("docker compose --profile aws pull");
    expect(await rows[2].getText()).toContain("curl -fsS -m 10");
    expect(await rows[3].getText()).toContain("docker compose --profile aws restart backend-aws");
    await $('[data-testid="history-filter"]').setValue("restart");
    expect((await $$('[data-testid="history-row"]')).length).toBe(1);
  });
});
