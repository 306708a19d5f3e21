/**
 * Resource limits for untrusted YAML. Content over a limit is refused with a diagnostic, never parsed
 * further, so that a hostile or broken file cannot hang or crash whoever validates it.
 */
export const LIMITS = {
  /** Bytes per file (UTF-8). Larger files are not parsed at all (WHARF101). */
  maxFileBytes: 1_048_576,
  /** Workflow files per app (WHARF104). */
  maxFilesPerApp: 64,
  /** Nesting of mappings and sequences (WHARF102). Real configs stay under 15. */
  maxDepth: 64,
  /** Alias expansion budget per document, as the yaml package counts it (WHARF103). */
  maxAliasCount: 1_000,
} as const;

export type Limits = { [K in keyof typeof LIMITS]: number };
