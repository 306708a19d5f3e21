/** What handlers and test controls share: the state, the clock, and the event log that feeds webhooks. */
import type Stripe from 'stripe';
import type { FakeStripeClock } from './clock.js';
import type { DecodedParams } from './check-params.js';
import { stripeErrors } from './errors.js';
import { stripeId } from './ids.js';
import type { FakeStripeState } from './state.js';

export interface RequestInfo {
  id: string;
  idempotencyKey: string | null;
}

export interface EmitOptions {
  /** `data.previous_attributes`: the changed fields' earlier values. */
  previous?: Record<string, unknown>;
  /** The API request that caused the event; null for what Stripe does on its own (renewals, customer actions). */
  request?: RequestInfo | null;
}

export interface BillingSettings {
  /** Days between automatic payment retries of a failed subscription invoice (Stripe's custom retry schedule). */
  dunningRetryDays: readonly number[];
  /** What happens to the subscription when the last retry fails (Stripe's "subscription status" setting). */
  afterAllRetriesFail: 'cancel' | 'mark_unpaid' | 'leave_past_due';
}

export interface FakeStripeContext {
  state: FakeStripeState;
  clock: FakeStripeClock;
  apiVersion: string;
  settings: BillingSettings;
  emit(type: Stripe.Event.Type, object: { id?: string | null; object: string }, options?: EmitOptions): Stripe.Event;
}

export interface HandlerCall {
  ctx: FakeStripeContext;
  /** The endpoint id, e.g. `customers.create`. */
  endpoint: string;
  params: DecodedParams;
  path: Record<string, string>;
  request: RequestInfo;
}

export type Handler = (call: HandlerCall) => object;

/** Refuses (501, listed in the fake's problems) a parameter Stripe accepts but the fake does not model. */
export function onlyParams(call: HandlerCall, supported: readonly string[]): void {
  for (const key of Object.keys(call.params)) {
    if (key !== 'expand' && !supported.includes(key)) throw stripeErrors.paramNotModelled(call.endpoint, key);
  }
}

/**
 * A handler with the client's own parameter type. The request was checked against that very declaration
 * (the generated tree), so its decoded form is a value of that type; this is the one place that says so.
 */
export function typed<P>(fn: (call: HandlerCall, params: P) => object): Handler {
  return (call) => fn(call, call.params as P);
}

export function createEventLog(
  state: FakeStripeState,
  clock: FakeStripeClock,
  apiVersion: string,
  deliver: (event: Stripe.Event) => void,
): FakeStripeContext['emit'] {
  return (type, object, options = {}) => {
    // Stripe.Event is a union over every event type; the fake builds any of them from (type, object).
    const event = {
      id: stripeId('evt'),
      object: 'event',
      api_version: apiVersion,
      created: clock.now(),
      data: { object: structuredClone(object), ...(options.previous ? { previous_attributes: options.previous } : {}) },
      livemode: false,
      pending_webhooks: 0,
      request: { id: options.request?.id ?? null, idempotency_key: options.request?.idempotencyKey ?? null },
      type,
    } as Stripe.Event;
    state.events.set(event.id, event);
    deliver(event);
    return event;
  };
}
