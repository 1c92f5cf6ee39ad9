/**
 * "Did you mean …?" for a name that is not known: the closest known name, when it is close
 * enough to be a typo of it.
 */

/**
 * Edits between two names, case-insensitive: insert, delete, substitute, or swap two
 * neighbours (a swap is one typo: 'duratoin' is one edit from 'duration'). Names are short: O(n·m).
 */
export function editDistance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  // Three rows of the table: two back for the swap, one back, and the one being filled.
  let twoBack: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, twoBack[j - 2]! + 1);
      current[j] = best;
    }
    twoBack = previous;
    previous = current;
  }
  return previous[b.length]!;
}

/** Edits allowed by default: a third of the name's length, at least 1 and at most 3 ('rat' → 'rate'). */
export function defaultMaxEdits(name: string): number {
  return Math.min(3, Math.max(1, Math.floor(name.length / 3)));
}

/**
 * The candidate closest to `name` (the first of equals) when at most `maxEdits` away, else
 * undefined. Call sites with longer names (metric names) allow more edits.
 */
export function suggestName(name: string, candidates: Iterable<string>, maxEdits = defaultMaxEdits(name)): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(name, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= maxEdits ? best : undefined;
}
