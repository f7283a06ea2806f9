// The host's key changed since it was pinned: the console refuses, explains, and lets the
// operator re-pin only deliberately (matching fingerprint and the target's name typed).
import { lab, screenshot, waitForState } from "./support.mjs";

describe("a host whose key changed", () => {
  it("shows the changed-key screen and re-pins only deliberately", async () => {
    const error = await $('[data-testid="error"][data-code="host_key_mismatch"]');
    await error.waitForDisplayed(); // the console checked the pinned target on open
    expect(await error.getText()).toContain(lab.rebuilt_host_key_fingerprint);
    expect(await error.getText()).toContain("impersonating");
    await screenshot("changed-key");

    await $('[data-testid="review-host-key"]').click();
    const offered = await $('[data-testid="offered-fingerprint"]');
    await offered.waitForDisplayed();
    expect(await offered.getText()).toBe(lab.rebuilt_host_key_fingerprint);
    const confirm = await $('[data-testid="trust-confirm"]');
    await $('[data-testid="expected-fingerprint"]').setValue(lab.rebuilt_host_key_fingerprint);
    expect(await confirm.isEnabled()).toBe(false); // the name is not typed yet
    await $('[data-testid="confirm-name"]').setValue("Rebuilt lab");
    expect(await confirm.isEnabled()).toBe(true);
    await confirm.click();
    // The button that opened the dialog is gone with the error: focus goes to the
    // screen, not to nowhere (the page's body).
    await $('[data-testid="trust-confirm"]').waitForExist({ reverse: true });
    expect(await browser.execute(() => document.activeElement?.tagName)).toBe("MAIN");

    for (const service of ["backend-aws", "frontend-aws", "db", "market-updater-aws"]) {
      await waitForState(service, "running");
    }
  });
});
