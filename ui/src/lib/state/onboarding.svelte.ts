// The guided first run: shown while the operator has no target, and kept open once begun
// (saving the target mid-way must not whisk it away), until they finish or leave it.
// What was typed or made on the way lives here too, so a look at another screen
// (the Keys screen, say) and back loses none of it. A passphrase is never kept.
import type { KeyInfo, Target } from "../bindings";

export type OnboardingStep = "host" | "key" | "trust" | "check";

export type OnboardingForm = {
  /** The target as typed (null until the core's defaults arrive). */
  draft: Target | null;
  /** Its jump hosts as typed (`ssh -J` syntax). */
  jumpSpec: string;
  /** Where the host comes from: typed, or a Host of ~/.ssh/config (imported as typed). */
  source: "typed" | "ssh-config";
  keyMode: "existing" | "import" | "generate";
  /** The Host of ~/.ssh/config picked. */
  alias: string;
  /** The key step's choices: a key already in the keyring, or the name and file of one
   *  to import or generate. */
  existingKey: string;
  keyName: string;
  keyPath: string;
  /** The key imported or generated in the key step, once it is in the keyring. */
  madeKey: KeyInfo | null;
};

const emptyForm = (): OnboardingForm => ({
  draft: null, jumpSpec: "", source: "typed", keyMode: "import", alias: "", existingKey: "", keyName: "operator",
  keyPath: "", madeKey: null,
});

class Onboarding {
  /** Began (no target at start, or asked for from the palette) and not yet finished. */
  active = $state(false);
  step = $state<OnboardingStep>("host");
  /** The target being set up, once saved. */
  target = $state<string | null>(null);
  /** The host step's form, and the key made or imported in the key step. */
  form = $state<OnboardingForm>(emptyForm());

  begin() {
    this.active = true;
    this.step = "host";
    this.target = null;
    // Emptied in place: a Welcome screen on show keeps the same form.
    Object.assign(this.form, emptyForm());
  }

  finish() {
    this.active = false;
  }
}

export const onboarding = new Onboarding();
