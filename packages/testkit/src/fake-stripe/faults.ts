/**
 * Fault injection: the ways Stripe fails that billing code must survive. Rules match by endpoint id
 * (`billing.meterEvents.create`) or all endpoints, and fire a number of times.
 * - `server-error`: 500/502/503 `api_error` before the request executes (nothing kept; a retry executes it).
 * - `rate-limit`: 429 `rate_limit` with `Retry-After`.
 * - `slow`: the answer comes after `delayMs` (wall clock), to exercise client timeouts.
 * - `drop-response`: the request executes and its result is kept for idempotent replay, then the connection
 *   drops without an answer: the crash-after-commit case a retry with the same Idempotency-Key must survive.
 * Going down entirely (connections refused) is `fake.setDown(true)`.
 */
export type StripeFault =
  | { kind: 'server-error'; status?: 500 | 502 | 503 }
  | { kind: 'rate-limit'; retryAfterSeconds?: number }
  | { kind: 'slow'; delayMs: number }
  | { kind: 'drop-response' };

export interface StripeFaultRule {
  fault: StripeFault;
  /** How many matching requests it hits (default 1). */
  times?: number;
  /** Endpoint id as in the generated table, e.g. `customers.create`; all endpoints when absent. */
  endpoint?: string;
}

export class FaultInjector {
  private readonly rules: (StripeFaultRule & { left: number })[] = [];

  inject(rule: StripeFaultRule): void {
    this.rules.push({ ...rule, left: rule.times ?? 1 });
  }

  clear(): void {
    this.rules.length = 0;
  }

  /** Takes one hit of the first live rule matching this endpoint and phase. */
  take(endpointId: string, phase: 'before' | 'after'): StripeFault | undefined {
    const rule = this.rules.find(
      (r) => r.left > 0 && (!r.endpoint || r.endpoint === endpointId) && (r.fault.kind === 'drop-response') === (phase === 'after'),
    );
    if (!rule) return undefined;
    rule.left -= 1;
    return rule.fault;
  }
}
