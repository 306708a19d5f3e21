/**
 * Stripe's billing meters, by event name: the id (for event summaries) and the payload keys each meter reads (by
 * default `stripe_customer_id` and `value`; billing's catalog sync creates the meters).
 */
import type Stripe from 'stripe';

export interface MeterConfig {
  id: string;
  customerKey: string;
  valueKey: string;
}

export async function activeMeters(stripe: Stripe): Promise<Map<string, MeterConfig>> {
  const out = new Map<string, MeterConfig>();
  for await (const meter of stripe.billing.meters.list({ status: 'active', limit: 100 })) {
    out.set(meter.event_name, {
      id: meter.id,
      customerKey: meter.customer_mapping.event_payload_key,
      valueKey: meter.value_settings.event_payload_key,
    });
  }
  return out;
}
