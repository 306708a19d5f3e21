/**
 * Builds the fake's objects from Stripe's example objects (`fixtures.ts`): a deep copy of the example, its
 * placeholder values (`1234567890`, example ids, sample nested data) replaced with fresh ids, the fake's time and
 * the request's values. Only the fields a fresh object would have differently from the example are set here.
 */
import type Stripe from 'stripe';
import { fixture } from './fixtures.js';
import { stripeId } from './ids.js';

type MetadataParam = Stripe.Emptyable<Stripe.MetadataParam> | undefined;

/** Stripe's metadata semantics: '' clears everything, a key set to '' is removed, values are strings. */
export function mergeMetadata(current: Stripe.Metadata, param: MetadataParam): Stripe.Metadata {
  if (param === undefined) return current;
  if (param === null || param === '') return {};
  const out = { ...current };
  for (const [k, v] of Object.entries(param)) {
    if (v === null || v === '') delete out[k];
    else out[k] = String(v);
  }
  return out;
}

/**
 * A decimal as the wire carries it: a string ("2000", "0.00006"). The client turns it into its Decimal class
 * when it parses the answer; the fake keeps the wire form so its objects stay plain JSON.
 */
export const decimal = (value: string | number): Stripe.Decimal => String(value) as unknown as Stripe.Decimal;

export function customerObject(now: number, p: Stripe.CustomerCreateParams): Stripe.Customer {
  const c = fixture('customer');
  Object.assign(c, {
    id: stripeId('cus', 14),
    created: now,
    address: p.address ? { city: null, country: null, line1: null, line2: null, postal_code: null, state: null, ...p.address } : null,
    balance: p.balance ?? 0,
    description: p.description ?? null,
    discount: null,
    email: p.email ?? null,
    invoice_prefix: stripeId('x', 7).slice(2).toUpperCase(),
    invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
    metadata: mergeMetadata({}, p.metadata),
    name: p.name ?? null,
    phone: p.phone ?? null,
    preferred_locales: p.preferred_locales ?? [],
    shipping: null,
    tax_exempt: p.tax_exempt || 'none',
  } satisfies Partial<Stripe.Customer>);
  return c;
}

export function productObject(now: number, p: Stripe.ProductCreateParams): Stripe.Product {
  const product = fixture('product');
  Object.assign(product, {
    id: p.id ?? stripeId('prod', 14),
    active: p.active ?? true,
    created: now,
    updated: now,
    default_price: null,
    description: p.description ?? null,
    images: p.images ?? [],
    marketing_features: (p.marketing_features ?? []).map((f) => ({ name: f.name })),
    metadata: mergeMetadata({}, p.metadata),
    name: p.name,
    package_dimensions: null,
    shippable: null,
    statement_descriptor: p.statement_descriptor ?? null,
    tax_code: p.tax_code ?? null,
    unit_label: p.unit_label ?? null,
    url: p.url ?? null,
    type: 'service',
  } satisfies Partial<Stripe.Product>);
  return product;
}

export function priceObject(now: number, p: Stripe.PriceCreateParams, productId: string): Stripe.Price {
  const price = fixture('price');
  const unit = p.unit_amount_decimal !== undefined ? String(p.unit_amount_decimal) : p.unit_amount !== undefined ? String(p.unit_amount) : null;
  Object.assign(price, {
    id: stripeId('price', 24),
    active: p.active ?? true,
    billing_scheme: p.billing_scheme ?? 'per_unit',
    created: now,
    currency: p.currency.toLowerCase(),
    custom_unit_amount: null,
    lookup_key: p.lookup_key ?? null,
    metadata: mergeMetadata({}, p.metadata),
    nickname: p.nickname ?? null,
    product: productId,
    recurring: p.recurring
      ? {
          interval: p.recurring.interval,
          interval_count: p.recurring.interval_count ?? 1,
          meter: p.recurring.meter ?? null,
          usage_type: p.recurring.usage_type ?? 'licensed',
          trial_period_days: p.recurring.trial_period_days ?? null,
        }
      : null,
    tax_behavior: p.tax_behavior ?? 'unspecified',
    tiers_mode: p.tiers_mode ?? null,
    transform_quantity: p.transform_quantity ? { divide_by: p.transform_quantity.divide_by, round: p.transform_quantity.round } : null,
    type: p.recurring ? 'recurring' : 'one_time',
    unit_amount: unit !== null && Number.isInteger(Number(unit)) ? Number(unit) : null,
    unit_amount_decimal: unit !== null ? decimal(unit) : null,
  } satisfies Partial<Stripe.Price>);
  if (p.tiers) {
    price.tiers = p.tiers.map((t) => ({
      flat_amount: t.flat_amount ?? (t.flat_amount_decimal !== undefined ? Number(t.flat_amount_decimal) : null),
      flat_amount_decimal: t.flat_amount !== undefined ? decimal(t.flat_amount) : t.flat_amount_decimal !== undefined ? decimal(String(t.flat_amount_decimal)) : null,
      unit_amount: t.unit_amount ?? null,
      unit_amount_decimal:
        t.unit_amount !== undefined ? decimal(t.unit_amount) : t.unit_amount_decimal !== undefined ? decimal(String(t.unit_amount_decimal)) : null,
      up_to: t.up_to === 'inf' ? null : t.up_to,
    }));
  }
  return price;
}

/** The legacy `plan` view of a recurring price that subscription items still carry. */
export function planFromPrice(price: Stripe.Price): Stripe.Plan {
  return {
    id: price.id,
    object: 'plan',
    active: price.active,
    amount: price.unit_amount,
    amount_decimal: price.unit_amount_decimal,
    billing_scheme: price.billing_scheme,
    created: price.created,
    currency: price.currency,
    interval: price.recurring?.interval ?? 'month',
    interval_count: price.recurring?.interval_count ?? 1,
    livemode: false,
    metadata: price.metadata,
    meter: price.recurring?.meter ?? null,
    nickname: price.nickname,
    product: price.product,
    tiers_mode: price.tiers_mode,
    transform_usage: price.transform_quantity,
    trial_period_days: price.recurring?.trial_period_days ?? null,
    usage_type: price.recurring?.usage_type ?? 'licensed',
    ...(price.tiers ? { tiers: price.tiers } : {}),
  };
}

export function meterObject(now: number, p: Stripe.Billing.MeterCreateParams): Stripe.Billing.Meter {
  const meter = fixture('billing.meter');
  Object.assign(meter, {
    id: stripeId('mtr_test', 24),
    created: now,
    updated: now,
    livemode: false,
    customer_mapping: {
      event_payload_key: p.customer_mapping?.event_payload_key ?? 'stripe_customer_id',
      type: p.customer_mapping?.type ?? 'by_id',
    },
    default_aggregation: { formula: p.default_aggregation.formula },
    display_name: p.display_name,
    event_name: p.event_name,
    event_time_window: p.event_time_window ?? null,
    status: 'active',
    status_transitions: { deactivated_at: null },
    value_settings: { event_payload_key: p.value_settings?.event_payload_key ?? 'value' },
  } satisfies Partial<Stripe.Billing.Meter>);
  return meter;
}

export interface Period {
  start: number;
  end: number;
}

export function subscriptionItemObject(
  now: number,
  subscriptionId: string,
  price: Stripe.Price,
  quantity: number | undefined,
  metadata: MetadataParam,
  period: Period,
): Stripe.SubscriptionItem {
  const item = fixture('subscription_item');
  Object.assign(item, {
    id: stripeId('si', 14),
    billing_thresholds: null,
    created: now,
    current_period_start: period.start,
    current_period_end: period.end,
    current_trial: null,
    discounts: [],
    metadata: mergeMetadata({}, metadata),
    plan: planFromPrice(price),
    price: structuredClone(price),
    subscription: subscriptionId,
    tax_rates: [],
  } satisfies Partial<Stripe.SubscriptionItem>);
  if (price.recurring?.usage_type === 'metered') delete item.quantity;
  else item.quantity = quantity ?? 1;
  return item;
}

export function subscriptionObject(now: number, customer: string, currency: string): Stripe.Subscription {
  const sub = fixture('subscription');
  const id = stripeId('sub', 24);
  Object.assign(sub, {
    id,
    billing_cycle_anchor: now,
    billing_cycle_anchor_config: null,
    billing_schedules: [],
    billing_thresholds: null,
    cancel_at: null,
    cancel_at_period_end: false,
    canceled_at: null,
    cancellation_details: { comment: null, feedback: null, feedback_option: null, reason: null },
    created: now,
    currency,
    customer,
    default_payment_method: null,
    ended_at: null,
    items: { object: 'list', data: [], has_more: false, url: `/v1/subscription_items?subscription=${id}` },
    latest_invoice: null,
    livemode: false,
    metadata: {},
    next_pending_invoice_item_invoice: null,
    pause_collection: null,
    pending_invoice_item_interval: null,
    pending_setup_intent: null,
    pending_update: null,
    schedule: null,
    start_date: now,
    status: 'incomplete',
    test_clock: null,
    transfer_data: null,
    trial_end: null,
    trial_settings: { end_behavior: { billing_cycle_anchor: null, missing_payment_method: 'create_invoice' } },
    trial_start: null,
  } satisfies Partial<Stripe.Subscription>);
  return sub;
}

export function invoiceObject(now: number, customer: Stripe.Customer, subscription: Stripe.Subscription | null, reason: Stripe.Invoice.BillingReason, period: Period): Stripe.Invoice {
  const inv = fixture('invoice');
  const id = stripeId('in', 24);
  Object.assign(inv, {
    id,
    account_name: null,
    amount_due: 0,
    amount_overpaid: 0,
    amount_paid: 0,
    amount_remaining: 0,
    attempt_count: 0,
    attempted: false,
    auto_advance: true,
    automatically_finalizes_at: null,
    billing_reason: reason,
    collection_method: 'charge_automatically',
    created: now,
    currency: subscription?.currency ?? 'usd',
    customer: customer.id,
    customer_address: customer.address,
    customer_email: customer.email,
    customer_name: customer.name,
    customer_phone: customer.phone,
    customer_shipping: null,
    customer_tax_ids: [],
    default_payment_method: null,
    description: null,
    discounts: [],
    due_date: null,
    effective_at: null,
    ending_balance: null,
    from_invoice: null,
    hosted_invoice_url: null,
    invoice_pdf: null,
    last_finalization_error: null,
    latest_revision: null,
    lines: { object: 'list', data: [], has_more: false, url: `/v1/invoices/${id}/lines` },
    metadata: {},
    next_payment_attempt: null,
    number: null,
    parent: subscription
      ? { type: 'subscription_details', quote_details: null, subscription_details: { metadata: subscription.metadata, subscription: subscription.id } }
      : null,
    period_end: period.end,
    period_start: period.start,
    shipping_cost: null,
    shipping_details: null,
    status: 'draft',
    status_transitions: { finalized_at: null, marked_uncollectible_at: null, paid_at: null, voided_at: null },
    subtotal: 0,
    subtotal_excluding_tax: 0,
    test_clock: null,
    total: 0,
    total_discount_amounts: [],
    total_excluding_tax: 0,
    total_pretax_credit_amounts: [],
    total_taxes: [],
    webhooks_delivered_at: null,
  } satisfies Partial<Stripe.Invoice>);
  return inv;
}

export function lineItemObject(
  invoiceId: string | null,
  subscription: Stripe.Subscription,
  item: Stripe.SubscriptionItem,
  line: { amount: number; quantity: number; period: Period; description: string },
): Stripe.InvoiceLineItem {
  const li = fixture('line_item');
  Object.assign(li, {
    id: stripeId('il', 24),
    amount: line.amount,
    currency: subscription.currency,
    description: line.description,
    discount_amounts: [],
    discounts: [],
    invoice: invoiceId,
    metadata: {},
    parent: {
      type: 'subscription_item_details',
      invoice_item_details: null,
      subscription_item_details: {
        invoice_item: null,
        proration: false,
        proration_details: { credited_items: null },
        subscription: subscription.id,
        subscription_item: item.id,
      },
    },
    period: line.period,
    pretax_credit_amounts: [],
    pricing: {
      type: 'price_details',
      price_details: { price: item.price.id, product: typeof item.price.product === 'string' ? item.price.product : item.price.product.id },
      unit_amount_decimal: item.price.unit_amount_decimal,
    },
    quantity: line.quantity,
    quantity_decimal: decimal(line.quantity),
    subscription: subscription.id,
    subtotal: line.amount,
    taxes: [],
  } satisfies Partial<Stripe.InvoiceLineItem>);
  return li;
}
