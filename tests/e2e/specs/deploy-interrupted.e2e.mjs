// A deploy cut short (its process killed with SIGKILL while it held the host's lock):
// the next start shows it on the Deploy screen with the last step it completed, the lock
// already free, and offers to verify or roll back; verifying runs the checklist.
import { screenshot } from "./support.mjs";

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
});
