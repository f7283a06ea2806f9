// A target whose pinned fingerprint is wrong: connecting (at start-up and on Connect)
// must fail with the changed-key error in the window, and the lab's sshd must have seen
// no authentication attempt from this app at all.
import { WRONG_FINGERPRINT } from "./homes.mjs";
import { screenshot, sshdLogSince } from "./support.mjs";

describe("a changed host key", () => {
  it("is refused before authentication and explained in the window", async () => {
    const target = await $('[data-testid="target"]');
    await target.waitForDisplayed();
    expect(await target.getText()).toContain("Impostor check");

    await $('[data-testid="connect"]').click();
    const error = await $('[data-testid="error"][data-code="host_key_mismatch"]');
    await error.waitForDisplayed();
    const text = await error.getText();
    expect(text.toLowerCase()).toContain("host key does not match");
    expect(text).toContain(WRONG_FINGERPRINT);
    expect(await $('[data-testid="connection-state"]').getAttribute("data-state")).toBe("failed");
    await screenshot("host-key-mismatch");

    await browser.pause(300);
    const logged = sshdLogSince(Number(process.env.SHIPSHAPE_E2E_SSHD_LOG_OFFSET));
    expect(logged).toContain("Connection from 127.0.0.1");
    expect(logged).not.toContain("userauth-request");
    expect(logged).not.toContain("Accepted publickey");
  });
});
