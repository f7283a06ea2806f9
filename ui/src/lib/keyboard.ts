// Window-wide shortcuts (Ctrl+1…8, Ctrl+K, Ctrl+R, Ctrl+Enter) act on the screen behind
// any dialog, so they stand aside while one is open: a screen changed or an operation
// swapped under an open dialog would leave it showing one thing and doing another.

/** Whether a modal dialog (the palette included) is on screen. */
export function dialogOpen(): boolean {
  return document.querySelector('[role="dialog"][aria-modal="true"]') !== null;
}
