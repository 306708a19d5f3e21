/**
 * Target names as `environments.target` and the manifest's `target:` spell them: a kind, and for kinds that have
 * several places to run (agent pools, Kubernetes clusters) a qualifier after a colon: `local`, `kubernetes`,
 * `kubernetes:eu-1`, `agent:edge`.
 */
export const TARGET_KINDS = ['local', 'kubernetes', 'agent'] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];
export const DEFAULT_TARGET = 'local' as const;

export interface TargetName {
  /** The registry key: `local`, `kubernetes`, `agent`, or a test double's name. */
  kind: string;
  /** The pool or cluster after the colon; null when there is none. */
  qualifier: string | null;
}

const NAME = /^([a-z][a-z0-9-]*)(?::([a-z0-9]([a-z0-9-]*[a-z0-9])?))?$/;

/** `agent:edge` → { kind: 'agent', qualifier: 'edge' }; null when the name is not of that form. */
export function parseTargetName(name: string): TargetName | null {
  const m = NAME.exec(name);
  if (!m?.[1]) return null;
  return { kind: m[1], qualifier: m[2] ?? null };
}
