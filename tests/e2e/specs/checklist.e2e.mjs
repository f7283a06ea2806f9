// The checklist in the real window against the lab, broken in one way first (a systemd
// unit for a compose service): run the verification, read an item's evidence, tick
// `migrations`, waive the failing item with a written reason, run `health` again (who
// and when said), export PDF and Markdown,
// and see both exports listed. No value of the lab's .env.aws ever reaches the page.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { screenshot } from "./support.mjs";

const UNIT = "/etc/systemd/system/backend-aws.service";
const item = (id) => $(`[data-testid="check-item"][data-check="${id}"]`);
const statusOf = async (id) => (await item(id)).getAttribute("data-status");
const out = mkdtempSync(join(tmpdir(), "shipshape-e2e-reports-"));

/** The lab's .env.aws values (the file the lab installs). */
function labSecrets() {
  const here = dirname(fileURLToPath(import.meta.url));
  return readFileSync(join(here, "../../lab/env.aws.example"), "utf8")
    .split("\n")
    .filter((l) => !l.startsWith("#") && l.includes("="))
    .map((l) => l.slice(l.indexOf("=") + 1))
    .filter((v) => v.length >= 4);
}

async function exportAs(format, file) {
  await $('[data-testid="export-open"]').click();
  await $('[data-testid="export-dialog"]').waitForDisplayed();
  await $(`[data-testid="format-${format}"]`).click();
  const path = $('[data-testid="report-path"]');
  await browser.waitUntil(async () => (await path.getValue()).endsWith(format === "markdown" ? ".md" : `.${format}`));
  await path.setValue(join(out, file));
  await $('[data-testid="export-submit"]').click();
  await $('[data-testid="export-done"]').waitForDisplayed({ timeout: 30000 });
  expect(await $('[data-testid="export-done"]').getText()).toContain("signed");
  await screenshot(`checklist-export-${format}`);
  await browser.keys("Escape");
  await $('[data-testid="export-dialog"]').waitForDisplayed({ reverse: true });
}

describe("checklist", () => {
  before(() => {
    mkdirSync(dirname(UNIT), { recursive: true });
    writeFileSync(UNIT, "[Service]\nWorkingDirectory=/home/ubuntu/automated-trading-platform\nExecStart=/usr/bin/gunicorn app\n");
  });
  after(() => {
    rmSync(UNIT, { force: true });
    rmSync(out, { recursive: true, force: true });
  });

  it("runs the twelve checks and shows the failing guardrail with its evidence", async () => {
    await $('[data-testid="target"]').waitForDisplayed();
    await $('[data-testid="nav-checklist"]').click();
    await $('[data-testid="verify-run"]').click();
    await browser.waitUntil(async () => (await $$('[data-testid="check-item"]')).length === 12 && (await $('[data-testid="verify-run"]').isEnabled()), {
      timeout: 60000,
      timeoutMsg: "the verification never finished",
    });
    expect(await statusOf("no-systemd-mix")).toBe("fail");
    expect(await statusOf("code-deployed")).toBe("pass");
    expect(await (await item("no-systemd-mix")).$('[data-testid="check-note"]').getText()).toContain(UNIT);

    const evidence = (await item("no-systemd-mix")).$('[data-testid="evidence"]');
    await evidence.$("summary").click();
    const output = evidence.$('[data-testid="evidence-output"]');
    await output.waitForDisplayed();
    expect(await output.getText()).toContain(UNIT);
    // The env item's evidence is the file's keys, no value of it kept (a comment or a
    // line that assigns nothing could hold one no redaction knows).
    const envSummary = (await item("env-configured")).$('[data-testid="evidence"] summary');
    await envSummary.scrollIntoView();
    await envSummary.click();
    const texts = await $$('[data-check="env-configured"] [data-testid="evidence-output"]').map((o) => o.getText());
    const shown = texts.join("\n");
    expect(shown).toMatch(/EXCHANGE_API_SECRET=\[(redacted|withheld)\]/);
    expect(shown).toMatch(/ENVIRONMENT=\[(redacted|withheld)\]/);
    expect(shown).toContain("# (a comment: withheld)");
    expect(shown).not.toContain("Lab values only");
    await screenshot("checklist-evidence");
    // The engine's probes are requests to its socket over the connection, shown as
    // requests: no shell prompt before them.
    const imagesSummary = (await item("images-pulled")).$('[data-testid="evidence"] summary');
    await imagesSummary.scrollIntoView();
    await imagesSummary.click();
    const commands = await $$('[data-check="images-pulled"] pre.command').map((c) => c.getText());
    expect(commands.some((c) => c.startsWith("GET /containers/json?all=1") && c.includes("no process started"))).toBe(true);
    await (await $$('[data-check="images-pulled"] pre.command'))[0].scrollIntoView();
    await screenshot("checklist-engine-evidence");
  });

  it("ticks migrations and waives the failure with a reason, recording who", async () => {
    await (await item("migrations")).$('[data-testid="check-tick"]').click();
    await browser.waitUntil(async () => (await statusOf("migrations")) === "pass", { timeoutMsg: "the tick did not land" });
    expect(await (await item("migrations")).getText()).toMatch(/Ticked by \S+ \(SHA256:/);

    await (await item("no-systemd-mix")).$('[data-testid="check-waive"]').click();
    await $('[data-testid="waive-reason"]').setValue("Unit is disabled; removal scheduled in CHG-1234");
    await $('[data-testid="waive-confirm"]').click();
    await browser.waitUntil(async () => (await statusOf("no-systemd-mix")) === "waived", { timeoutMsg: "the waiver did not land" });
    expect(await (await item("no-systemd-mix")).getText()).toContain("Waiver: Unit is disabled; removal scheduled in CHG-1234");
    // An item run again says who ran it and when: its evidence is from then.
    await (await item("health")).$('[data-testid="check-rerun"]').click();
    const rerunBy = await (await item("health")).$('[data-testid="check-rerun-by"]');
    await rerunBy.waitForDisplayed({ timeoutMsg: "the re-run did not land" });
    expect(await rerunBy.getText()).toMatch(/^Re-run by \S+ \(SHA256:.+\) at /);
    await screenshot("checklist-ticked-and-waived");
  });

  it("exports PDF and Markdown, signed, and lists both", async () => {
    await exportAs("pdf", "verification.pdf");
    await exportAs("markdown", "verification.md");
    expect(readFileSync(join(out, "verification.pdf")).subarray(0, 5).toString()).toBe("%PDF-");
    expect(existsSync(join(out, "verification.pdf.sig"))).toBe(true);
    const markdown = readFileSync(join(out, "verification.md"), "utf8");
    expect(markdown).toContain("Waiver: Unit is disabled; removal scheduled in CHG-1234");
    expect(markdown).toMatch(/\| Re-run by \S+ \(SHA256:.+\) at \S+ \|/);
    const listed = await $$('[data-testid="report-export"]');
    expect(listed.length).toBe(2);
    expect(await $('[data-testid="report-exports"]').getText()).toContain(join(out, "verification.pdf"));
    await screenshot("checklist-exports");
  });

  it("lists the verification in the history and finds the journal intact", async () => {
    await $('[data-testid="nav-history"]').click();
    await $('[data-testid="history-kind"]').selectByAttribute("value", "verification");
    await browser.waitUntil(async () => (await $$('[data-testid="history-row"]')).length === 1, {
      timeoutMsg: "the verification is not listed alone",
    });
    expect(await $('[data-testid="history-table"]').getText()).toContain("verification.pdf (signed)");
    await $('[data-testid="journal-check"]').click();
    await $('[data-testid="journal-holds"]').waitForDisplayed();
    expect(await $('[data-testid="journal-holds"]').getText()).toMatch(/^The journal holds: \d+ entries/);
    // Every entry reads back, the re-run's too: none is left out of the history.
    expect(await $('[data-testid="journal-unreadable"]').isExisting()).toBe(false);
    await screenshot("history-journal-checked");
  });

  it("never shows a value of .env.aws", async () => {
    const page = await browser.getPageSource();
    for (const secret of labSecrets()) expect(page.includes(secret)).toBe(false);
  });
});
