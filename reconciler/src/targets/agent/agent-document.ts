/**
 * The document the agent target publishes for an environment: its WorkflowApp (wharf.dev/v1alpha1), whole, and the
 * content hash that names it. Reports are fenced by that hash; a teardown is a document of its own (`deletionHash`).
 */
import { createHash } from 'node:crypto';
import { type TargetEnvironment, WORKFLOW_APP_API_VERSION, WORKFLOW_APP_KIND, type WorkflowApp } from '@wharf/contracts';

/** JSON with keys sorted at every level: the same document hashes the same whatever built it. */
function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

const sha256 = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

/** The environment as the WorkflowApp its agent runs: the spec as the source wrote it (secrets by reference). */
export function workflowAppOf(env: TargetEnvironment): WorkflowApp {
  return {
    apiVersion: WORKFLOW_APP_API_VERSION,
    kind: WORKFLOW_APP_KIND,
    metadata: {
      name: `${env.name}--${env.app}`.slice(0, 253),
      generation: env.generation,
      labels: { 'wharf.dev/app': env.app, 'wharf.dev/environment': env.name, 'wharf.dev/environment-id': String(env.id) },
    },
    spec: env.spec,
  };
}

export const documentHash = (doc: WorkflowApp): string => sha256(canonicalJson(doc));

/** The hash of an environment's teardown document. */
export const deletionHash = (environmentId: number): string => sha256(`wharf-agent-teardown:${environmentId}`);
