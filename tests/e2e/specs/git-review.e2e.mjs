// Reviewing a pull in the real window: a commit pushed to the lab's origin shows up in
// "Review incoming" (its subject and the file it adds) while the project stays where it
// was; pulling from the review goes through the operation dialog, and afterwards the
// project is on exactly the pushed commit.
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { lab, screenshot, waitForState } from "./support.mjs";

function asLabUser(...args) {
  return execFileSync("runuser", ["-u", "ubuntu", "--", ...args], { encoding: "utf8" }).trim();
}

function git(dir, ...args) {
  return asLabUser("git", "-C", dir, ...args);
}

/** Pushes one commit adding `file` to the lab's origin and returns its hash. */
function pushCommit(file, subject) {
  const work = asLabUser("mktemp", "-d");
  try {
    const clone = join(work, "p");
    asLabUser("git", "clone", "-q", lab.origin, clone);
    asLabUser("sh", "-c", 'printf "%s\\n" "$1" > "$2"', "sh", subject, join(clone, file));
    git(clone, "add", file);
    git(clone, "-c", "user.name=E2E Reviewer", "-c", "user.email=e2e@example.invalid", "commit", "-q", "-m", subject);
    git(clone, "push", "-q", "origin", "main");
    return git(clone, "rev-parse", "HEAD");
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const focused = () => browser.execute(() => document.activeElement?.getAttribute("data-testid"));

describe("git review", () => {
  const stamp = `${process.pid}-${Date.now()}`;
  const file = `review-e2e-${stamp}.md`;
  const subject = `E2E review ${stamp}`;
  let pushed;
  let headBefore;

  it("lists a pushed commit and its file without changing the project", async () => {
    await waitForState("backend-aws", "running"); // the console checks the lab on open
    // Level with origin first, so the only incoming commit is this test's own.
    git(lab.project_dir, "pull", "-q", "--ff-only", "origin", "main");
    headBefore = git(lab.project_dir, "rev-parse", "HEAD");
    pushed = pushCommit(file, subject);

    await $('[data-testid="action-git-review"]').click();
    await $('[data-testid="incoming-review"]').waitForDisplayed();
    const commit = await $(`[data-testid="review-commit"][data-hash="${pushed}"]`);
    await commit.waitForDisplayed({ timeout: 30000 });
    expect(await commit.getText()).toContain(subject);
    expect(await commit.getText()).toContain("E2E Reviewer");
    const added = await $(`[data-testid="review-file"][data-path="${file}"]`);
    expect(await added.getAttribute("data-status")).toBe("A");
    const commands = await $('[data-testid="review-commands"]').getText();
    expect(commands).toContain(`cd ${lab.project_dir} && git fetch origin main`);
    expect(commands).toContain("HEAD..origin/main");
    expect(await $('[data-testid="review-range"]').getText()).toMatch(/^HEAD [0-9a-f]{4,} → origin\/main$/);
    expect(headBefore.startsWith(await $('[data-testid="review-head"]').getText())).toBe(true);
    expect(git(lab.project_dir, "rev-parse", "HEAD")).toBe(headBefore);
    await screenshot("git-review");
  });

  it("cancelling the pull runs nothing and gives focus back to the dashboard", async () => {
    await $('[data-testid="review-pull"]').click();
    const command = await $('[data-testid="operation-command"]');
    await command.waitForDisplayed();
    expect(await command.getText()).toBe(`cd ${lab.project_dir} && git pull origin main`);
    expect(await $('[data-testid="incoming-review"]').isExisting()).toBe(false);
    await browser.keys("Escape");
    await $('[data-testid="operation-dialog"]').waitForDisplayed({ reverse: true });
    expect(await focused()).toBe("action-git-review");
    expect(git(lab.project_dir, "rev-parse", "HEAD")).toBe(headBefore);
  });

  it("pulls through the operation dialog and lands on the pushed commit", async () => {
    await browser.keys("Enter"); // the focused "Review incoming…" button
    const pull = await $('[data-testid="review-pull"]');
    await pull.waitForDisplayed({ timeout: 30000 });
    expect(await pull.getText()).toBe("Pull this commit…");
    await pull.click();
    const run = await $('[data-testid="operation-run"]');
    await run.waitForEnabled();
    await run.click();
    const result = await $('[data-testid="operation-result"]');
    await result.waitForDisplayed({ timeout: 60000 });
    expect(await result.getAttribute("data-exit")).toBe("0");
    expect(git(lab.project_dir, "rev-parse", "HEAD")).toBe(pushed);
    await browser.keys("Escape");
    await $('[data-testid="operation-dialog"]').waitForDisplayed({ reverse: true });
  });

  it("then says the project is up to date", async () => {
    await $('[data-testid="action-git-review"]').click();
    const upToDate = await $('[data-testid="review-up-to-date"]');
    await upToDate.waitForDisplayed({ timeout: 30000 });
    expect(await upToDate.getText()).toContain("Already up to date");
    expect(await $('[data-testid="review-pull"]').isExisting()).toBe(false);
    await browser.keys("Escape");
    await $('[data-testid="incoming-review"]').waitForDisplayed({ reverse: true });
    expect(await focused()).toBe("action-git-review");
  });
});
