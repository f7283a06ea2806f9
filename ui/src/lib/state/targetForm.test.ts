import { afterEach, describe, expect, it } from "vitest";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import type { Target } from "../bindings";
import { jumpSpecOf, TargetForm } from "./targetForm.svelte";

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

describe("the project directory of a new target", () => {
  afterEach(() => clearMocks());
  // The core's draft: a policy file's directory, a missing file refused.
  const core = () => {
    const asked: (string | null)[] = [];
    mockIPC((command, args) => {
      if (command !== "target_draft") throw new Error(`unexpected ${command}`);
      const file = (args as { policyFile: string | null }).policyFile;
      asked.push(file);
      if (file === "/nowhere.toml") {
        throw { code: "bad_input", title: "Bad input", message: "/nowhere.toml: no such file", remedy: "", detail: null, danger: false };
      }
      const draft = { ...target([]), name: "", host: "", project_dir: file ? `/srv/from-${file.slice(1, -5)}` : "/home/ubuntu/app", policy_file: file };
      // The slow file's answer comes after any asked later.
      return file === "/slow.toml" ? new Promise((done) => setTimeout(() => done(draft), 20)) : draft;
    });
    return asked;
  };

  it("follows the policy file chosen, until the operator types a directory of their own", async () => {
    core();
    const form = new TargetForm();
    await form.begin();
    expect(form.editing!.draft.project_dir).toBe("/home/ubuntu/app");
    form.editing!.draft.policy_file = " /team.toml ";
    await form.policyChosen();
    expect(form.editing!.draft.project_dir).toBe("/srv/from-team");
    form.editing!.draft.policy_file = "/other.toml";
    await form.policyChosen();
    expect(form.editing!.draft.project_dir).toBe("/srv/from-other");
    form.editing!.draft.project_dir = "/srv/mine";
    form.editing!.draft.policy_file = "";
    await form.policyChosen();
    expect(form.editing!.draft.project_dir).toBe("/srv/mine");
  });

  it("says at once why a policy file does not read, and keeps the directory", async () => {
    core();
    const form = new TargetForm();
    await form.begin();
    form.editing!.draft.policy_file = "/nowhere.toml";
    await form.policyChosen();
    expect(form.policyProblem?.message).toBe("/nowhere.toml: no such file");
    expect(form.editing!.draft.project_dir).toBe("/home/ubuntu/app");
    form.editing!.draft.policy_file = "/team.toml";
    await form.policyChosen();
    expect(form.policyProblem).toBeNull();
    expect(form.editing!.draft.project_dir).toBe("/srv/from-team");
  });

  it("leaves a saved target's own directory as it was", async () => {
    const asked = core();
    const form = new TargetForm();
    form.edit({ ...target([]), project_dir: "/srv/saved", policy_file: "/team.toml" });
    await form.policyChosen();
    form.editing!.draft.policy_file = "/other.toml";
    await form.policyChosen();
    expect(asked).toEqual(["/team.toml", "/team.toml", "/other.toml"]);
    expect(form.editing!.draft.project_dir).toBe("/srv/saved");
  });

  it("is read before a save, whether its read was under way or not begun (Enter in the field)", async () => {
    core();
    const form = new TargetForm();
    await form.begin();
    form.editing!.draft.policy_file = "/slow.toml";
    void form.policyChosen();
    await form.settled();
    expect(form.editing!.draft.project_dir).toBe("/srv/from-slow");
    form.editing!.draft.policy_file = "/team.toml";
    await form.settled();
    expect(form.editing!.draft.project_dir).toBe("/srv/from-team");
  });

  it("uses no answer that a later choice overtook", async () => {
    core();
    const form = new TargetForm();
    await form.begin();
    form.editing!.draft.policy_file = "/slow.toml";
    const first = form.policyChosen();
    form.editing!.draft.policy_file = "/team.toml";
    await Promise.all([first, form.policyChosen()]);
    expect(form.editing!.draft.project_dir).toBe("/srv/from-team");
  });
});
