/**
 * What an Idempotency-Key keeps of an answer: everything but a secret shown once (a new key, an invitation token),
 * which Wharf only ever stores hashed. A replay answers without it and says so.
 */
import type { ApiRoute } from '@wharf/contracts';

const WHAT_NOW = { key: 'rotate the key if it was lost', token: 'revoke the invitation and invite again if it was lost' } as const;
/** Where the field's name alone does not say what to do (a registration token is not an invitation). */
const WHAT_NOW_OF: Record<string, string> = { createAgentToken: 'revoke the registration token and create another if it was lost' };

export function withoutShownOnce(route: ApiRoute, body: unknown): unknown {
  const field = route.secret;
  if (!field || body === null || typeof body !== 'object' || Array.isArray(body) || !(field in body)) return body;
  const { [field]: _secret, ...rest } = body as Record<string, unknown>;
  return { ...rest, secretShownOnce: `the ${field} was shown once, in the first answer to this Idempotency-Key, and is not kept: ${WHAT_NOW_OF[route.operationId] ?? WHAT_NOW[field]}` };
}
