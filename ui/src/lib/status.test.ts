import { describe, expect, it } from "vitest";
import type { ServiceState } from "./bindings";
import { checkedAt, formatCount, presentState, shortFingerprint, summarize, utcTime, wrapPoints } from "./status";

function service(state: ServiceState["state"], health: string | null = null): ServiceState {
  return { service: "backend-aws", container: "c", state, health, status: "", image: null, exit_code: null, ports: [], image_id: null, restarts: null };
}

describe("presentState", () => {
  it("never relies on colour alone: every state has an icon and a word", () => {
    for (const state of ["running", "restarting", "paused", "created", "exited", "dead", "removing", "missing", "unknown"] as const) {
      const look = presentState(service(state));
      expect(look.icon.length).toBeGreaterThan(0);
      expect(look.label.length).toBeGreaterThan(0);
    }
  });

  it("shows a running but unhealthy service as bad", () => {
    expect(presentState(service("running", "unhealthy")).tone).toBe("bad");
    expect(presentState(service("running", "healthy")).tone).toBe("ok");
  });

  it("calls an exited service stopped", () => {
    expect(presentState(service("exited")).label).toBe("Stopped");
  });
});

describe("summarize", () => {
  it("counts running services and takes the worst tone", () => {
    expect(summarize([service("running"), service("exited")])).toEqual({ text: "1 of 2 services running", tone: "bad" });
    expect(summarize([service("running")]).tone).toBe("ok");
    expect(summarize([]).tone).toBe("unknown");
  });
});

describe("shortFingerprint", () => {
  it("keeps the prefix and twelve characters", () => {
    expect(shortFingerprint("SHA256:+p+Z1VF9qrvl6Q0eYxxgc0DZGe5A045pT/o8rvqfmJk")).toBe("SHA256:+p+Z1VF9qrvl…");
    expect(shortFingerprint(null)).toBe("not pinned");
  });
});

describe("checkedAt", () => {
  it("shows the time of day in UTC, as the core writes it", () => {
    expect(checkedAt("2026-12-03T13:57:33.508Z")).toBe("13:57:33 UTC");
  });
  it("shows anything else as it came", () => {
    expect(checkedAt("2026-12-03T13:57:33+01:00")).toBe("2026-12-03T13:57:33+01:00");
    expect(checkedAt("")).toBe("");
  });
});

describe("formatCount", () => {
  it("groups thousands with commas, as an English locale would", () => {
    expect([0, 7, 999, 1000, 12345, 50000, 1234567].map(formatCount)).toEqual(["0", "7", "999", "1,000", "12,345", "50,000", "1,234,567"]);
  });
});

describe("wrapPoints", () => {
  it("cuts after each slash and colon, losing no character", () => {
    expect(wrapPoints("127.0.0.1:5000/atp/backend:lab")).toEqual(["127.0.0.1:", "5000/", "atp/", "backend:", "lab"]);
    expect(wrapPoints("127.0.0.1:8002->8002/tcp", ":")).toEqual(["127.0.0.1:", "8002->8002/tcp"]);
    expect(wrapPoints("postgres")).toEqual(["postgres"]);
  });
});

describe("a recorded time", () => {
  it("reads as reports and the CLI print it, with its zone", () => {
    expect(utcTime("2026-12-05T14:00:31.298Z")).toBe("2026-12-05 14:00:31 UTC");
    expect(utcTime("2026-12-05T14:00:31Z")).toBe("2026-12-05 14:00:31 UTC");
    expect(utcTime("not a time")).toBe("not a time");
  });
});
