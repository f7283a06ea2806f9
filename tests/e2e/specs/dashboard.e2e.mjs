// The skeleton chain in the real window: the lab target appears on first run, Connect
// lists the four services, and a service stopped behind the console's back shows as
// stopped after a refresh.
import { container, docker, row, screenshot, waitForState } from "./support.mjs";

const SERVICES = ["backend-aws", "frontend-aws", "db", "market-updater-aws"];

describe("dashboard", () => {
  after(() => {
    docker("start", container("backend-aws"), container("market-updater-aws"));
  });

  it("lists the Local lab target on first run", async () => {
    const target = await $('[data-testid="target"]');
    await target.waitForDisplayed();
    expect(await target.getText()).toContain("Local lab");
    expect(await $('[data-testid="planned-command"]').getText()).toBe(
      "cd /home/ubuntu/automated-trading-platform && docker compose --profile aws ps --all --format json",
    );
  });

  it("connects and shows the four services running", async () => {
    await $('[data-testid="connect"]').click();
    for (const service of SERVICES) await waitForState(service, "running");
    expect(await (await row("backend-aws")).getText()).toContain("Running");
    expect(await $('[data-testid="summary"]').getText()).toContain("4 of 4 services running");
    // The services may already show from the read made at start while this click's
    // read is still under way: it ends connected.
    await browser.waitUntil(async () => (await $('[data-testid="connection-state"]').getAttribute("data-state")) === "connected", {
      timeoutMsg: "the dashboard never said connected",
    });
    await screenshot("dashboard-running");
  });

  it("shows backend-aws stopped after it is stopped through Docker and refreshed", async () => {
    docker("stop", "-t", "2", container("backend-aws"));
    await $('[data-testid="connect"]').click(); // now labelled Refresh
    await waitForState("backend-aws", "exited");
    expect(await (await row("backend-aws")).getText()).toContain("Stopped");
    expect(await $('[data-testid="summary"]').getText()).toContain("3 of 4 services running");
    await screenshot("dashboard-backend-stopped");
    docker("start", container("backend-aws"));
  });

  it("follows changes live, without a refresh, once connected", async () => {
    await waitForState("backend-aws", "running", 60000); // restarted after the previous test
    await $('[data-testid="live"]').waitForDisplayed();
    docker("stop", "-t", "2", container("market-updater-aws"));
    await waitForState("market-updater-aws", "exited");
    docker("start", container("market-updater-aws"));
    await waitForState("market-updater-aws", "running");
    await screenshot("dashboard-live");
  });

  it("follows a service's logs from its row", async () => {
    await waitForState("market-updater-aws", "running");
    await (await row("market-updater-aws")).$('[data-testid="service-logs"]').click();
    await browser.waitUntil(async () => (await $('[data-testid="log-state"]').getAttribute("data-state")) === "following", {
      timeoutMsg: "the row's Logs never started a follow",
    });
    expect(await $('[data-testid="log-command"]').getText()).toContain("logs -n 200 -f market-updater-aws");
    await $('[data-testid="log-stop"]').click();
    await browser.waitUntil(async () => (await $('[data-testid="log-state"]').getAttribute("data-state")) === "stopped");
  });
});

