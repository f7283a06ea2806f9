// How a service's state reads at a glance: a tone (colour), an icon and a word, so state
// never depends on colour alone.
import type { RunState, ServiceState } from "./bindings";

export type Tone = "ok" | "warn" | "bad" | "unknown";

export interface Presentation {
  tone: Tone;
  icon: string;
  label: string;
}

const STATES: Record<RunState, Presentation> = {
  running: { tone: "ok", icon: "●", label: "Running" },
  restarting: { tone: "warn", icon: "↻", label: "Restarting" },
  paused: { tone: "warn", icon: "❚❚", label: "Paused" },
  created: { tone: "warn", icon: "○", label: "Created" },
  exited: { tone: "bad", icon: "■", label: "Stopped" },
  dead: { tone: "bad", icon: "✖", label: "Dead" },
  removing: { tone: "warn", icon: "…", label: "Removing" },
  missing: { tone: "bad", icon: "∅", label: "Not created" },
  unknown: { tone: "unknown", icon: "?", label: "Unknown" },
};

export function presentState(service: ServiceState): Presentation {
  const base = STATES[service.state];
  if (service.state === "running" && service.health === "unhealthy") {
    return { tone: "bad", icon: "✖", label: "Running, unhealthy" };
  }
  if (service.state === "running" && service.health === "starting") {
    return { tone: "warn", icon: "◐", label: "Starting" };
  }
  return base;
}

/** "3 of 4 running" plus the worst tone, for the dashboard's headline. */
export function summarize(services: ServiceState[]): { text: string; tone: Tone } {
  const running = services.filter((s) => presentState(s).tone === "ok").length;
  const tones = services.map((s) => presentState(s).tone);
  const tone: Tone = tones.includes("bad") ? "bad" : tones.includes("warn") ? "warn" : services.length ? "ok" : "unknown";
  return { text: `${running} of ${services.length} services running`, tone };
}

/** The first characters of a fingerprint, enough to compare by eye in the status strip. */
export function shortFingerprint(fingerprint: string | null | undefined): string {
  if (!fingerprint) return "not pinned";
  const digest = fingerprint.replace(/^SHA256:/, "");
  return `SHA256:${digest.slice(0, 12)}…`;
}

/** An image reference cut after each `/` and `:`, the places a reader expects it to wrap
 *  (`127.0.0.1:5000/` `atp/` `backend:` `lab`), not mid-word; a port mapping only after
 *  its address (`after` `":"`: `127.0.0.1:` `8002->8002/tcp`). */
export function wrapPoints(text: string, after: "/:" | ":" = "/:"): string[] {
  return text.split(after === ":" ? /(?<=:)/ : /(?<=[/:])/);
}

/** A count with its thousands grouped (`12,345`), by string work: `toLocaleString` would
 *  load ICU's number formatting into the window (~1.6 MB) for the Logs screen's counters. */
export function formatCount(n: number): string {
  return Math.trunc(n).toString().replace(/\B(?=(\d{3})+$)/g, ",");
}

/** When the services were read, as the host's clocks and logs say it: `HH:MM:SS UTC`.
 *  Plain string work on the core's RFC 3339 time, without the locale machinery
 *  (`toLocaleTimeString` loads ICU's data into the window, ~3 MB, for one clock). */
export function checkedAt(rfc3339: string): string {
  const time = /T(\d\d:\d\d:\d\d)/.exec(rfc3339)?.[1];
  return time && rfc3339.endsWith("Z") ? `${time} UTC` : rfc3339;
}

/** A time the core recorded (RFC 3339, UTC) as reports and the CLI print it, with its
 *  zone: `2026-12-05 14:00:31 UTC`, so the window and a report read the same hour. */
export function utcTime(rfc3339: string): string {
  const found = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.\d+)?Z$/.exec(rfc3339);
  return found ? `${found[1]} ${found[2]} UTC` : rfc3339;
}

