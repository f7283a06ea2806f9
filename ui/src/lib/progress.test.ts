import { describe, expect, it } from "vitest";
import { progressOf } from "./progress";

const SERVICES = ["backend-aws", "frontend-aws", "db", "market-updater-aws"];

describe("progressOf", () => {
  it("follows compose pull's lines per service", () => {
    const output = " db Pulling \n frontend-aws Pulling \n backend-aws Pulling \n db Pulled \n backend-aws Error \n";
    expect(progressOf(output, SERVICES)).toEqual({ db: "done", "frontend-aws": "working", "backend-aws": "failed" });
  });

  it("reads container lines of up, v2 and v1 names alike", () => {
    const output = " Container automated-trading-platform-db-1  Started\nRecreating automated-trading-platform_market-updater-aws_1 ... \n";
    expect(progressOf(output, SERVICES)).toEqual({ db: "done", "market-updater-aws": "working" });
  });

  it("ignores lines about other things", () => {
    expect(progressOf("Already up to date.\nFrom /srv/origin\n", SERVICES)).toEqual({});
  });
});
