// Settings shared by the console and the CLI: targets the CLI adds or removes while the
// console is open show up in it without a restart, and survive the console's own next
// save and its exit.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { cli, closeConsole, lab, waitForTarget } from "./support.mjs";

const settings = () => JSON.parse(readFileSync(join(process.env.SHIPSHAPE_E2E_HOME, "settings.json"), "utf8"));
const names = () => settings().targets.map((t) => t.name);

describe("settings shared with the CLI", () => {
  it("shows a target the CLI adds, and drops one it removes, without a restart", async () => {
    await waitForTarget("Local lab");
    cli("target", "add", "Staging (CLI)", "--host", lab.host, "--port", String(lab.rebuilt_port), "--key", "local-lab");
    cli("target", "add", "Scratch (CLI)", "--host", lab.host, "--port", String(lab.v1_port), "--key", "local-lab");
    await waitForTarget("Staging (CLI)");
    await waitForTarget("Scratch (CLI)");
    cli("target", "remove", "Scratch (CLI)");
    await waitForTarget("Scratch (CLI)", false);
  });

  it("keeps the CLI's changes through the console's next save and its exit", async () => {
    await $('[data-testid="nav-targets"]').click();
    await $('[data-testid="add-target"]').click();
    await $('[data-testid="target-name"]').setValue("Added in the console");
    await $('[data-testid="target-host"]').setValue(lab.host);
    await $('[data-testid="target-port"]').setValue(String(lab.port));
    await $('[data-testid="target-key"]').selectByVisibleText("local-lab (ssh-ed25519)");
    await $('[data-testid="save-target"]').click();
    await waitForTarget("Added in the console");
    expect(names()).toEqual(expect.arrayContaining(["Local lab", "Staging (CLI)", "Added in the console"]));
    expect(names()).not.toContain("Scratch (CLI)");

    cli("target", "add", "Late (CLI)", "--host", lab.host, "--port", String(lab.port), "--key", "local-lab");
    await waitForTarget("Late (CLI)");
    await closeConsole();
    expect(names()).toEqual(expect.arrayContaining(["Local lab", "Staging (CLI)", "Added in the console", "Late (CLI)"]));
    expect(names()).not.toContain("Scratch (CLI)");
  });
});
