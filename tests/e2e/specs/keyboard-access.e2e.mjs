// Keyboard and access in the real window: the command palette (Ctrl+K) reaches screens,
// targets and operations, an operation's exact command shown before it runs; focus stays
// trapped in a dialog and comes back after it; the theme is chosen by hand; and axe-core
// finds no WCAG 2.1 A/AA violation on any screen, in the light and the dark theme.
import { axeViolations, screenshot, waitForState } from "./support.mjs";

const SCREENS = ["dashboard", "targets", "keys", "logs", "history", "checklist", "deploy", "env"];

async function activeTestid() {
  return browser.execute(() => document.activeElement?.closest("[data-testid]")?.getAttribute("data-testid") ?? null);
}

/** "inside" while focus is in the palette, else what has it (for the failure message). */
async function insidePalette() {
  return browser.execute(() => {
    const active = document.activeElement;
    if (active?.closest('[data-testid="command-palette"]')) return "inside";
    return active ? active.outerHTML.slice(0, 160) : "nothing";
  });
}

async function press(...keys) {
  await browser.keys(keys);
}

describe("keyboard and access", () => {
  // The theme chosen here is the webview's, kept across runs: the next specs follow the OS.
  after(() => browser.execute(() => localStorage.removeItem("shipshape.theme")));

  it("opens the palette with Ctrl+K and shows an operation's exact command before anything runs", async () => {
    await $('[data-testid="target"]').waitForDisplayed();
    await $('[data-testid="connect"]').click();
    await waitForState("backend-aws", "running");
    await press("Control", "k");
    await $('[data-testid="command-palette"]').waitForDisplayed();
    expect(await activeTestid()).toBe("palette-query");
    await browser.keys("restart back");
    await browser.waitUntil(
      async () => (await $('[data-testid="palette-preview"]').getText()).includes("restart backend-aws"),
      { timeout: 15000, timeoutMsg: "the palette never showed the restart command" },
    );
    const preview = await $('[data-testid="palette-preview"]').getText();
    expect(preview).toContain("docker compose --profile aws restart backend-aws");
    await screenshot("palette-restart");

    // Enter opens the usual dialog, with the same command; nothing has run yet.
    await press("Enter");
    const command = await $('[data-testid="operation-command"]');
    await command.waitForDisplayed();
    expect(await command.getText()).toContain("docker compose --profile aws restart backend-aws");
    // With a dialog open, the window's shortcuts stand aside: no palette over it (whose
    // choice would swap the operation under the dialog), no screen changed behind it.
    await press("Control", "k");
    await press("Control", "5");
    await browser.pause(300);
    expect(await $('[data-testid="command-palette"]').isExisting()).toBe(false);
    expect(await $('[data-testid="nav-dashboard"]').getAttribute("aria-current")).toBe("page");
    expect(await command.getText()).toContain("restart backend-aws");
    await press("Escape");
    await $('[data-testid="operation-command"]').waitForDisplayed({ reverse: true });
  });

  it("keeps focus inside a dialog and gives it back when the dialog closes", async () => {
    await $('[data-testid="connect"]').click();
    await waitForState("backend-aws", "running");
    await $('[data-testid="open-palette"]').click();
    await $('[data-testid="command-palette"]').waitForDisplayed();
    for (let i = 0; i < 6; i++) {
      await press("Tab");
      expect(await insidePalette()).toBe("inside");
    }
    for (let i = 0; i < 3; i++) {
      await press("Shift", "Tab");
      expect(await insidePalette()).toBe("inside");
    }
    await press("Escape");
    await $('[data-testid="command-palette"]').waitForDisplayed({ reverse: true });
    expect(await activeTestid()).toBe("open-palette");
  });

  it("reaches every screen and target by keyboard alone", async () => {
    await press("Control", "k");
    await browser.keys("go to history");
    await press("Enter");
    await browser.waitUntil(async () => (await $('[data-testid="nav-history"]').getAttribute("aria-current")) === "page");
    await press("Control", "k");
    await browser.keys("switch local");
    await press("Enter");
    await browser.waitUntil(async () => (await $('[data-testid="nav-dashboard"]').getAttribute("aria-current")) === "page");
    await press("Control", "2");
    await browser.waitUntil(async () => (await $('[data-testid="nav-targets"]').getAttribute("aria-current")) === "page");
  });

  for (const theme of ["light", "dark"]) {
    it(`has no WCAG 2.1 A/AA violation on any screen in the ${theme} theme`, async () => {
      await press("Control", "k");
      await browser.keys(`theme ${theme}`);
      await press("Enter");
      await browser.waitUntil(async () => (await browser.execute(() => document.documentElement.dataset.theme)) === theme);
      const found = [];
      for (const id of SCREENS) {
        await $(`[data-testid="nav-${id}"]`).click();
        await browser.waitUntil(async () => (await $(`[data-testid="nav-${id}"]`).getAttribute("aria-current")) === "page");
        if (id === "dashboard") await waitForState("backend-aws", "running");
        await browser.pause(400); // screens read the host as they open; check them settled
        for (const violation of await axeViolations()) found.push(`${theme} ${id}: ${violation}`);
        await screenshot(`axe-${theme}-${id}`);
      }
      await $('[data-testid="open-palette"]').click();
      await $('[data-testid="command-palette"]').waitForDisplayed();
      for (const violation of await axeViolations()) found.push(`${theme} palette: ${violation}`);
      await press("Escape");
      if (found.length) console.log(found.join("\n"));
      expect(found).toEqual([]);
    });
  }
});
