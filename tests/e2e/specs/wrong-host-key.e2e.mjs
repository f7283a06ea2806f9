// A target whose pinned fingerprint is wrong: Connect must fail with the changed-key
// error in the window, and the lab's sshd must have seen no authentication attempt.
import { WRONG_FINGERPRINT as WRONG } from "./homes.mjs";
import { screenshot, sshdLogSince, sshdLogSize } from "./support.mjs";

describe("a changed host key", () => {
  it("is refused before authentication and explained in the window", async () => {
    const target = await $('[data-testid="target"]');
    await target.waitForDisplayed();
    expect(await target.getText()).toContain("Impostor check");

    const offset = sshdLogSize();
    await $('[data-testid="connect"]').click();
    const error = await $('[data-testid="error"][data-code="host_key_mismatch"]');
    await error.waitForDisplayed();
    const text = await error.getText();
    expect(text.toLowerCase()).toContain("host key does not match");
    expect(text).toContain(WRONG);
    expect(await $('[data-testid="connection-state"]').getAttribute("data-state")).toBe("failed");
    await screenshot("host-key-mismatch");

    await browser.pause(300);
    const logged = sshdLogSince(offset);
    expect(logged).toContain("Connection from 127.0.0.1");
    expect(logged).not.toContain("userauth-request");
    expect(logged).not.toContain("Accepted publickey");
  });
});
