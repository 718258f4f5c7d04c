/** The known word nearest to `word` (a small edit distance away), for "did you mean" hints. */
export function closest(word: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  // Short words need a close match, or every two-letter typo "means" some other id.
  let bestDistance = Math.min(4, Math.floor(word.length / 2) + 1);
  for (const candidate of known) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
