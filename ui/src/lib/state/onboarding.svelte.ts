// The guided first run: shown while the operator has no target, and kept open once begun
// (saving the target mid-way must not whisk it away), until they finish or leave it.

export type OnboardingStep = "host" | "key" | "trust" | "check";

class Onboarding {
  /** Began (no target at start, or asked for from the palette) and not yet finished. */
  active = $state(false);
  step = $state<OnboardingStep>("host");
  /** The target being set up, once saved. */
  target = $state<string | null>(null);

  begin() {
    this.active = true;
    this.step = "host";
    this.target = null;
  }

  finish() {
    this.active = false;
  }
}

export const onboarding = new Onboarding();
