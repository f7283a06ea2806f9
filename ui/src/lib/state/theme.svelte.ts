// Light or dark: the OS decides unless the operator chose. The choice is the console's
// own (the CLI has no theme), kept in the webview's local storage. The theme shown is
// always set as `data-theme` on the root element (the OS's, followed, while the choice
// is "system"), so app.css states the dark colours once.

export type ThemeChoice = "system" | "light" | "dark";
const KEY = "shipshape.theme";
const CHOICES: ThemeChoice[] = ["system", "light", "dark"];

function stored(): ThemeChoice {
  try {
    const value = localStorage.getItem(KEY);
    return CHOICES.includes(value as ThemeChoice) ? (value as ThemeChoice) : "system";
  } catch {
    return "system";
  }
}

class Theme {
  choice = $state<ThemeChoice>(stored());

  constructor() {
    this.apply();
    prefersDark?.addEventListener("change", () => this.apply()); // while "system", the OS decides
  }

  set(choice: ThemeChoice) {
    this.choice = choice;
    try {
      localStorage.setItem(KEY, choice);
    } catch {
      // Storage refused (a locked-down profile): the choice lasts this session.
    }
    this.apply();
  }

  /** The theme shown: the choice, or the OS's preference while the choice is "system". */
  private apply() {
    if (typeof document === "undefined") return;
    const dark = this.choice === "dark" || (this.choice === "system" && prefersDark?.matches === true);
    document.documentElement.dataset.theme = dark ? "dark" : "light";
  }
}

const prefersDark = typeof matchMedia === "undefined" ? null : matchMedia("(prefers-color-scheme: dark)");

export const theme = new Theme();
