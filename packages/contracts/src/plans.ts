/**
 * Wharf's billing plans as data (not to be confused with the reconcile `Plan` of plan/): the one source for quota
 * enforcement, the usage view, the plans table in the docs and the Stripe catalog (catalog sync creates or updates
 * products, prices and meters by these ids, lookup keys and meter event names). Amounts are US cents, per month.
 *
 * Why these numbers (set against the public pricing of Vercel, Render, Railway and Netlify as last known; re-check
 * those figures before launch):
 * - Free works without a card and is enough to try the loop for real: 2 production environments, 3 previews at
 *   once, one agent, and included usage sized to exactly that (2 always-on environments are 2 × 744 h). Over the
 *   included usage a free organization is not billed; previews pause (production never stops for a quota).
 * - Pro is per seat like Vercel Pro and Railway Pro ($20/seat); usage is metered past generous included amounts,
 *   so a small team never sees a usage line. A production environment-hour is $0.01 past the included hours, so
 *   an extra always-on environment costs about $7.44/month, in line with the smallest paid instance on Render
 *   ($7) and Railway's resource pricing. Previews cost half (they idle). Runtime requests are $0.60 per million,
 *   between Cloudflare Workers ($0.30/M) and Vercel's edge requests ($2/M). Agents run on the customer's own
 *   Proxmox hosts, so an agent-hour only pays for the control plane ($0.005, about $3.72 per agent-month).
 * - Business ($50/seat, between Render's and Netlify's team tiers) adds audit export, 30-day logs, higher limits
 *   and cheaper overage; seats are unlimited.
 * - Enterprise is sales-led: negotiated contract prices set up per customer, so it has no catalog prices here;
 *   limits are unlimited except the API rate tier, which protects the shared control plane.
 * - Trials are 7 days at most (Stripe's trial on the Checkout session); Free needs none and Enterprise pilots are
 *   arranged by sales.
 * - API rate tiers: Free 10 req/s, Pro 100, Business 500, Enterprise 2000, with a burst of twice the rate.
 * - Log retention grows with the plan (1, 14, 30, 365 days), as on Vercel and Render.
 */

export const BILLING_PLAN_IDS = ['free', 'pro', 'business', 'enterprise'] as const;
export type BillingPlanId = (typeof BILLING_PLAN_IDS)[number];

/** The longest trial any plan may offer. */
export const TRIAL_DAYS_MAX = 7;

/** What Wharf meters, each reported to its own Stripe billing meter (sum per hour, per organization). */
export const USAGE_METRICS = {
  productionEnvironmentHours: {
    meterEventName: 'wharf_production_environment_hours',
    displayName: 'Production environment-hours',
    unit: 'environment-hour',
  },
  previewEnvironmentHours: {
    meterEventName: 'wharf_preview_environment_hours',
    displayName: 'Preview environment-hours',
    unit: 'environment-hour',
  },
  deploys: { meterEventName: 'wharf_deploys', displayName: 'Deploys', unit: 'deploy' },
  agentHours: { meterEventName: 'wharf_agent_hours', displayName: 'Agent-hours', unit: 'agent-hour' },
  runtimeRequests: { meterEventName: 'wharf_runtime_requests', displayName: 'Runtime requests', unit: 'request' },
} as const;

export type UsageMetric = keyof typeof USAGE_METRICS;
export const USAGE_METRIC_NAMES = Object.keys(USAGE_METRICS) as UsageMetric[];

/** null: no limit. */
export type QuotaLimit = number | null;

export interface BillingPlanLimits {
  /** Preview environments running at once, across the organization. */
  previewEnvironments: QuotaLimit;
  productionEnvironments: QuotaLimit;
  /** Registered agents. */
  agents: QuotaLimit;
  /** API requests per second per organization (token bucket), and the bucket size. */
  apiRate: { requestsPerSecond: number; burst: number };
  logRetentionDays: number;
  auditExport: boolean;
  /** Members of the organization. */
  seats: QuotaLimit;
}

export interface MeteredPrice {
  /** Stripe price `lookup_key`: stable; a new amount moves it to a new price with `transfer_lookup_key`. */
  lookupKey: string;
  /**
   * Cents per unit past the plan's included usage, as Stripe's `unit_amount_decimal` (up to 12 decimals). In
   * Stripe it is a graduated price: a first tier up to `includedUsage[metric]` at 0, then this amount.
   */
  unitAmountDecimal: string;
}

export interface BillingPlanPrices {
  currency: 'usd';
  interval: 'month';
  /** Flat price per seat (licensed, quantity = seats). */
  seat: { lookupKey: string; unitAmount: number };
  usage: Record<UsageMetric, MeteredPrice>;
}

export interface BillingPlan {
  id: BillingPlanId;
  name: string;
  description: string;
  /** Can be bought through Checkout (Free needs nothing; Enterprise goes through sales). */
  selfServe: boolean;
  trialDays: number;
  /** Stripe product id for the plan (custom ids are stable across accounts); null when not sold in Stripe. */
  stripeProductId: string | null;
  limits: BillingPlanLimits;
  /** Usage per month included in the plan (null: unlimited). Past it, paid plans pay `prices.usage`; Free pauses previews. */
  includedUsage: Record<UsageMetric, QuotaLimit>;
  prices: BillingPlanPrices | null;
}

const HOURS_PER_MONTH = 744;

function metered(plan: BillingPlanId, cents: Record<UsageMetric, string>): Record<UsageMetric, MeteredPrice> {
  const out = {} as Record<UsageMetric, MeteredPrice>;
  for (const metric of USAGE_METRIC_NAMES) {
    out[metric] = { lookupKey: `wharf_${plan}_${USAGE_METRICS[metric].meterEventName.replace(/^wharf_/, '')}`, unitAmountDecimal: cents[metric] };
  }
  return out;
}

export const BILLING_PLANS = {
  free: {
    id: 'free',
    name: 'Free',
    description: 'For trying Wharf and personal projects. No card needed.',
    selfServe: false,
    trialDays: 0,
    stripeProductId: null,
    limits: {
      previewEnvironments: 3,
      productionEnvironments: 2,
      agents: 1,
      apiRate: { requestsPerSecond: 10, burst: 20 },
      logRetentionDays: 1,
      auditExport: false,
      seats: 1,
    },
    includedUsage: {
      productionEnvironmentHours: 2 * HOURS_PER_MONTH,
      previewEnvironmentHours: 200,
      deploys: 100,
      agentHours: HOURS_PER_MONTH,
      runtimeRequests: 1_000_000,
    },
    prices: null,
  },
  pro: {
    id: 'pro',
    name: 'Pro',
    description: 'For teams shipping to production, priced per seat with usage past generous included amounts.',
    selfServe: true,
    trialDays: 7,
    stripeProductId: 'wharf_plan_pro',
    limits: {
      previewEnvironments: 20,
      productionEnvironments: 10,
      agents: 3,
      apiRate: { requestsPerSecond: 100, burst: 200 },
      logRetentionDays: 14,
      auditExport: false,
      seats: 20,
    },
    includedUsage: {
      productionEnvironmentHours: 10 * HOURS_PER_MONTH,
      previewEnvironmentHours: 2_000,
      deploys: 3_000,
      agentHours: 3 * HOURS_PER_MONTH,
      runtimeRequests: 10_000_000,
    },
    prices: {
      currency: 'usd',
      interval: 'month',
      seat: { lookupKey: 'wharf_pro_seat_monthly', unitAmount: 2_000 },
      usage: metered('pro', {
        productionEnvironmentHours: '1',
        previewEnvironmentHours: '0.5',
        deploys: '1',
        agentHours: '0.5',
        runtimeRequests: '0.00006',
      }),
    },
  },
  business: {
    id: 'business',
    name: 'Business',
    description: 'For organizations that need audit export, longer log retention and higher limits.',
    selfServe: true,
    trialDays: 7,
    stripeProductId: 'wharf_plan_business',
    limits: {
      previewEnvironments: 100,
      productionEnvironments: 50,
      agents: 20,
      apiRate: { requestsPerSecond: 500, burst: 1_000 },
      logRetentionDays: 30,
      auditExport: true,
      seats: null,
    },
    includedUsage: {
      productionEnvironmentHours: 50 * HOURS_PER_MONTH,
      previewEnvironmentHours: 10_000,
      deploys: 20_000,
      agentHours: 20 * HOURS_PER_MONTH,
      runtimeRequests: 100_000_000,
    },
    prices: {
      currency: 'usd',
      interval: 'month',
      seat: { lookupKey: 'wharf_business_seat_monthly', unitAmount: 5_000 },
      usage: metered('business', {
        productionEnvironmentHours: '0.8',
        previewEnvironmentHours: '0.4',
        deploys: '0.8',
        agentHours: '0.4',
        runtimeRequests: '0.00005',
      }),
    },
  },
  enterprise: {
    id: 'enterprise',
    name: 'Enterprise',
    description: 'Contract pricing, unlimited environments and agents, a year of logs, and support.',
    selfServe: false,
    trialDays: 0,
    stripeProductId: null,
    limits: {
      previewEnvironments: null,
      productionEnvironments: null,
      agents: null,
      apiRate: { requestsPerSecond: 2_000, burst: 4_000 },
      logRetentionDays: 365,
      auditExport: true,
      seats: null,
    },
    includedUsage: {
      productionEnvironmentHours: null,
      previewEnvironmentHours: null,
      deploys: null,
      agentHours: null,
      runtimeRequests: null,
    },
    prices: null,
  },
} as const satisfies Record<BillingPlanId, BillingPlan>;

export const isBillingPlanId = (value: string): value is BillingPlanId => (BILLING_PLAN_IDS as readonly string[]).includes(value);

/** Whether `count` more of something fits under `limit` (null: unlimited). */
export const withinQuota = (limit: QuotaLimit, count: number): boolean => limit === null || count <= limit;

/** Every Stripe price lookup key the catalog defines, for sync and for checking they are unique. */
export function billingPriceLookupKeys(): string[] {
  return BILLING_PLAN_IDS.flatMap((id) => {
    const prices: BillingPlanPrices | null = BILLING_PLANS[id].prices;
    return prices ? [prices.seat.lookupKey, ...USAGE_METRIC_NAMES.map((m) => prices.usage[m].lookupKey)] : [];
  });
}

/** The plan an organization is on, by id; anything unknown (an old or hand-edited row) is Free. */
export const billingPlan = (plan: string): BillingPlan => (isBillingPlanId(plan) ? BILLING_PLANS[plan] : BILLING_PLANS.free);

/**
 * Where an organization stands with Stripe, as Wharf acts on it (from the subscription's status):
 * `free` (no subscription), `trialing`, `active`, `past_due` (a payment failed: the grace period runs), `canceled`
 * (the subscription ended: back on Free).
 */
export const BILLING_STATUSES = ['free', 'trialing', 'active', 'past_due', 'canceled'] as const;
export type BillingStatus = (typeof BILLING_STATUSES)[number];

/** Days a past_due organization keeps everything running before its previews pause (WHARF_BILLING_GRACE_DAYS). */
export const BILLING_GRACE_DAYS_DEFAULT = 7;

/**
 * What billing does to an organization now: `ok`; `grace` (past due, inside the grace period: everything runs, the
 * API shows a banner); `previews-paused` (past due beyond it: previews are suspended, data kept). Production is
 * never stopped by billing.
 */
export type DunningPhase = 'ok' | 'grace' | 'previews-paused';

export function dunningPhase(state: { status: BillingStatus; pastDueSince: Date | null }, now: Date, graceDays: number): DunningPhase {
  if (state.status !== 'past_due' || !state.pastDueSince) return 'ok';
  return now.getTime() < graceEndsAt(state.pastDueSince, graceDays).getTime() ? 'grace' : 'previews-paused';
}

export const graceEndsAt = (pastDueSince: Date, graceDays: number): Date => new Date(pastDueSince.getTime() + graceDays * 86_400_000);

/** The plan a Stripe price belongs to, by its lookup key (the seat price or any metered price of the plan). */
export function planOfLookupKey(lookupKey: string | null | undefined): BillingPlanId | null {
  if (!lookupKey) return null;
  for (const id of BILLING_PLAN_IDS) {
    const prices: BillingPlanPrices | null = BILLING_PLANS[id].prices;
    if (prices && (prices.seat.lookupKey === lookupKey || USAGE_METRIC_NAMES.some((m) => prices.usage[m].lookupKey === lookupKey))) return id;
  }
  return null;
}

/** Limits a usage view and quotas count, in the order docs and the CLI show them. */
export const COUNTED_LIMITS = ['previewEnvironments', 'productionEnvironments', 'agents', 'seats'] as const;
export type CountedLimit = (typeof COUNTED_LIMITS)[number];

const cents = (amount: number) => `$${(amount / 100).toFixed(amount % 100 === 0 ? 0 : 2)}`;
const limitText = (limit: QuotaLimit) => (limit === null ? 'unlimited' : String(limit));

/** The plans table of docs/billing.md, rendered from BILLING_PLANS. */
export function renderPlansTable(): string {
  const col = (f: (p: BillingPlan) => string) => BILLING_PLAN_IDS.map((id) => f(BILLING_PLANS[id])).join(' | ');
  const rows: [string, (p: BillingPlan) => string][] = [
    ['price per seat and month', (p) => (p.prices ? cents(p.prices.seat.unitAmount) : p.id === 'free' ? '$0' : 'contract')],
    ['bought through Checkout', (p) => (p.selfServe ? 'yes' : 'no')],
    ['trial', (p) => (p.trialDays > 0 ? `${p.trialDays} days` : '–')],
    ['preview environments at once', (p) => limitText(p.limits.previewEnvironments)],
    ['production environments', (p) => limitText(p.limits.productionEnvironments)],
    ['agents', (p) => limitText(p.limits.agents)],
    ['seats', (p) => limitText(p.limits.seats)],
    ['API rate (requests/s, burst)', (p) => `${p.limits.apiRate.requestsPerSecond}, ${p.limits.apiRate.burst}`],
    ['log retention', (p) => `${p.limits.logRetentionDays} day${p.limits.logRetentionDays === 1 ? '' : 's'}`],
    ['audit export', (p) => (p.limits.auditExport ? 'yes' : 'no')],
  ];
  for (const metric of USAGE_METRIC_NAMES) {
    const { displayName } = USAGE_METRICS[metric];
    rows.push([
      `${displayName}: included per month, then per unit`,
      (p) => {
        const included = p.includedUsage[metric];
        const price: MeteredPrice | undefined = p.prices?.usage[metric];
        return `${included === null ? 'unlimited' : included.toLocaleString('en-US')}${price ? `, then ${price.unitAmountDecimal}¢` : p.id === 'free' ? ', never billed' : ''}`;
      },
    ]);
  }
  const header = `| | ${col((p) => p.name)} |\n| --- | ${BILLING_PLAN_IDS.map(() => '---').join(' | ')} |`;
  return `${header}\n${rows.map(([label, f]) => `| ${label} | ${col(f)} |`).join('\n')}`;
}

/** Previews an organization may run at once: an operator's override (tenants.max_previews) or its plan's (null: no limit). */
export const previewLimit = (plan: string, override: number | null): QuotaLimit => override ?? billingPlan(plan).limits.previewEnvironments;
