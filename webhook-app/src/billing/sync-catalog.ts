/**
 * `wharf billing sync-catalog`: makes Stripe's catalog say what contracts' BILLING_PLANS says, idempotently.
 * - Billing meters, one per usage metric, by event name (sum per customer): created, renamed, or reactivated.
 * - Products, one per sold plan, by their fixed id: created or updated (name, description, metadata).
 * - Prices by lookup key: the seat price (licensed, per month) and one graduated metered price per metric (first
 *   tier up to the included usage at 0, then the plan's amount), backed by the metric's meter. Stripe prices cannot
 *   change their amounts: a price that differs from the plan is replaced by a new one that takes over the lookup key
 *   (`transfer_lookup_key`), and the old one is archived (subscriptions on it keep it until changed).
 * Running it twice changes nothing the second time.
 */
import { BILLING_PLAN_IDS, BILLING_PLANS, USAGE_METRIC_NAMES, USAGE_METRICS, type BillingPlan, type BillingPlanPrices, type UsageMetric } from '@wharf/contracts';
import Stripe from 'stripe';

export interface CatalogSyncReport {
  created: string[];
  updated: string[];
  unchanged: string[];
}

type MeterId = string;

async function syncMeterIds(stripe: Stripe, report: CatalogSyncReport): Promise<Map<UsageMetric, MeterId>> {
  const byEvent = new Map<string, Stripe.Billing.Meter>();
  for await (const m of stripe.billing.meters.list({ limit: 100 })) {
    const seen = byEvent.get(m.event_name);
    if (!seen || (seen.status !== 'active' && m.status === 'active')) byEvent.set(m.event_name, m);
  }
  const ids = new Map<UsageMetric, MeterId>();
  for (const metric of USAGE_METRIC_NAMES) {
    const { meterEventName, displayName } = USAGE_METRICS[metric];
    const name = `meter ${meterEventName}`;
    let meter = byEvent.get(meterEventName);
    if (!meter) {
      meter = await stripe.billing.meters.create({
        display_name: displayName,
        event_name: meterEventName,
        default_aggregation: { formula: 'sum' },
        customer_mapping: { event_payload_key: 'stripe_customer_id', type: 'by_id' },
        value_settings: { event_payload_key: 'value' },
      });
      report.created.push(name);
    } else {
      let changed = false;
      if (meter.status !== 'active') {
        meter = await stripe.billing.meters.reactivate(meter.id);
        changed = true;
      }
      if (meter.display_name !== displayName) {
        meter = await stripe.billing.meters.update(meter.id, { display_name: displayName });
        changed = true;
      }
      (changed ? report.updated : report.unchanged).push(name);
    }
    ids.set(metric, meter.id);
  }
  return ids;
}

async function syncProduct(stripe: Stripe, plan: BillingPlan & { stripeProductId: string }, report: CatalogSyncReport): Promise<string> {
  const wanted = { name: `Wharf ${plan.name}`, description: plan.description, metadata: { wharf_plan: plan.id } };
  const name = `product ${plan.stripeProductId}`;
  let product: Stripe.Product | null = null;
  try {
    product = await stripe.products.retrieve(plan.stripeProductId);
  } catch (err) {
    if (!(err instanceof Stripe.errors.StripeInvalidRequestError && err.statusCode === 404)) throw err;
  }
  if (!product) {
    await stripe.products.create({ id: plan.stripeProductId, ...wanted });
    report.created.push(name);
  } else if (product.name !== wanted.name || product.description !== wanted.description || product.metadata.wharf_plan !== plan.id || !product.active) {
    await stripe.products.update(plan.stripeProductId, { ...wanted, active: true });
    report.updated.push(name);
  } else {
    report.unchanged.push(name);
  }
  return plan.stripeProductId;
}

type PriceSpec = Stripe.PriceCreateParams & { lookup_key: string };

function priceSpecs(plan: BillingPlan, prices: BillingPlanPrices, productId: string, meters: Map<UsageMetric, MeterId>): PriceSpec[] {
  const specs: PriceSpec[] = [
    {
      product: productId,
      currency: prices.currency,
      unit_amount: prices.seat.unitAmount,
      recurring: { interval: prices.interval, usage_type: 'licensed' },
      lookup_key: prices.seat.lookupKey,
      nickname: `${plan.name} seat`,
      metadata: { wharf_plan: plan.id, wharf_price: 'seat' },
    },
  ];
  for (const metric of USAGE_METRIC_NAMES) {
    const usage = prices.usage[metric];
    const included = plan.includedUsage[metric];
    specs.push({
      product: productId,
      currency: prices.currency,
      billing_scheme: 'tiered',
      tiers_mode: 'graduated',
      tiers:
        included === null
          ? [{ up_to: 'inf', unit_amount: 0 }]
          : [
              { up_to: included, unit_amount: 0 },
              { up_to: 'inf', unit_amount_decimal: Stripe.Decimal.from(usage.unitAmountDecimal) },
            ],
      recurring: { interval: prices.interval, usage_type: 'metered', meter: meters.get(metric) as string },
      lookup_key: usage.lookupKey,
      nickname: `${plan.name} ${USAGE_METRICS[metric].displayName}`,
      metadata: { wharf_plan: plan.id, wharf_price: metric },
    });
  }
  return specs;
}

/** Whether an existing price charges what the spec says (amounts, tiers, interval, meter, product). */
export function priceMatches(price: Stripe.Price, spec: PriceSpec): boolean {
  const product = typeof price.product === 'string' ? price.product : price.product.id;
  if (product !== spec.product || price.currency !== spec.currency || !price.active) return false;
  if (price.recurring?.interval !== spec.recurring?.interval || price.recurring?.usage_type !== (spec.recurring?.usage_type ?? 'licensed')) return false;
  if ((price.recurring?.meter ?? undefined) !== spec.recurring?.meter) return false;
  if (spec.unit_amount !== undefined) return price.billing_scheme === 'per_unit' && price.unit_amount === spec.unit_amount;
  const want = spec.tiers ?? [];
  const have = price.tiers ?? [];
  return (
    price.billing_scheme === 'tiered' &&
    price.tiers_mode === spec.tiers_mode &&
    have.length === want.length &&
    want.every((w, i) => {
      const h = have[i];
      const upTo = w.up_to === 'inf' ? null : w.up_to;
      const amount = w.unit_amount_decimal !== undefined ? String(w.unit_amount_decimal) : String(w.unit_amount ?? 0);
      const hAmount = h?.unit_amount_decimal !== undefined && h.unit_amount_decimal !== null ? String(h.unit_amount_decimal) : String(h?.unit_amount ?? 0);
      return h !== undefined && h.up_to === upTo && Number(hAmount) === Number(amount);
    })
  );
}

/** Only the billing meters (one per usage metric), as syncCatalog makes them: what metering needs to send events. */
export async function syncMeters(stripe: Stripe): Promise<CatalogSyncReport> {
  const report: CatalogSyncReport = { created: [], updated: [], unchanged: [] };
  await syncMeterIds(stripe, report);
  return report;
}

export async function syncCatalog(stripe: Stripe): Promise<CatalogSyncReport> {
  const report: CatalogSyncReport = { created: [], updated: [], unchanged: [] };
  const meters = await syncMeterIds(stripe, report);
  for (const id of BILLING_PLAN_IDS) {
    const plan: BillingPlan = BILLING_PLANS[id];
    if (!plan.prices || !plan.stripeProductId) continue;
    const productId = await syncProduct(stripe, { ...plan, stripeProductId: plan.stripeProductId }, report);
    const specs = priceSpecs(plan, plan.prices, productId, meters);
    const existing = new Map<string, Stripe.Price>();
    for (let i = 0; i < specs.length; i += 10) {
      const page = await stripe.prices.list({ lookup_keys: specs.slice(i, i + 10).map((s) => s.lookup_key), limit: 100 });
      for (const p of page.data) {
        // Stripe leaves a tiered price's tiers out of lists unless expanded; read them where they are missing.
        const full = p.billing_scheme === 'tiered' && !p.tiers ? await stripe.prices.retrieve(p.id, { expand: ['tiers'] }) : p;
        if (full.lookup_key) existing.set(full.lookup_key, full);
      }
    }
    for (const spec of specs) {
      const name = `price ${spec.lookup_key}`;
      const current = existing.get(spec.lookup_key);
      if (current && priceMatches(current, spec)) {
        report.unchanged.push(name);
        continue;
      }
      await stripe.prices.create({ ...spec, ...(current ? { transfer_lookup_key: true } : {}) });
      if (current) {
        await stripe.prices.update(current.id, { active: false });
        report.updated.push(name);
      } else {
        report.created.push(name);
      }
    }
  }
  return report;
}
