// Comparing host key fingerprints the way an operator pastes them: with or without the
// SHA256: prefix, with stray spaces or a trailing "=" padding from some tools.

/** Normalizes a pasted fingerprint to `SHA256:<43 base64 chars>`, or null if it is not one. */
export function normalizeFingerprint(text: string): string | null {
  const digest = text.trim().replace(/^SHA256:/i, "").replace(/\s+/g, "").replace(/=+$/, "");
  return /^[A-Za-z0-9+/]{43}$/.test(digest) ? `SHA256:${digest}` : null;
}

export type Comparison = "empty" | "malformed" | "match" | "mismatch";

export function compareFingerprint(pasted: string, offered: string): Comparison {
  if (!pasted.trim()) return "empty";
  const normalized = normalizeFingerprint(pasted);
  if (!normalized) return "malformed";
  return normalized === offered ? "match" : "mismatch";
}
