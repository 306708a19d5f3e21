/** Did-you-mean suggestions for misspelt keys, types and names. */

/** Levenshtein distance, or any number above max as soon as the distance is known to exceed it. */
export function editDistance(a: string, b: string, max = Number.POSITIVE_INFINITY): number {
  if (a === b) return 0;
  if (Math.abs(a.length - b.length) > max) return max + 1;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  let previous = new Uint16Array(b.length + 1);
  let current = new Uint16Array(b.length + 1);
  for (let j = 0; j <= b.length; j++) previous[j] = j;
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    let rowMin = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= b.length; j++) {
      const cost = ca === b.charCodeAt(j - 1) ? 0 : 1;
      const value = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + cost);
      current[j] = value;
      if (value < rowMin) rowMin = value;
    }
    if (rowMin > max) return max + 1;
    [previous, current] = [current, previous];
  }
  return previous[b.length] as number;
}

/** Candidates compared at most, so a suggestion never costs more than a few milliseconds. */
const MAX_CANDIDATES = 2_000;

/** The closest candidate within a distance proportional to the word's length, or undefined. */
export function suggest(word: string, candidates: Iterable<string>): string | undefined {
  if (word.length > 100) return undefined;
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(word.length / 3)) + 1;
  let compared = 0;
  for (const candidate of candidates) {
    if (++compared > MAX_CANDIDATES) break;
    if (Math.abs(candidate.length - word.length) >= bestDistance) continue;
    const other = candidate.toLowerCase();
    if (other === lower) return candidate;
    const distance = editDistance(lower, other, bestDistance - 1);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

export const didYouMean = (word: string, candidates: Iterable<string>): string => {
  const hit = suggest(word, candidates);
  return hit ? ` Did you mean "${hit}"?` : '';
};

/** didYouMean with the answers kept, for checks that may ask about the same name many times. */
export function memoDidYouMean(candidates: readonly string[]): (word: string) => string {
  const memo = new Map<string, string>();
  return (word) => {
    let hint = memo.get(word);
    if (hint === undefined) {
      hint = didYouMean(word, candidates);
      memo.set(word, hint);
    }
    return hint;
  };
}
