// A settings file cut off mid-JSON: the console shows a banner naming the file, line and
// problem, shows no targets from it, and leaves it byte for byte as it was after it exits.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { closeConsole, screenshot } from "./support.mjs";

const file = () => join(process.env.SHIPSHAPE_E2E_HOME, "settings.json");

describe("a damaged settings file", () => {
  it("is named in a banner and left untouched by the console", async () => {
    const banner = await $('[data-testid="error"][data-code="settings_damaged"]');
    await banner.waitForDisplayed();
    const text = await banner.getText();
    expect(text).toContain(file());
    expect(text).toMatch(/line 3/);
    expect(await $('[data-testid="targets-unreadable"]').isDisplayed()).toBe(true); // not "No targets yet"
    await screenshot("damaged-settings");
    await closeConsole();
    expect(readFileSync(file(), "utf8")).toBe(process.env.SHIPSHAPE_E2E_DAMAGED);
  });
});
