/**
 * Webhook delivery as Stripe does it (https://docs.stripe.com/webhooks): each event goes to every enabled
 * endpoint subscribed to its type, as a POST of the pretty-printed event JSON, signed in `Stripe-Signature`
 * (`t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.payload" with the endpoint secret>`, re-signed per attempt), and
 * is retried with backoff until the endpoint answers 2xx. Delivery runs one at a time in event order unless a
 * test asks otherwise: `hold()` + `release('reverse')` for out-of-order, `duplicateNext()` / `redeliver()` for
 * the same event twice. `flush()` waits until nothing is queued, in flight or waiting for a retry.
 */
import { createHmac } from 'node:crypto';
import type Stripe from 'stripe';
import type { FakeStripeClock } from './clock.js';
import type { FakeStripeState } from './state.js';

export interface WebhookDelivery {
  eventId: string;
  type: string;
  endpointId: string;
  url: string;
  attempt: number;
  /** HTTP status, or null when the endpoint could not be reached or timed out. */
  status: number | null;
  error?: string;
  /** The signature's timestamp (the fake clock at the attempt). */
  signedAt: number;
}

export interface WebhookDispatcherOptions {
  /** Wall-clock waits between attempts (Stripe: hours, up to 3 days). Default 20, 40, 80, 160, 320 ms. */
  retryDelaysMs?: number[];
  /** How long an endpoint may take to answer (Stripe: seconds). Default 5000 ms. */
  timeoutMs?: number;
}

interface Job {
  event: Stripe.Event;
  endpointId: string;
  attempt: number;
}

/** `Stripe-Signature` for a payload, exactly what `stripe.webhooks.constructEvent` verifies. */
export function signWebhookPayload(payload: string, secret: string, timestamp: number): string {
  const v1 = createHmac('sha256', secret).update(`${timestamp}.${payload}`, 'utf8').digest('hex');
  return `t=${timestamp},v1=${v1}`;
}

/** The delivery log keeps the latest attempts only. */
export const MAX_RECORDED_DELIVERIES = 10_000;

export type ReleaseOrder = 'as-created' | 'reverse' | readonly string[];

export class WebhookDispatcher {
  readonly deliveries: WebhookDelivery[] = [];
  private readonly queue: Job[] = [];
  private readonly held: Job[] = [];
  private holding = false;
  private duplicates = 0;
  private running: Promise<void> | null = null;
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private readonly idle: (() => void)[] = [];
  private closed = false;
  private readonly retryDelaysMs: number[];
  private readonly timeoutMs: number;

  constructor(
    private readonly state: FakeStripeState,
    private readonly clock: FakeStripeClock,
    options: WebhookDispatcherOptions = {},
  ) {
    this.retryDelaysMs = options.retryDelaysMs ?? [20, 40, 80, 160, 320];
    this.timeoutMs = options.timeoutMs ?? 5000;
  }

  /** Called for every new event: one job per endpoint that wants it. */
  enqueue(event: Stripe.Event): void {
    const jobs: Job[] = [];
    for (const [endpointId, { endpoint }] of this.state.webhookEndpoints) {
      if (endpoint.status !== 'enabled') continue;
      if (!endpoint.enabled_events.includes('*') && !endpoint.enabled_events.includes(event.type)) continue;
      jobs.push({ event, endpointId, attempt: 1 });
    }
    event.pending_webhooks = jobs.length;
    const copies = this.duplicates > 0 ? 2 : 1;
    if (this.duplicates > 0) this.duplicates -= 1;
    for (let i = 0; i < copies; i++) for (const job of jobs) this.push({ ...job });
  }

  /** Keep new deliveries back until `release`. */
  hold(): void {
    this.holding = true;
  }

  /** Send what was held, in creation order, reversed, or in the given order of event ids (others after). */
  release(order: ReleaseOrder = 'as-created'): void {
    this.holding = false;
    const jobs = this.held.splice(0);
    if (order === 'reverse') jobs.reverse();
    else if (Array.isArray(order)) {
      const rank = (j: Job) => {
        const i = order.indexOf(j.event.id);
        return i < 0 ? order.length : i;
      };
      jobs.sort((a, b) => rank(a) - rank(b));
    }
    for (const job of jobs) this.push(job);
  }

  /** The next `n` events are each delivered twice (Stripe promises at-least-once, not once). */
  duplicateNext(n = 1): void {
    this.duplicates += n;
  }

  /** Deliver an event again to every endpoint that wants it, as Stripe's resend does. */
  redeliver(eventId: string): void {
    const event = this.state.events.get(eventId);
    if (!event) throw new Error(`no event ${eventId}`);
    this.enqueue(event);
  }

  /** Resolves when nothing is queued, being sent or waiting for a retry (held events excepted). */
  flush(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  close(): void {
    this.closed = true;
    for (const t of this.retryTimers) clearTimeout(t);
    this.retryTimers.clear();
    this.queue.length = 0;
    this.wakeIdle();
  }

  private isIdle(): boolean {
    return this.queue.length === 0 && this.running === null && this.retryTimers.size === 0;
  }

  private wakeIdle(): void {
    if (!this.closed && !this.isIdle()) return;
    for (const resolve of this.idle.splice(0)) resolve();
  }

  private push(job: Job): void {
    if (this.closed) return;
    if (this.holding) {
      this.held.push(job);
      return;
    }
    this.queue.push(job);
    this.kick();
  }

  private kick(): void {
    if (this.running || this.closed) return;
    this.running = this.drain().finally(() => {
      this.running = null;
      if (this.queue.length > 0) this.kick();
      else this.wakeIdle();
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 && !this.closed) {
      const job = this.queue.shift()!;
      await this.attempt(job);
    }
  }

  private async attempt(job: Job): Promise<void> {
    const record = this.state.webhookEndpoints.get(job.endpointId);
    if (!record) return;
    const payload = JSON.stringify(job.event, null, 2);
    const signedAt = this.clock.now();
    const delivery: WebhookDelivery = {
      eventId: job.event.id,
      type: job.event.type,
      endpointId: job.endpointId,
      url: record.endpoint.url,
      attempt: job.attempt,
      status: null,
      signedAt,
    };
    this.deliveries.push(delivery);
    if (this.deliveries.length > MAX_RECORDED_DELIVERIES) this.deliveries.shift();
    try {
      const res = await fetch(record.endpoint.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'stripe-signature': signWebhookPayload(payload, record.secret, signedAt),
          'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
          'cache-control': 'no-cache',
          accept: '*/*; q=0.5, application/xml',
        },
        body: payload,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      delivery.status = res.status;
      await res.body?.cancel();
    } catch (err) {
      delivery.error = err instanceof Error ? err.message : String(err);
    }
    const ok = delivery.status !== null && delivery.status >= 200 && delivery.status < 300;
    if (ok) {
      job.event.pending_webhooks = Math.max(0, job.event.pending_webhooks - 1);
      return;
    }
    const delay = this.retryDelaysMs[job.attempt - 1];
    if (delay === undefined || this.closed) return;
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      this.push({ ...job, attempt: job.attempt + 1 });
      this.wakeIdle();
    }, delay);
    this.retryTimers.add(timer);
  }
}
