import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import type { EnvKeys, EnvSaved } from "../bindings";
import { EnvStore } from "./env.svelte";

let keys: EnvKeys;
let sent: Record<string, unknown>[];

beforeEach(() => {
  sent = [];
  keys = { target: "a", file: ".env.aws", exists: true, command: "cat", write_command: "sh -c write", keys: [{ name: "A", line: 1, looks_secret: false, empty: false }] };
  mockIPC((command, args) => {
    if (command === "env_keys") return keys;
    if (command === "set_env_key") {
      sent.push(args as Record<string, unknown>);
      const saved: EnvSaved = { target: "a", file: ".env.aws", added: ["B"], removed: [], changed: [], backup: "~/b", record_id: "env-1", command: "sh" };
      keys = { ...keys, keys: [...keys.keys, { name: "B", line: 2, looks_secret: false, empty: false }] };
      return saved;
    }
    if (command === "unset_env_key") throw { code: "bad_input", title: "No such key", message: "The env file has no key Z.", remedy: "" };
  });
});

afterEach(() => clearMocks());

describe("the env file store", () => {
  it("lists keys, saves a change and reads the keys again, and keeps the error of a refused one", async () => {
    const store = new EnvStore();
    await store.useTarget("a");
    expect(store.keys?.keys.map((k) => k.name)).toEqual(["A"]);
    expect(await store.set("B", "fake-value")).toBe(true);
    expect(sent[0]).toMatchObject({ target: "a", key: "B", value: "fake-value" });
    expect(store.saved?.added).toEqual(["B"]);
    expect(store.keys?.keys.map((k) => k.name)).toEqual(["A", "B"]);
    // Every field the store keeps (its runes are getters, which JSON.stringify skips).
    const kept = Object.getOwnPropertyNames(Object.getPrototypeOf(store))
      .filter((name) => typeof Object.getOwnPropertyDescriptor(Object.getPrototypeOf(store), name)?.get === "function")
      .map((name) => (store as unknown as Record<string, unknown>)[name]);
    expect(kept.length).toBeGreaterThan(3);
    expect(JSON.stringify(kept)).not.toContain("fake-value");
    expect(await store.unset("Z")).toBe(false);
    expect(store.error?.code).toBe("bad_input");
    expect(store.busy).toBe(false);
  });

  it("reads the keys afresh each time the screen is shown for the same target", async () => {
    const store = new EnvStore();
    await store.show("a");
    expect(store.keys?.keys.map((k) => k.name)).toEqual(["A"]);
    // The CLI adds a key meanwhile.
    keys = { ...keys, keys: [...keys.keys, { name: "C", line: 2, looks_secret: false, empty: false }] };
    await store.show("a");
    expect(store.keys?.keys.map((k) => k.name)).toEqual(["A", "C"]);
  });
});

