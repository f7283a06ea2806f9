// Typed calls into the Rust core. Types come from the generated bindings; every failure
// arrives as an ErrorReport whose `code` decides what the UI shows.
import { invoke } from "@tauri-apps/api/core";
import type { ErrorReport, StatusReport, TargetSummary } from "./bindings";

export function isErrorReport(value: unknown): value is ErrorReport {
  return typeof value === "object" && value !== null && "code" in value && "message" in value;
}

/** Turns whatever a call threw into an ErrorReport, so the UI has one shape to show. */
export function asErrorReport(value: unknown): ErrorReport {
  if (isErrorReport(value)) return value;
  return { code: "protocol", message: String(value), detail: null };
}

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (error) {
    throw asErrorReport(error);
  }
}

export const api = {
  listTargets: () => call<TargetSummary[]>("list_targets"),
  startupProblems: () => call<ErrorReport[]>("startup_problems"),
  serviceStatus: (target: string) => call<StatusReport>("service_status", { target }),
  disconnect: (target: string) => call<null>("disconnect", { target }),
};
