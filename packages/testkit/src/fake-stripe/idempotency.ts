/**
 * Stripe's idempotency layer (https://docs.stripe.com/api/idempotent_requests): the first result of a POST that
 * began executing is kept for 24 hours under (API key, Idempotency-Key) and replayed for the same endpoint and
 * parameters, with `Idempotent-Replayed: true`; other parameters or another endpoint → 400 `idempotency_error`;
 * the same key while the first request still runs → 409. Requests refused before execution (bad parameters,
 * injected 500s and 429s) keep nothing, so they can be retried. Bounded in keys and key length.
 */
import type { FakeStripeClock } from './clock.js';
import { stripeErrors } from './errors.js';

export interface StoredResponse {
  status: number;
  body: string;
  requestId: string;
}

interface Entry {
  endpoint: string;
  fingerprint: string;
  createdAt: number;
  response: StoredResponse | null;
}

export const IDEMPOTENCY_LIMITS = { keyLength: 255, keys: 50_000, ttlSeconds: 24 * 60 * 60 } as const;

export type IdempotencyBegin = { kind: 'new' } | { kind: 'replay'; response: StoredResponse };

export class IdempotencyStore {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly clock: FakeStripeClock) {}

  static checkKey(key: string): void {
    if (key.length > IDEMPOTENCY_LIMITS.keyLength) {
      throw stripeErrors.invalidRequest(`Idempotency-Key must be at most ${IDEMPOTENCY_LIMITS.keyLength} characters (it has ${key.length}).`);
    }
  }

  /** Claims the key for this request, or returns the stored answer to replay; throws Stripe's conflicts. */
  begin(apiKey: string, key: string, endpoint: string, fingerprint: string): IdempotencyBegin {
    this.prune();
    const id = `${apiKey}\u0000${key}`;
    const entry = this.entries.get(id);
    if (!entry) {
      this.entries.set(id, { endpoint, fingerprint, createdAt: this.clock.now(), response: null });
      return { kind: 'new' };
    }
    if (entry.endpoint !== endpoint) throw stripeErrors.idempotencyEndpointMismatch(key, entry.endpoint, endpoint);
    if (entry.fingerprint !== fingerprint) throw stripeErrors.idempotencyParamsMismatch(key);
    if (!entry.response) throw stripeErrors.idempotencyInProgress(key);
    return { kind: 'replay', response: entry.response };
  }

  complete(apiKey: string, key: string, response: StoredResponse): void {
    const entry = this.entries.get(`${apiKey}\u0000${key}`);
    if (entry) entry.response = response;
  }

  /** The request never began executing: nothing is kept. */
  release(apiKey: string, key: string): void {
    const id = `${apiKey}\u0000${key}`;
    if (this.entries.get(id)?.response === null) this.entries.delete(id);
  }

  private prune(): void {
    const cutoff = this.clock.now() - IDEMPOTENCY_LIMITS.ttlSeconds;
    for (const [id, entry] of this.entries) {
      if (entry.createdAt >= cutoff && this.entries.size < IDEMPOTENCY_LIMITS.keys) break;
      this.entries.delete(id);
    }
  }
}

/** Parameters compared independent of key order, as Stripe compares them. */
export function fingerprint(params: unknown): string {
  const canon = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canon)
      : v && typeof v === 'object'
        ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon((v as Record<string, unknown>)[k])]))
        : v;
  return JSON.stringify(canon(params));
}
