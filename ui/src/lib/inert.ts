// Text from the host, made unable to reorder what is around it. A bidirectional
// override (U+202E, "right-to-left override") in a commit subject turns the rest of the
// line around, author and date included, and a reviewer approves what they misread;
// each such character is shown as its code instead, as reports show it.

const BIDI_CONTROLS = /[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/g;

export function inert(text: string): string {
  return text.replace(BIDI_CONTROLS, (c) => `<U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}>`);
}
