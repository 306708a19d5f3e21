/**
 * Stripe's published example objects (`upstream/fixtures3.json`, see the README there), loaded once and handed
 * out as deep copies typed with the client's own response types. Handlers fill a copy with the request's values
 * and fresh ids, so every answer has the shape Stripe's API has, field for field.
 */
import { readFileSync } from 'node:fs';
import type Stripe from 'stripe';

export interface FixtureTypes {
  customer: Stripe.Customer;
  product: Stripe.Product;
  price: Stripe.Price;
  'billing.meter': Stripe.Billing.Meter;
  'billing.meter_event': Stripe.Billing.MeterEvent;
  'billing.meter_event_summary': Stripe.Billing.MeterEventSummary;
  'checkout.session': Stripe.Checkout.Session;
  'billing_portal.session': Stripe.BillingPortal.Session;
  subscription: Stripe.Subscription;
  subscription_item: Stripe.SubscriptionItem;
  invoice: Stripe.Invoice;
  line_item: Stripe.InvoiceLineItem;
  event: Stripe.Event;
  webhook_endpoint: Stripe.WebhookEndpoint;
  payment_method: Stripe.PaymentMethod;
}

let resources: Record<string, unknown> | undefined;

export function fixture<K extends keyof FixtureTypes>(name: K): FixtureTypes[K] {
  resources ??= (JSON.parse(readFileSync(new URL('./upstream/fixtures3.json', import.meta.url), 'utf8')) as { resources: Record<string, unknown> })
    .resources;
  const example = resources[name];
  if (example === undefined) throw new Error(`fixtures3.json has no example ${name}`);
  // The one cast: Stripe publishes these objects as examples of exactly these response types.
  return structuredClone(example) as FixtureTypes[K];
}
