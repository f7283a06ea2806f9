// The env file editor in the real window: keys listed by name with their values masked;
// a key added through the dialog (value typed into a password field) lands in the lab's
// .env.aws with its mode kept, the window never shows the value, and removing the key
// puts the file back byte for byte. A value pasted on a line of its own is listed as not a
// KEY=value line, never by its text.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TYPED_ENV_VALUE as VALUE } from "./homes.mjs";
import { lab, screenshot } from "./support.mjs";

const file = join(lab.project_dir, ".env.aws");
let was;

describe("the env file editor", () => {
  before(() => (was = readFileSync(file)));
  after(() => {
    writeFileSync(file, was);
    execFileSync("rm", ["-rf", "/home/ubuntu/.shipshape/env-backups"]);
  });

  it("adds a key without ever showing its value, then removes it", async () => {
    await $('[data-testid="target"]').waitForDisplayed();
    await $('[data-testid="nav-env"]').click();
    const keys = await $('[data-testid="env-keys"]');
    await keys.waitForDisplayed({ timeout: 20000 });
    const listed = await keys.getText();
    expect(listed).toContain("DATABASE_URL");
    for (const line of was.toString().split("\n")) {
      const value = line.split("=").slice(1).join("=");
      if (value.length > 3) expect(listed).not.toContain(value);
    }

    await $('[data-testid="env-add"]').click();
    await $('[data-testid="env-key"]').setValue("E2E_TOKEN");
    // A value pasted with line breaks (a PEM key) is refused, not joined into one line;
    // one with a line break at its end only (copied from a terminal) is let through.
    const paste = (text) =>
      browser.execute((text) => {
        const field = document.querySelector('[data-testid="env-value"]');
        const clipboardData = new DataTransfer();
        clipboardData.setData("text/plain", text);
        return field.dispatchEvent(new ClipboardEvent("paste", { clipboardData, bubbles: true, cancelable: true }));
      }, text);
    expect(await paste("line one\nline two")).toBe(false); // cancelled
    expect(await $('[data-testid="env-value-multiline"]').getText()).toContain("has line breaks");
    expect(await $('[data-testid="env-review"]').isEnabled()).toBe(false);
    expect(await paste("one line from a terminal\n")).toBe(true);
    expect(await $('[data-testid="env-value-multiline"]').isExisting()).toBe(false);
    await $('[data-testid="env-value"]').setValue(VALUE);
    await $('[data-testid="env-review"]').click();
    expect(await $('[data-testid="env-change"]').getText()).toContain("E2E_TOKEN is added.");
    await $('[data-testid="env-save"]').click();
    const saved = await $('[data-testid="env-saved"]');
    await saved.waitForDisplayed({ timeout: 20000 });
    expect(await saved.getText()).toContain("Added E2E_TOKEN");
    await browser.waitUntil(async () => (await keys.getText()).includes("E2E_TOKEN"), { timeout: 10000 });
    expect(readFileSync(file, "utf8")).toContain(`E2E_TOKEN=${VALUE}\n`);
    expect(execFileSync("stat", ["-c", "%a %U", file], { encoding: "utf8" }).trim()).toBe("600 ubuntu");
    expect(await $("body").getText()).not.toContain(VALUE);
    await screenshot("env-file-saved");

    await $('[data-key="E2E_TOKEN"] button.danger').click();
    expect(await $('[data-testid="env-change"]').getText()).toContain("E2E_TOKEN is removed.");
    await $('[data-testid="env-save"]').click();
    await browser.waitUntil(async () => !(await keys.getText()).includes("E2E_TOKEN"), { timeout: 20000 });
    expect(readFileSync(file).equals(was)).toBe(true);
  });

  it("lists a value pasted on a line of its own without its text, and offers no edit of it", async () => {
    const pasted = "ghp_FAKEpastedALONE0123456789"; // obviously fake
    writeFileSync(file, Buffer.concat([was, Buffer.from(`${pasted}\n`)]));
    await $('[data-testid="nav-dashboard"]').click();
    await $('[data-testid="nav-env"]').click();
    const keys = await $('[data-testid="env-keys"]');
    await keys.waitForDisplayed({ timeout: 20000 });
    await browser.waitUntil(async () => (await keys.getText()).includes("(not a KEY=value line, not shown"), {
      timeout: 20000,
      timeoutMsg: "the pasted line was not listed as not a KEY=value line",
    });
    expect(await $("body").getText()).not.toContain(pasted);
    const row = await $(`[data-key="(not a KEY=value line, not shown: it may be a value)"]`);
    expect(await row.getText()).toContain("change it on the host");
    expect(await row.getText()).not.toContain("empty");
    expect(await row.$$("button").length).toBe(0);
    await screenshot("env-file-pasted-line");
  });
});
