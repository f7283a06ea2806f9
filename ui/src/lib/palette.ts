// The command palette's matching: every word typed must start a word of the entry's
// label or its kind ("restart back" finds "Restart backend-aws"), and earlier matches
// rank higher. Plain and predictable beats clever fuzzy scores for an operator who
// wants the same keys to reach the same entry every time.

export type Entry = { id: string; kind: string; label: string };

const words = (text: string) => text.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);

/** The entries matching `query`, best first; all of them, in order, for an empty query. */
export function rank<E extends Entry>(entries: E[], query: string): E[] {
  const wanted = words(query);
  if (wanted.length === 0) return entries;
  const scored: [E, number][] = [];
  for (const entry of entries) {
    const have = words(`${entry.label} ${entry.kind}`);
    let score = 0;
    const matched = wanted.every((w) => {
      const at = have.findIndex((h) => h.startsWith(w));
      score += at;
      return at >= 0;
    });
    if (matched) scored.push([entry, score]);
  }
  return scored.sort((a, b) => a[1] - b[1]).map(([e]) => e);
}
