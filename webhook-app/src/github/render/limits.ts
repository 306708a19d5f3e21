/** GitHub's limits on check-run output. */
export const GITHUB_LIMITS = {
  /** output.summary and output.text: at most 65,535 characters each. */
  outputChars: 65_535,
  /** Annotations per create/update request. */
  annotationsPerRequest: 50,
  /** Deployment status description. */
  deploymentDescriptionChars: 140,
} as const;

/** Cuts text to fit `max` characters, saying how much was left out. */
export function fitText(text: string, max: number = GITHUB_LIMITS.outputChars): string {
  if (text.length <= max) return text;
  const note = '\n\n… (truncated to fit GitHub’s limit; run `wharf validate` locally for the full list)';
  return text.slice(0, max - note.length) + note;
}

export const shortSha = (sha: string) => sha.slice(0, 7);
export const escapeCell = (s: string) => s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
