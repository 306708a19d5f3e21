/**
 * Billing: what Stripe says about each organization (billing_accounts) and the Stripe events it said it with
 * (stripe_events, stored before they are acknowledged and processed once). The plan itself stays in tenants.plan,
 * which every limit reads; `applySubscription` writes both in one statement. Reads name their organization
 * (TenantScope); the lookups by a Stripe customer id find the organization through that id, as Stripe's events
 * carry nothing else.
 */
import { BILLING_STATUSES, billingPlan, withinQuota } from '@wharf/contracts';
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { int8, Json, parseOne, parseRow, parseRows } from './rows.js';
import type { TenantScope } from './scope.js';

const time = z.union([z.string(), z.date(), z.number()]).transform((v) => new Date(v));

export const BillingAccount = z.object({
  tenant_id: int8,
  stripe_customer_id: z.string(),
  billing_email: z.string().nullable(),
  subscription_id: z.string().nullable(),
  status: z.enum(BILLING_STATUSES),
  stripe_status: z.string().nullable(),
  period_start: time.nullable(),
  period_end: time.nullable(),
  trial_end: time.nullable(),
  cancel_at_period_end: z.boolean(),
  past_due_since: time.nullable(),
  subscription_event_at: int8,
  trial_will_end_at: time.nullable(),
  previews_paused_at: time.nullable(),
});
export type BillingAccount = z.infer<typeof BillingAccount>;

const accountColumns = sql.fragment`tenant_id, stripe_customer_id, billing_email, subscription_id, status, stripe_status, period_start,
  period_end, trial_end, cancel_at_period_end, past_due_since, subscription_event_at, trial_will_end_at, previews_paused_at`;

export async function getBillingAccount(db: CommonQueryMethods, scope: TenantScope): Promise<BillingAccount | null> {
  return db.maybeOne(sql.type(BillingAccount)`SELECT ${accountColumns} FROM billing_accounts WHERE tenant_id = ${scope.tenantId}`).then(parseRow(BillingAccount));
}

/** The organization of a Stripe customer (from a Stripe event: the customer id is all it names). */
export async function findAccountByCustomer(db: CommonQueryMethods, stripeCustomerId: string): Promise<BillingAccount | null> {
  return db
    .maybeOne(sql.type(BillingAccount)`SELECT ${accountColumns} FROM billing_accounts WHERE stripe_customer_id = ${stripeCustomerId}`)
    .then(parseRow(BillingAccount));
}

/**
 * Records the organization's Stripe customer. An organization keeps its first customer: when one is already
 * linked, that row is returned unchanged (two Checkout requests racing make one customer win; the caller uses it).
 */
export async function linkCustomer(db: CommonQueryMethods, scope: TenantScope, input: { stripeCustomerId: string; email: string | null }): Promise<BillingAccount> {
  await db.query(sql.unsafe`
    INSERT INTO billing_accounts (tenant_id, stripe_customer_id, billing_email) VALUES (${scope.tenantId}, ${input.stripeCustomerId}, ${input.email})
    ON CONFLICT (tenant_id) DO NOTHING`);
  return db.one(sql.type(BillingAccount)`SELECT ${accountColumns} FROM billing_accounts WHERE tenant_id = ${scope.tenantId}`).then(parseOne(BillingAccount));
}

export interface SubscriptionState {
  subscriptionId: string;
  plan: string;
  status: BillingAccount['status'];
  stripeStatus: string;
  periodStart: Date | null;
  periodEnd: Date | null;
  trialEnd: Date | null;
  cancelAtPeriodEnd: boolean;
  /** When the state says past_due: since when (kept if already set). */
  pastDueAt: Date | null;
}

export const PlanChange = z.object({ plan_before: z.string(), plan_after: z.string(), status_before: z.string(), status_after: z.string() });
export type PlanChange = z.infer<typeof PlanChange>;

/**
 * Applies a subscription's state if `eventAt` (the Stripe event's `created`) is not older than the newest applied
 * one; returns null when it is (the caller re-fetches the subscription). Writes tenants.plan in the same statement,
 * so every limit moves with it. A subscription other than the linked one only replaces it when it is live (a
 * second, canceled subscription does not undo the first).
 */
export async function applySubscription(db: CommonQueryMethods, scope: TenantScope, state: SubscriptionState, eventAt: number): Promise<PlanChange | null> {
  const live = state.status === 'trialing' || state.status === 'active' || state.status === 'past_due';
  return db.transaction(async (tx) => {
    const before = await tx.maybeOne(sql.type(z.object({ plan: z.string(), status: z.string(), subscription_id: z.string().nullable(), subscription_event_at: int8 }))`
      SELECT t.plan, b.status, b.subscription_id, b.subscription_event_at
      FROM billing_accounts b JOIN tenants t ON t.id = b.tenant_id WHERE b.tenant_id = ${scope.tenantId} FOR UPDATE OF b, t`);
    if (!before) return null;
    const row = z.object({ plan: z.string(), status: z.string(), subscription_id: z.string().nullable(), subscription_event_at: int8 }).parse(before);
    const same = row.subscription_id === state.subscriptionId;
    if (same && row.subscription_event_at > eventAt) return null;
    if (!same && row.subscription_id !== null && !live) return null;
    await tx.query(sql.unsafe`
      UPDATE billing_accounts SET
        subscription_id = ${state.subscriptionId},
        status = ${state.status},
        stripe_status = ${state.stripeStatus},
        period_start = ${state.periodStart?.toISOString() ?? null},
        period_end = ${state.periodEnd?.toISOString() ?? null},
        trial_end = ${state.trialEnd?.toISOString() ?? null},
        cancel_at_period_end = ${state.cancelAtPeriodEnd},
        past_due_since = CASE WHEN ${state.status} = 'past_due' THEN coalesce(past_due_since, ${state.pastDueAt?.toISOString() ?? null}::timestamptz, now()) ELSE NULL END,
        subscription_event_at = ${same ? Math.max(row.subscription_event_at, eventAt) : eventAt},
        updated_at = now()
      WHERE tenant_id = ${scope.tenantId}`);
    if (row.plan !== state.plan) await tx.query(sql.unsafe`UPDATE tenants SET plan = ${state.plan} WHERE id = ${scope.tenantId}`);
    // Paid up again: paused previews resume. A new plan moves the preview quota: previews held by it look again.
    const resumed = await tx.maybeOne(sql.unsafe`
      UPDATE billing_accounts SET previews_paused_at = NULL
      WHERE tenant_id = ${scope.tenantId} AND previews_paused_at IS NOT NULL AND ${state.status} <> 'past_due' RETURNING tenant_id`);
    if (resumed || row.plan !== state.plan) await makePreviewsDue(tx, scope);
    return { plan_before: row.plan, plan_after: state.plan, status_before: row.status, status_after: state.status };
  });
}

/** Every preview of the organization is reconciled again soon (a pause, a resume, a new quota). */
async function makePreviewsDue(db: CommonQueryMethods, scope: TenantScope): Promise<void> {
  await db.query(sql.unsafe`
    UPDATE environments SET next_attempt_at = now()
    WHERE tenant_id = ${scope.tenantId} AND kind = 'preview' AND NOT suspended AND next_attempt_at > now()`);
}

/**
 * Pauses the previews of every organization past due for longer than `graceDays` (once: the pause is recorded), and
 * makes them due so the reconciler stops them. Production is not touched. Returns the organizations paused now.
 */
export async function pausePreviewsPastGrace(db: CommonQueryMethods, graceDays: number): Promise<number[]> {
  return db.transaction(async (tx) => {
    const rows = await tx.any(sql.type(z.object({ tenant_id: int8 }))`
      UPDATE billing_accounts SET previews_paused_at = now(), updated_at = now()
      WHERE status = 'past_due' AND past_due_since IS NOT NULL AND previews_paused_at IS NULL
        AND past_due_since + make_interval(days => ${graceDays}) <= now()
      RETURNING tenant_id`);
    const ids = parseRows(z.object({ tenant_id: int8 }))(rows).map((r) => r.tenant_id);
    for (const tenantId of ids) await makePreviewsDue(tx, { tenantId });
    return ids;
  });
}

export async function setBillingEmail(db: CommonQueryMethods, stripeCustomerId: string, email: string | null): Promise<void> {
  await db.query(sql.unsafe`UPDATE billing_accounts SET billing_email = ${email}, updated_at = now() WHERE stripe_customer_id = ${stripeCustomerId}`);
}

export async function noteTrialWillEnd(db: CommonQueryMethods, scope: TenantScope, trialEnd: Date): Promise<void> {
  await db.query(sql.unsafe`UPDATE billing_accounts SET trial_will_end_at = ${trialEnd.toISOString()}, updated_at = now() WHERE tenant_id = ${scope.tenantId}`);
}

// ---- Stripe events: stored first, processed once ------------------------------------------------------------

export interface StripeEventInput {
  id: string;
  type: string;
  created: number;
  livemode: boolean;
  payload: unknown;
}

/** Stores a verified event; false when its id was stored before (a replay: nothing changes). */
export async function recordStripeEvent(db: CommonQueryMethods, event: StripeEventInput): Promise<boolean> {
  const row = await db.maybeOne(sql.unsafe`
    INSERT INTO stripe_events (id, type, created, livemode, payload)
    VALUES (${event.id}, ${event.type}, ${event.created}, ${event.livemode}, ${sql.jsonb(JSON.parse(JSON.stringify(event.payload)))})
    ON CONFLICT (id) DO NOTHING RETURNING id`);
  return row !== null;
}

export const StripeEventRow = z.object({ id: z.string(), type: z.string(), created: int8, payload: Json, attempts: z.number() });
export type StripeEventRow = z.infer<typeof StripeEventRow>;

/**
 * The next due unprocessed event, locked for this transaction (other workers skip it), oldest Stripe time first.
 * Every tenant's: the worker serves them all.
 */
export async function claimNextStripeEvent(db: CommonQueryMethods): Promise<StripeEventRow | null> {
  return db
    .maybeOne(sql.type(StripeEventRow)`
    SELECT id, type, created, payload, attempts FROM stripe_events
    WHERE processed_at IS NULL AND next_attempt_at <= now()
    ORDER BY created, received_at LIMIT 1 FOR UPDATE SKIP LOCKED`)
    .then(parseRow(StripeEventRow));
}

export type StripeEventOutcome = 'applied' | 'ignored' | 'stale' | 'flagged';

export async function finishStripeEvent(db: CommonQueryMethods, id: string, result: { outcome: StripeEventOutcome; flag?: string | null; tenantId?: number | null }): Promise<void> {
  await db.query(sql.unsafe`
    UPDATE stripe_events SET processed_at = now(), outcome = ${result.outcome}, flag = ${result.flag ?? null}, tenant_id = ${result.tenantId ?? null},
      attempts = attempts + 1, last_error = NULL
    WHERE id = ${id}`);
}

/** A failed attempt: tried again after `delayMs`. */
export async function retryStripeEvent(db: CommonQueryMethods, id: string, error: string, delayMs: number): Promise<void> {
  await db.query(sql.unsafe`
    UPDATE stripe_events SET attempts = attempts + 1, last_error = ${error.slice(0, 2000)},
      next_attempt_at = now() + make_interval(secs => ${delayMs / 1000})
    WHERE id = ${id} AND processed_at IS NULL`);
}

export const StoredStripeEvent = z.object({
  id: z.string(),
  type: z.string(),
  processed: z.boolean(),
  outcome: z.string().nullable(),
  flag: z.string().nullable(),
  tenant_id: int8.nullable(),
  attempts: z.number(),
  last_error: z.string().nullable(),
});
export type StoredStripeEvent = z.infer<typeof StoredStripeEvent>;

/** Stored events, oldest first (operators and tests: what came in and what became of it). */
export async function listStripeEvents(db: CommonQueryMethods, filter: { outcome?: StripeEventOutcome; limit?: number } = {}): Promise<readonly StoredStripeEvent[]> {
  return db
    .any(sql.type(StoredStripeEvent)`
    SELECT id, type, processed_at IS NOT NULL AS processed, outcome, flag, tenant_id, attempts, last_error FROM stripe_events
    ${filter.outcome ? sql.fragment`WHERE outcome = ${filter.outcome}` : sql.fragment``}
    ORDER BY received_at, id LIMIT ${filter.limit ?? 1000}`)
    .then(parseRows(StoredStripeEvent));
}

// ---- Usage against the plan's limits ------------------------------------------------------------------------

export const Usage = z.object({ previewEnvironments: z.number(), productionEnvironments: z.number(), agents: z.number(), seats: z.number() });
export type Usage = z.infer<typeof Usage>;

/**
 * What an organization uses of each counted limit: previews alive at once (a pull request's or a branch's, however
 * many apps it has), production environments, registered (not revoked) agents and members.
 */
export async function countUsage(db: CommonQueryMethods, scope: TenantScope): Promise<Usage> {
  return db.one(sql.type(Usage)`
    SELECT
      (SELECT count(DISTINCT (repository_id, coalesce('pr:' || pr_number, 'env:' || name)))::int FROM environments
        WHERE tenant_id = ${scope.tenantId} AND kind = 'preview' AND deletion_requested_at IS NULL) AS "previewEnvironments",
      (SELECT count(*)::int FROM environments
        WHERE tenant_id = ${scope.tenantId} AND kind = 'production' AND deletion_requested_at IS NULL) AS "productionEnvironments",
      (SELECT count(*)::int FROM agents WHERE tenant_id = ${scope.tenantId} AND revoked_at IS NULL) AS agents,
      (SELECT count(*)::int FROM memberships WHERE tenant_id = ${scope.tenantId}) AS seats`);
}

/** Registered (not revoked) agents. */
export async function countAgents(db: CommonQueryMethods, scope: TenantScope): Promise<number> {
  return db.oneFirst(sql.type(z.object({ n: z.number() }))`SELECT count(*)::int AS n FROM agents WHERE tenant_id = ${scope.tenantId} AND revoked_at IS NULL`);
}

export const TenantBilling = z.object({ plan: z.string(), status: z.enum(BILLING_STATUSES), past_due_since: time.nullable(), previews_paused: z.boolean() });
export type TenantBilling = z.infer<typeof TenantBilling>;

/** The plan and billing state every limit reads (Free and `free` for an organization without a Stripe customer). */
export async function getTenantBilling(db: CommonQueryMethods, scope: TenantScope): Promise<TenantBilling | null> {
  return db
    .maybeOne(sql.type(TenantBilling)`
    SELECT t.plan, coalesce(b.status, 'free') AS status, b.past_due_since, b.previews_paused_at IS NOT NULL AS previews_paused
    FROM tenants t LEFT JOIN billing_accounts b ON b.tenant_id = t.id WHERE t.id = ${scope.tenantId}`)
    .then(parseRow(TenantBilling));
}

export interface AgentQuota {
  allowed: boolean;
  used: number;
  /** The plan's limit on registered agents; null: none. */
  limit: number | null;
  plan: string;
}

/**
 * Whether one more agent may register for the organization (its plan's `agents` limit). Call it inside the
 * transaction that registers the agent: it locks the organization's row, so two registrations at once cannot both
 * take the last slot.
 */
export async function agentQuota(db: CommonQueryMethods, scope: TenantScope): Promise<AgentQuota> {
  const plan = await db.maybeOneFirst(sql.type(z.object({ plan: z.string() }))`SELECT plan FROM tenants WHERE id = ${scope.tenantId} FOR UPDATE`);
  const name = typeof plan === 'string' ? plan : 'free';
  const limit = billingPlan(name).limits.agents;
  const used = await countAgents(db, scope);
  return { allowed: withinQuota(limit, used + 1), used, limit, plan: name };
}

export const canRegisterAgent = async (db: CommonQueryMethods, scope: TenantScope): Promise<boolean> => (await agentQuota(db, scope)).allowed;

export const OrganizationRef = z.object({ id: int8, slug: z.string(), name: z.string(), plan: z.string(), kind: z.string() });
export type OrganizationRef = z.infer<typeof OrganizationRef>;

/**
 * Every organization, by slug: only the operator's CLI reads it (`wharf billing status` on the database it is given
 * picks the organization with --org, or the only one there is).
 */
export async function listOrganizationsOfEveryTenant(db: CommonQueryMethods, limit = 1000): Promise<readonly OrganizationRef[]> {
  return db.any(sql.type(OrganizationRef)`SELECT id, slug, name, plan, kind FROM tenants ORDER BY slug LIMIT ${limit}`).then(parseRows(OrganizationRef));
}
