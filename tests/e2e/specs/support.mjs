// Helpers the specs share: the lab's descriptor and Docker access as the lab operator.
import { execFileSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";

export const lab = JSON.parse(readFileSync(process.env.SHIPSHAPE_LAB, "utf8"));
export const project = lab.project_dir.split("/").pop();

export function container(service) {
  return `${project}-${service}-1`;
}

export function docker(...args) {
  return execFileSync("docker", args, { encoding: "utf8" });
}

/** Reads what sshd logged after `offset` bytes. */
export function sshdLogSince(offset) {
  return readFileSync(lab.sshd_log).subarray(offset).toString("utf8");
}

export function sshdLogSize() {
  return statSync(lab.sshd_log).size;
}

export async function row(service) {
  return $(`[data-testid="service-row"][data-service="${service}"]`);
}

export async function waitForState(service, state, timeout = 30000) {
  await browser.waitUntil(async () => (await (await row(service)).getAttribute("data-state")) === state, {
    timeout,
    timeoutMsg: `${service} never showed ${state}`,
  });
}

export async function screenshot(name) {
  const dir = process.env.SHIPSHAPE_E2E_SCREENSHOTS;
  if (!dir) return;
  await browser.pause(250); // let WebKit paint the last change before it is captured
  await browser.saveScreenshot(`${dir}/${name}.png`);
}
