/**
 * Env vars of a document with their values, made when an agent fetches it: plain values as the spec has them, secrets
 * resolved by reference from the tenant's store (never written into a document, a report or a log). A secret that
 * cannot be resolved is listed in `unresolved`: the agent reports SecretMissing instead of deploying without it.
 */
import type { AgentDocument, WorkflowApp } from '@wharf/contracts';

export interface SecretRef {
  name: string;
  key: string;
}

/** Looks a secret up in a tenant's store; undefined when it is not there. */
export type SecretResolver = (scope: { tenantId: number }, ref: SecretRef) => Promise<string | undefined>;

/** Until tenants have a secret store, no secret resolves: environments that need one report SecretMissing. */
export const noSecrets: SecretResolver = async () => undefined;

export async function resolveEnvironment(
  doc: WorkflowApp | null,
  tenantId: number,
  resolve: SecretResolver,
): Promise<Pick<AgentDocument, 'environment' | 'unresolved'>> {
  if (!doc) return {};
  const environment: Record<string, string> = {};
  const unresolved: string[] = [];
  for (const v of doc.spec.env ?? []) {
    if (v.value !== undefined) environment[v.name] = v.value;
    else if (v.secretRef) {
      const value = await resolve({ tenantId }, v.secretRef);
      if (value === undefined) unresolved.push(v.name);
      else environment[v.name] = value;
    }
  }
  return unresolved.length > 0 ? { environment, unresolved } : { environment };
}
