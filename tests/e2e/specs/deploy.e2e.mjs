// The guided deploy in the real window: origin gains a commit that changes the backend's
// command and the registry a new image behind market-updater's tag; the Deploy screen's
// review shows the commit, the compose change side by side and the image that moves; a
// reviewer approves it with a key; every step runs under the host's lock, and the lab
// then runs the new commit and image (asserted through git and Docker directly); the
// Markdown and PDF reports of the deploy list the review and the approval; a rollback
// confirmed with a reason puts the commit and the image back. The lab is put back
// afterwards.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { asLabUser, cli, confirmRun, container, docker, lab, screenshot } from "./support.mjs";

const tag = `${lab.registry}/atp/market-updater:lab`;
const imageId = (ref) => docker("image", "inspect", "-f", "{{.Id}}", ref).trim();
const runningImage = (service) => docker("inspect", "-f", "{{.Image}}", container(service)).trim();

const was = { commit: "", image: "", env: "" };
let work;
let git;

async function waitForOutcome(kind) {
  const result = await $('[data-testid="deploy-result"]');
  await result.waitForDisplayed({ timeout: 120000 });
  expect(await result.getText()).toContain(kind);
  return result.getAttribute("data-outcome");
}

/** The Deploy screen, once its review shows the commit origin gained. */
async function openReview() {
  await $('[data-testid="target"]').waitForDisplayed();
  await $('[data-testid="nav-deploy"]').click();
  const review = await $('[data-testid="deploy-review"]');
  await browser.waitUntil(async () => (await review.getText()).includes("Backend: three workers (e2e)"), {
    timeout: 30000,
    timeoutMsg: "the review never showed the pushed commit",
  });
  return review;
}

describe("the guided deploy", () => {
  before(() => {
    was.commit = asLabUser("git", "rev-parse", "HEAD");
    was.image = imageId(tag);
    was.env = readFileSync(join(lab.project_dir, ".env.aws"));
    work = mkdtempSync(join(tmpdir(), "deploy-e2e-"));
    chmodSync(work, 0o777);
    const clone = join(work, "p");
    asLabUser("git", "clone", "-q", lab.origin, clone);
    const file = join(clone, "docker-compose.yml");
    writeFileSync(file, readFileSync(file, "utf8").replace('"--workers", "2"', '"--workers", "3"'));
    git = (...args) => asLabUser("git", "-C", clone, "-c", "user.name=E2E", "-c", "user.email=e2e@example.invalid", ...args);
    git("commit", "-q", "-am", "Backend: three workers (e2e)");
    git("push", "-q", "origin", "main");
    docker("commit", "-c", "LABEL shipshape.test=deploy-e2e", container("market-updater-aws"), tag);
    docker("push", "-q", tag);
    docker("tag", was.image, tag);
  });

  after(() => {
    asLabUser("git", "-C", lab.origin, "update-ref", "refs/heads/main", was.commit);
    asLabUser("git", "checkout", "-q", "-B", "main", was.commit);
    asLabUser("git", "fetch", "-q", "origin", "main");
    docker("tag", was.image, tag);
    docker("push", "-q", tag);
    writeFileSync(join(lab.project_dir, ".env.aws"), was.env);
    asLabUser("docker", "compose", "--profile", "aws", "up", "-d", "--wait");
    asLabUser("rm", "-rf", "/home/ubuntu/.shipshape");
    rmSync(work, { recursive: true, force: true });
  });

  it("deploys nothing when origin moved since the review on show", async () => {
    await openReview();
    const reviewed = git("rev-parse", "HEAD");
    git("commit", "-q", "--allow-empty", "-m", "Pushed after the review (e2e)");
    git("push", "-q", "origin", "main");
    await $('[data-testid="deploy-message"]').setValue("Not what was shown");
    await $('[data-testid="deploy-start"]').click();
    await confirmRun();
    expect(await waitForOutcome("Deploy")).toBe("failed");
    const steps = await $$('[data-testid="deploy-step"]').map((s) => s.getText());
    expect(steps.some((s) => s.includes("origin moved since the deploy was shown"))).toBe(true);
    expect(steps.some((s) => s.includes("Pull the latest code"))).toBe(false);
    expect(asLabUser("git", "rev-parse", "HEAD")).toBe(was.commit);
    // Origin back on the reviewed commit, and the screen read afresh.
    git("reset", "-q", "--hard", reviewed);
    asLabUser("git", "-C", lab.origin, "update-ref", "refs/heads/main", reviewed);
    await $('[data-testid="nav-dashboard"]').click();
    await $('[data-testid="nav-deploy"]').click();
    await browser.waitUntil(async () => {
      const text = await $('[data-testid="deploy-review"]').getText();
      return text.includes("Backend: three workers (e2e)") && !text.includes("Pushed after the review");
    }, { timeout: 30000, timeoutMsg: "the review still shows the commit taken back" });
  });

  it("runs nothing when the target was redefined after its plan was shown", async () => {
    await openReview();
    await $('[data-testid="deploy-message"]').setValue("Not the plan shown");
    // Once the lock is read again after the last test's run.
    await $('[data-testid="deploy-start"]').waitForEnabled({ timeout: 15000 });
    await $('[data-testid="deploy-start"]').click();
    await $('[data-testid="run-plan"]').waitForDisplayed({ timeout: 15000 });
    // Meanwhile another process (the CLI, another window: the settings are shared) gives
    // the target a policy file of its own.
    const settings = join(process.env.SHIPSHAPE_E2E_HOME, "settings.json");
    const before = readFileSync(settings, "utf8");
    const policyDir = mkdtempSync(join(tmpdir(), "shipshape-e2e-policy-"));
    writeFileSync(join(policyDir, "policy.toml"), "deadline_read_seconds = 30\n");
    const runs = () => JSON.parse(cli("history", "--json")).filter((r) => r.kind === "deploy").length;
    const runsBefore = runs();
    const redefined = JSON.parse(before);
    redefined.targets.find((t) => t.name === "Local lab").policy_file = join(policyDir, "policy.toml");
    writeFileSync(settings, JSON.stringify(redefined, null, 2));
    try {
      await confirmRun();
      const error = await $('[data-testid="error"]');
      // In sight, though it comes below the deploy's form.
      await error.waitForDisplayed({ withinViewport: true, timeout: 15000, timeoutMsg: "the refusal was never shown" });
      expect(await error.getAttribute("data-code")).toBe("plan_changed");
      expect(await $('[data-testid="error-message"]').getText()).toContain("changed after its plan was shown");
      await screenshot("deploy-plan-outdated");
      // Nothing ran or was recorded: the host still on its commit.
      expect(runs()).toBe(runsBefore);
      expect(asLabUser("git", "rev-parse", "HEAD")).toBe(was.commit);
    } finally {
      writeFileSync(settings, before);
      rmSync(policyDir, { recursive: true, force: true });
    }
  });

  it("reviews, deploys under the lock and leaves the lab on the new commit and image", async () => {
    const review = await openReview();
    expect(await review.getText()).toContain("docker-compose.yml");
    const changed = await $$('[data-testid="review-compose"] tr[data-kind="changed"]').map((r) => r.getText());
    expect(changed.some((r) => r.includes('"2"') && r.includes('"3"'))).toBe(true);
    expect(await $('[data-testid="review-images"] tr[data-moves="true"]').getText()).toContain("market-updater-aws");
    expect(await $$('[data-testid="review-images"] tr[data-moves="true"]').length).toBe(1);
    await $('[data-testid="review-approve"]').click();
    await $('[data-testid="approve-name"]').setValue("Rita Reviewer");
    await $('[data-testid="approve-confirm"]').click();
    const approval = await $('[data-testid="review-approval"]');
    await browser.waitUntil(async () => (await approval.getAttribute("data-approved")) === "true", {
      timeout: 15000,
      timeoutMsg: "the approval was never shown",
    });
    expect(await approval.getText()).toContain("Approved by Rita Reviewer");
    await screenshot("deploy-review-approved");
    expect(await $('[data-testid="lock-state"]').getAttribute("data-held")).toBe("false");
    await $('[data-testid="deploy-message"]').setValue("Three workers, new market updater");
    await $('[data-testid="deploy-start"]').click();
    await $('[data-testid="run-plan"]').waitForDisplayed({ timeout: 15000 });
    await screenshot("deploy-confirm-plan");
    // The commands that change the host, shown before the deploy is confirmed, are the
    // ones its steps then run.
    const planned = await confirmRun();
    expect(planned).toContain(`cd ${lab.project_dir} && git pull origin main`);
    expect(planned).toContain(`cd ${lab.project_dir} && docker compose --profile aws up -d --remove-orphans`);
    expect(await waitForOutcome("Deploy")).toBe("succeeded");
    const steps = await $$('[data-testid="deploy-step"]').map((s) => s.getText());
    for (const title of ["Check the Never Do rules", "Lock the host", "Record a snapshot", "Pull the latest code", "Pull the images", "Run the verification checklist", "Free the host's deploy lock"]) {
      expect(steps.some((s) => s.includes(title) && s.includes("Done"))).toBe(true);
    }
    await screenshot("deploy-done");
    const origin = asLabUser("git", "-C", lab.origin, "rev-parse", "main");
    expect(asLabUser("git", "rev-parse", "HEAD")).toBe(origin);
    expect(docker("inspect", "-f", "{{json .Args}}", container("backend-aws"))).toContain('"--workers","3"');
    expect(runningImage("market-updater-aws")).not.toBe(was.image);

    // The reports, exported from the window (Checklist screen, the deploy's verification).
    await $('[data-testid="nav-checklist"]').click();
    for (const [format, extension] of [["markdown", "md"], ["pdf", "pdf"]]) {
      const file = join(work, `deploy.${extension}`);
      await $('[data-testid="export-open"]').click();
      await $('[data-testid="export-dialog"]').waitForDisplayed();
      await $(`[data-testid="format-${format}"]`).click();
      const path = $('[data-testid="report-path"]');
      await browser.waitUntil(async () => (await path.getValue()).endsWith(`.${extension}`));
      await path.setValue(file);
      await $('[data-testid="export-submit"]').click();
      await $('[data-testid="export-done"]').waitForDisplayed({ timeout: 30000 });
      await browser.keys("Escape");
      await $('[data-testid="export-dialog"]').waitForDisplayed({ reverse: true });
      // pdftotext breaks lines where a table cell wraps: words are compared, not lines.
      const text = (extension === "pdf" ? execFileSync("pdftotext", [file, "-"], { encoding: "utf8" }) : readFileSync(file, "utf8")).replace(/\s+/g, " ");
      for (const expected of ["Approved by Rita Reviewer", "Backend: three workers (e2e)", "Images the pull moves", "Three workers, new market updater"]) {
        expect(text).toContain(expected);
      }
    }
    await $('[data-testid="nav-deploy"]').click();
  });

  it("rolls back with a reason to the snapshot's commit and image", async () => {
    await $('[data-testid="rollback-start"]').click();
    const confirm = await $('[data-testid="rollback-confirm"]');
    expect(await confirm.isEnabled()).toBe(false);
    // What the restore will run, before it is confirmed: the image each tag returns to.
    await $('[data-testid="run-plan"]').waitForDisplayed({ timeout: 15000 });
    const restore = await $$('[data-testid="run-plan-command"]').map((c) => c.getText());
    expect(restore).toContain(`docker tag ${was.image} ${tag}`);
    await screenshot("rollback-confirm-plan");
    await $('[data-testid="rollback-reason"]').setValue("e2e: the new image is to be undone");
    // A reason is not enough: the target's name is typed too.
    expect(await confirm.isEnabled()).toBe(false);
    await $('[data-testid="rollback-confirm-name"]').setValue("Local lab");
    await confirm.click();
    expect(await waitForOutcome("Rollback")).toBe("succeeded");
    await screenshot("rollback-done");
    expect(asLabUser("git", "rev-parse", "HEAD")).toBe(was.commit);
    expect(runningImage("market-updater-aws")).toBe(was.image);
  });
});
