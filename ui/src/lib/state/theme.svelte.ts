// Light or dark: the OS decides unless the operator chose. The choice is the console's
// own (the CLI has no theme), kept in the webview's local storage and applied as
// `data-theme` on the root element, which app.css reads.

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

  private apply() {
    if (typeof document === "undefined") return;
    if (this.choice === "system") delete document.documentElement.dataset.theme;
    else document.documentElement.dataset.theme = this.choice;
  }
}

export const theme = new Theme();
