/** Everything the fake Stripe remembers, as the objects its API returns. One state per fake; tests may read it. */
import type Stripe from 'stripe';
import type { CardOutcome } from './errors.js';

export interface MeterEventRecord {
  event: Stripe.Billing.MeterEvent;
  meter: string;
  customer: string;
  value: number;
}

export interface CardOnFile {
  paymentMethod: string;
  outcome: CardOutcome;
}

export interface WebhookEndpointRecord {
  endpoint: Stripe.WebhookEndpoint;
  secret: string;
}

export class FakeStripeState {
  readonly customers = new Map<string, Stripe.Customer>();
  readonly deletedCustomers = new Set<string>();
  readonly products = new Map<string, Stripe.Product>();
  readonly prices = new Map<string, Stripe.Price>();
  readonly meters = new Map<string, Stripe.Billing.Meter>();
  /** Every counted meter event, in arrival order. */
  readonly meterEvents: MeterEventRecord[] = [];
  private readonly meterEventIndex = new Map<string, MeterEventRecord[]>();
  /** identifier → when it was first seen (Unix seconds); Stripe refuses a repeat within 24 hours. */
  readonly meterEventIdentifiers = new Map<string, number>();
  /** Meter events Stripe accepts but reports asynchronously as unusable (no meter, no such customer, …). */
  readonly meterEventErrors: { identifier: string; message: string }[] = [];
  readonly checkoutSessions = new Map<string, Stripe.Checkout.Session>();
  /** What each checkout session was created with (line items, subscription data), for its completion. */
  readonly checkoutRequests = new Map<string, Stripe.Checkout.SessionCreateParams>();
  readonly portalSessions = new Map<string, Stripe.BillingPortal.Session>();
  readonly subscriptions = new Map<string, Stripe.Subscription>();
  readonly invoices = new Map<string, Stripe.Invoice>();
  readonly events = new Map<string, Stripe.Event>();
  readonly webhookEndpoints = new Map<string, WebhookEndpointRecord>();
  /** The card each customer has on file and what charging it does. */
  readonly cards = new Map<string, CardOnFile>();
  /** Subscriptions whose `customer.subscription.trial_will_end` went out. */
  readonly trialWillEndSent = new Set<string>();
  invoiceSequence = 0;

  addMeterEvent(record: MeterEventRecord): void {
    this.meterEvents.push(record);
    const key = `${record.meter}|${record.customer}`;
    const list = this.meterEventIndex.get(key);
    if (list) list.push(record);
    else this.meterEventIndex.set(key, [record]);
  }

  /** One meter's counted events for one customer. */
  meterEventsFor(meter: string, customer: string): readonly MeterEventRecord[] {
    return this.meterEventIndex.get(`${meter}|${customer}`) ?? [];
  }

  /** Any stored object by id, for `expand`. */
  lookup(id: string): object | undefined {
    const stores: Map<string, object>[] = [
      this.customers,
      this.products,
      this.prices,
      this.meters,
      this.checkoutSessions,
      this.subscriptions,
      this.invoices,
      this.events,
    ];
    for (const store of stores) {
      const found = store.get(id);
      if (found) return found;
    }
    return undefined;
  }
}
