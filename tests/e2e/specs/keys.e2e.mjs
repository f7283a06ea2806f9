// Import a passphrase-protected key (the passphrase is asked for only when needed) and
// generate one whose public line can be copied.
import { execFileSync } from "node:child_process";
import { KEY_PASSPHRASE } from "./homes.mjs";
import { screenshot } from "./support.mjs";

function fingerprintOf(publicKeyFile) {
  return execFileSync("ssh-keygen", ["-l", "-E", "sha256", "-f", publicKeyFile], { encoding: "utf8" }).split(" ")[1];
}

describe("keys", () => {
  it("imports a passphrase-protected key", async () => {
    const file = process.env.SHIPSHAPE_E2E_KEY_FILE;
    // A keyring that outlived an earlier run holds that run's key under this name, and
    // an import never replaces a key the keyring holds.
    try {
      execFileSync("secret-tool", ["clear", "service", "shipshape", "username", "ssh-key:e2e-imported"]);
    } catch {
      // secret-tool exits 1 when there is none: nothing to clear.
    }
    await $('[data-testid="nav-keys"]').click();
    await $('[data-testid="import-key"]').click();
    await $('[data-testid="key-name"]').setValue("e2e-imported");
    await $('[data-testid="key-path"]').setValue(file);
    await $('[data-testid="key-submit"]').click();

    const passphrase = await $('[data-testid="key-passphrase"]');
    await passphrase.waitForDisplayed();
    expect(await $('[data-testid="error"]').getAttribute("data-code")).toBe("passphrase_required");

    await passphrase.setValue("not the passphrase");
    await $('[data-testid="key-submit"]').click();
    await $('[data-testid="error"][data-code="passphrase_wrong"]').waitForDisplayed();

    await passphrase.setValue(KEY_PASSPHRASE);
    await $('[data-testid="key-submit"]').click();
    const row = await $('[data-testid="key-row"][data-key="e2e-imported"]');
    await row.waitForDisplayed();
    expect(await row.$('[data-testid="key-fingerprint"]').getText()).toBe(fingerprintOf(`${file}.pub`));
    // After an import the public key dialog opens; close it.
    await $('[data-testid="public-key-dialog"]').waitForDisplayed();
    await browser.keys("Escape");
  });

  it("generates an ed25519 key and shows its public line", async () => {
    // A name of this run's own: a keyring that outlived an earlier run holds that run's
    // key, and a new key never replaces one the keyring holds.
    const name = `e2e-generated-${process.pid}`;
    await $('[data-testid="generate-key"]').click();
    await $('[data-testid="key-name"]').setValue(name);
    await $('[data-testid="key-submit"]').click();
    const publicKey = await $('[data-testid="public-key"]');
    await publicKey.waitForDisplayed();
    expect(await publicKey.getValue()).toMatch(/^ssh-ed25519 [A-Za-z0-9+/]+=* shipshape$/);
    await screenshot("generated-key");
    await browser.keys("Escape");
    await $(`[data-testid="key-row"][data-key="${name}"]`).waitForDisplayed();
  });
});
