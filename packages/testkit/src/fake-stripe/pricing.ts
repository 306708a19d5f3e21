/**
 * What a price charges for a quantity, and how much a meter recorded: per-unit and tiered (graduated or volume)
 * prices, `transform_quantity`, and the meter's `sum` / `count` / `last` aggregation over a period.
 */
import type Stripe from 'stripe';
import type { FakeStripeState } from './state.js';

const asNumber = (d: Stripe.Decimal | number | null | undefined): number => (d === null || d === undefined ? 0 : Number(String(d)));

export function billedQuantity(price: Stripe.Price, quantity: number): number {
  const t = price.transform_quantity;
  if (!t) return quantity;
  const q = quantity / t.divide_by;
  return t.round === 'up' ? Math.ceil(q) : Math.floor(q);
}

/** The amount in the currency's minor unit, rounded as Stripe rounds line totals. */
export function amountFor(price: Stripe.Price, quantity: number): number {
  const q = billedQuantity(price, quantity);
  if (price.billing_scheme !== 'tiered' || !price.tiers) return Math.round(q * asNumber(price.unit_amount_decimal));
  const tiers = price.tiers;
  if (price.tiers_mode === 'volume') {
    const tier = tiers.find((t) => t.up_to === null || q <= t.up_to) ?? tiers[tiers.length - 1];
    return Math.round(q * asNumber(tier.unit_amount_decimal) + (q > 0 ? asNumber(tier.flat_amount_decimal) : 0));
  }
  let total = 0;
  let below = 0;
  for (const t of tiers) {
    const top = t.up_to ?? Infinity;
    const units = Math.max(0, Math.min(q, top) - below);
    if (units > 0) total += units * asNumber(t.unit_amount_decimal) + asNumber(t.flat_amount_decimal);
    below = top;
    if (q <= top) break;
  }
  return Math.round(total);
}

/** A meter's aggregate for one customer over [start, end), as the meter's formula defines it. */
export function meterUsage(state: FakeStripeState, meterId: string, customer: string, start: number, end: number): number {
  const meter = state.meters.get(meterId);
  if (!meter) return 0;
  const events = state.meterEventsFor(meterId, customer).filter((r) => r.event.timestamp >= start && r.event.timestamp < end);
  switch (meter.default_aggregation.formula) {
    case 'count':
      return events.length;
    case 'last': {
      const last = [...events].sort((a, b) => a.event.timestamp - b.event.timestamp).pop();
      return last?.value ?? 0;
    }
    default:
      return Math.max(0, events.reduce((sum, r) => sum + r.value, 0));
  }
}
