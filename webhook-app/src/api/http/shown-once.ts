/**
 * What an Idempotency-Key keeps of an answer: everything but a secret shown once (a new key, an invitation token),
 * which Wharf only ever stores hashed. A replay answers without it and says so.
 */
import type { ApiRoute } from '@wharf/contracts';

const WHAT_NOW = { key: 'rotate the key if it was lost', token: 'revoke the invitation and invite again if it was lost' } as const;

export function withoutShownOnce(route: ApiRoute, body: unknown): unknown {
  const field = route.secret;
  if (!field || body === null || typeof body !== 'object' || Array.isArray(body) || !(field in body)) return body;
  const { [field]: _secret, ...rest } = body as Record<string, unknown>;
  return { ...rest, secretShownOnce: `the ${field} was shown once, in the first answer to this Idempotency-Key, and is not kept: ${WHAT_NOW[field]}` };
}
