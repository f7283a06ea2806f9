// The one way from the UI into the Rust core. commands.ts, generated from the
// #[tauri::command] functions, calls through here, so whatever a call throws — the
// core's ErrorReport, or a failure of IPC itself — the UI gets an ErrorReport whose
// `code` decides what it shows.
import { Channel, invoke, type InvokeArgs } from "@tauri-apps/api/core";
import type { ErrorReport } from "./bindings";

export function isErrorReport(value: unknown): value is ErrorReport {
  return typeof value === "object" && value !== null && "code" in value && "message" in value;
}

/** `text` with any run of more than 2,000 characters without a space cut to its start
 *  (the core's `input::brief`): Tauri quotes a refused argument whole, and it may be
 *  100 kB; a public key line or a path stays whole. */
export function brief(text: string): string {
  return text.replace(/\S{2001,}/g, (word) => `${word.slice(0, 60)}… (${word.length} characters)`);
}

/** A fresh name for a run the core is asked for: the core runs a request once, and
 *  stops it by that name (`cancelOperation`). */
export function newRequest(): string {
  return Array.from(crypto.getRandomValues(new Uint32Array(4)), (n) => n.toString(16).padStart(8, "0")).join("");
}

/** Turns whatever a call threw into an ErrorReport, so the UI has one shape to show. */
export function asErrorReport(value: unknown): ErrorReport {
  if (isErrorReport(value)) return value;
  const said = brief(String(value));
  // Tauri refused the arguments before the core saw them: a bug of the UI's, but still
  // bad input, not a lost core.
  if (said.startsWith("invalid args")) {
    return {
      code: "bad_input",
      title: "That input is not valid",
      message: said,
      remedy: "Nothing was changed. If the console sent this itself, attach its diagnostic log to a bug report.",
      detail: null,
      danger: false,
    };
  }
  // Not from the core (the IPC itself failed): the one report the UI words itself.
  return {
    code: "protocol",
    title: "The console could not reach its core",
    message: said,
    remedy: "Try again; if it keeps happening, restart Shipshape and attach its diagnostic log to a bug report.",
    detail: null,
    danger: false,
  };
}

/** Invokes `command`; rejects with an ErrorReport. */
export async function call<T>(command: string, args?: InvokeArgs): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (error) {
    throw asErrorReport(error);
  }
}

/** The channel a streaming command pushes its messages on, handing each to `onMessage`. */
export function channel<T>(onMessage: (message: T) => void): Channel<T> {
  return new Channel<T>(onMessage);
}
