// Add a target → trust its host key by pasting the expected fingerprint → connect. A
// policy file typed in the form is read when the field is left: its project directory
// taken, a file that does not read said beside it.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lab, waitForState, screenshot } from "./support.mjs";

describe("targets", () => {
  it("adds a target, trusts its host key and connects", async () => {
    await $('[data-testid="nav-targets"]').click();
    await $('[data-testid="add-target"]').click();
    await $('[data-testid="target-name"]').setValue("Rebuilt lab");
    // Away to the Keys screen (to import the key the target needs, say) and back: what
    // was typed is still there.
    await $('[data-testid="nav-keys"]').click();
    await $('[data-testid="nav-targets"]').click();
    expect(await $('[data-testid="target-name"]').getValue()).toBe("Rebuilt lab");
    await $('[data-testid="target-host"]').setValue(lab.host);
    await $('[data-testid="target-port"]').setValue(String(lab.rebuilt_port));
    await $('[data-testid="target-key"]').selectByVisibleText("local-lab (ssh-ed25519)");
    await $('[data-testid="save-target"]').click();

    // A new, untrusted host: the trust dialog opens with what the host offers.
    const offered = await $('[data-testid="offered-fingerprint"]');
    await offered.waitForDisplayed();
    expect(await offered.getText()).toBe(lab.rebuilt_host_key_fingerprint);
    const confirm = await $('[data-testid="trust-confirm"]');
    expect(await confirm.isEnabled()).toBe(false);

    await $('[data-testid="expected-fingerprint"]').setValue("SHA256:" + "B".repeat(43));
    expect(await $('[data-testid="fingerprint-comparison"]').getText()).toContain("Does not match");
    expect(await confirm.isEnabled()).toBe(false);

    await $('[data-testid="expected-fingerprint"]').setValue(lab.rebuilt_host_key_fingerprint);
    expect(await $('[data-testid="fingerprint-comparison"]').getText()).toContain("Matches");
    await screenshot("trust-dialog");
    await confirm.click();
    await $('[data-testid="trust-dialog"]').waitForDisplayed({ reverse: true });

    const row = await $('[data-testid="target-row"][data-target="Rebuilt lab"]');
    expect(await row.getText()).toContain("SHA256:");

    await $('//button[@data-testid="target"][contains(., "Rebuilt lab")]').click();
    await $('[data-testid="connect"]').click();
    for (const service of ["backend-aws", "frontend-aws", "db", "market-updater-aws"]) {
      await waitForState(service, "running");
    }
  });

  it("takes a policy file's project directory, and says at once why a file does not read", async () => {
    const files = mkdtempSync(join(tmpdir(), "shipshape-e2e-policy-"));
    const team = join(files, "team.toml");
    writeFileSync(team, 'project_dir = "/srv/team-app"\n');
    await $('[data-testid="nav-targets"]').click();
    await $('[data-testid="add-target"]').click();
    const dir = await $('[data-testid="target-dir"]');
    const builtin = await dir.getValue();
    const policy = await $('[data-testid="target-policy"]');
    await policy.setValue(join(files, "missing.toml"));
    await browser.keys("Tab");
    const problem = await $('[data-testid="target-policy-problem"]');
    await problem.waitForDisplayed();
    expect(await problem.getText()).toContain("missing.toml");
    await screenshot("target-policy-problem");
    expect(await dir.getValue()).toBe(builtin);
    await policy.setValue(team);
    await browser.keys("Tab");
    await browser.waitUntil(async () => (await dir.getValue()) === "/srv/team-app", { timeoutMsg: "the policy's directory was not taken" });
    expect(await problem.isExisting()).toBe(false);
    await $('//form[@data-testid="target-form"]//button[.="Cancel"]').click();
  });
});
