import { describe, expect, it } from "vitest";
import type { Target } from "../bindings";
import { jumpSpecOf } from "./targetForm.svelte";

const target = (jump: Target["jump"]): Target => ({
  name: "prod", host: "10.0.0.5", port: 22, user: "ubuntu", project_dir: "/p", key: null, policy_file: null,
  environment: "production", jump,
});

describe("a target's jump hosts in the form", () => {
  it("name each hop's user and bracket an IPv6 address, so they read back as they were", () => {
    const spec = jumpSpecOf(target([
      { host: "bastion.example.com", port: 22, user: "ubuntu", key: null },
      { host: "2001:db8::5", port: 2200, user: "ops", key: null },
    ]));
    expect(spec).toBe("ubuntu@bastion.example.com,ops@[2001:db8::5]:2200");
  });
});
