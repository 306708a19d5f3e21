/**
 * Billing: the plan (contracts' BILLING_PLANS), usage of this period against each limit as bars, usage per day, a
 * projected invoice, and Stripe: the subscription's state from `GET /api/v1/billing` (its banner, Stripe's upcoming
 * invoice), Upgrade (a Checkout session for a higher self-serve plan) and the customer portal, for those who may
 * manage billing. Without Stripe on this Wharf the buttons are off and say why.
 */
import { BILLING_PLAN_IDS, BILLING_PLANS, type BillingPlan, type BillingPlanId, USAGE_METRICS } from '@wharf/contracts/browser';
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { ErrorPanel } from '../components/error-panel.js';
import { Loading } from '../components/loading.js';
import { DailyColumns, UsageBar } from '../components/usage-bar.js';
import { useApp } from '../context.js';
import { dollars } from '../format.js';
import { useStore } from '../store.js';
import type { Usage } from '../types.js';

/** What `GET /api/v1/billing` answers (contracts' Billing schema), as far as this page reads it. */
interface BillingView {
  plan: BillingPlanId;
  status: 'free' | 'trialing' | 'active' | 'past_due' | 'canceled';
  billingEnabled: boolean;
  trialEndsAt: string | null;
  banner: string | null;
  usage: { limit: string; used: number; allowed: number | null }[];
  upcomingInvoice: { currency: string; total: number; amountDue: number; periodEnd: string | null } | null;
}

/** Self-serve plans above `current`, in the plans' order: what Upgrade may buy. */
const upgradesFrom = (current: BillingPlanId): BillingPlanId[] => BILLING_PLAN_IDS.slice(BILLING_PLAN_IDS.indexOf(current) + 1).filter((id) => BILLING_PLANS[id].selfServe);

/** Upgrade and the customer portal: each asks the API for a Stripe session and sends the browser there. */
function StripeActions(props: { view: BillingView | null; mayManage: boolean }) {
  const { view, mayManage } = props;
  const [busy, setBusy] = useState<string | null>(null);
  const [failed, setFailed] = useState<unknown>(null);
  const go = (what: string, path: string, body: Record<string, unknown>) => {
    setBusy(what);
    setFailed(null);
    api<{ url: string }>('POST', path, body, { idempotent: true })
      .then((session) => window.location.assign(session.url))
      .catch((err) => {
        setBusy(null);
        setFailed(err);
      });
  };
  const here = window.location.href;
  const subscribed = view !== null && (view.status === 'trialing' || view.status === 'active' || view.status === 'past_due');
  const upgrades = view && !subscribed ? upgradesFrom(view.plan) : [];
  const why = !view
    ? 'Reading the subscription…'
    : !view.billingEnabled
      ? 'Billing is not set up on this Wharf (STRIPE_SECRET_KEY): every organization keeps the plan it has.'
      : !mayManage
        ? 'Owners and admins change the plan and the card (billing:manage).'
        : subscribed
          ? 'Change the plan or seats, update the card, see invoices or cancel in the Stripe portal.'
          : upgrades.length === 0
            ? 'No higher self-serve plan: talk to us about Enterprise.'
            : null;
  const off = !view || !view.billingEnabled || !mayManage || busy !== null;
  return (
    <div class="actions">
      {upgrades.map((id) => (
        <button key={id} type="button" class="button primary" disabled={off} aria-describedby={why ? 'billing-why' : undefined} onClick={() => go(id, '/api/v1/billing/checkout', { plan: id, successUrl: here, cancelUrl: here })}>
          {busy === id ? 'Opening Stripe…' : `Upgrade to ${BILLING_PLANS[id].name}`}
        </button>
      ))}
      {subscribed || upgrades.length === 0 ? (
        <button type="button" class="button" disabled={off || !subscribed} aria-describedby={why ? 'billing-why' : undefined} onClick={() => go('portal', '/api/v1/billing/portal', { returnUrl: here })}>
          {busy === 'portal' ? 'Opening Stripe…' : 'Billing portal'}
        </button>
      ) : null}
      {why ? (
        <span id="billing-why" class="small muted">
          {why}
        </span>
      ) : null}
      {failed ? <ErrorPanel error={failed} what="Stripe could not be reached through Wharf" /> : null}
    </div>
  );
}

/** Cents for `used` units past `included` at `unitCents` each. */
const overage = (used: number, included: number | null, unitCents: string | undefined) =>
  included === null || !unitCents ? 0 : Math.max(0, used - included) * Number(unitCents);

export function projectInvoice(plan: BillingPlan, usage: Usage): { lines: { label: string; cents: number }[]; total: number } {
  if (!plan.prices) return { lines: [], total: 0 };
  const scale = usage.period.elapsed > 0 ? 1 / usage.period.elapsed : 1;
  const prices = plan.prices;
  const lines = [
    { label: `${usage.counts.seats} seat${usage.counts.seats === 1 ? '' : 's'} × ${dollars(prices.seat.unitAmount)}`, cents: usage.counts.seats * prices.seat.unitAmount },
    {
      label: USAGE_METRICS.productionEnvironmentHours.displayName,
      cents: overage(usage.usage.productionEnvironmentHours * scale, plan.includedUsage.productionEnvironmentHours, prices.usage.productionEnvironmentHours.unitAmountDecimal),
    },
    {
      label: USAGE_METRICS.previewEnvironmentHours.displayName,
      cents: overage(usage.usage.previewEnvironmentHours * scale, plan.includedUsage.previewEnvironmentHours, prices.usage.previewEnvironmentHours.unitAmountDecimal),
    },
    { label: USAGE_METRICS.deploys.displayName, cents: overage(usage.usage.deploys * scale, plan.includedUsage.deploys, prices.usage.deploys.unitAmountDecimal) },
  ];
  return { lines, total: lines.reduce((n, l) => n + l.cents, 0) };
}

export function BillingPage() {
  const { organization, store, can } = useApp();
  const epoch = useStore(store, (s) => s.epoch);
  const [usage, setUsage] = useState<Usage | null>(null);
  const [view, setView] = useState<BillingView | null>(null);
  const [viewError, setViewError] = useState<unknown>(null);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    api<Usage>('GET', '/dashboard/api/usage').then(setUsage, setError);
    // The subscription is the Stripe part: the page stands without it (limits and usage come from the usage view).
    api<BillingView>('GET', '/api/v1/billing').then(setView, setViewError);
  }, [epoch, attempt]);
  const planId = view?.plan ?? organization.plan;
  const plan: BillingPlan = BILLING_PLANS[(planId in BILLING_PLANS ? planId : 'free') as keyof typeof BILLING_PLANS];
  const agents = view?.usage.find((u) => u.limit === 'agents')?.used ?? null;
  if (error) return <ErrorPanel error={error} retry={() => setAttempt((n) => n + 1)} what="Could not read usage" />;
  if (!usage) return <Loading what="usage" />;
  const projected = projectInvoice(plan, usage);
  const metered = 'Metered every hour and reported to Stripe: it shows on the invoice.';
  return (
    <section aria-labelledby="billing-title">
      <div class="page-head">
        <h1 id="billing-title">Billing</h1>
        <span class="badge">{plan.name} plan</span>
        {view && view.status !== 'free' ? <span class="badge">{view.status.replace('_', ' ')}</span> : null}
      </div>
      {view?.banner ? (
        <p role="status" class="notice">
          {view.banner}
        </p>
      ) : null}
      <p>{plan.description}</p>
      <p class="small muted">
        This period: {usage.period.start.slice(0, 10)} to {usage.period.end.slice(0, 10)} ({Math.round(usage.period.elapsed * 100)}% gone).
      </p>
      <div class="two">
        <section class="panel" aria-labelledby="limits-title">
          <h2 id="limits-title">Limits</h2>
          <UsageBar label="Production environments" used={usage.counts.productionEnvironments} limit={plan.limits.productionEnvironments} />
          <UsageBar label="Preview environments" used={usage.counts.previewEnvironments} limit={plan.limits.previewEnvironments} />
          <UsageBar label="Seats" used={usage.counts.seats} limit={plan.limits.seats} />
          <UsageBar label="Agents" used={agents} limit={plan.limits.agents} note="Registered agents that are not revoked." />
        </section>
        <section class="panel" aria-labelledby="usage-title">
          <h2 id="usage-title">Usage this period</h2>
          <UsageBar label={USAGE_METRICS.deploys.displayName} used={usage.usage.deploys} limit={plan.includedUsage.deploys} note="Included in the plan; rollouts of every environment." />
          <UsageBar
            label={USAGE_METRICS.productionEnvironmentHours.displayName}
            used={usage.usage.productionEnvironmentHours}
            limit={plan.includedUsage.productionEnvironmentHours}
            unit="h"
            note="Estimated from the environments that exist now."
          />
          <UsageBar
            label={USAGE_METRICS.previewEnvironmentHours.displayName}
            used={usage.usage.previewEnvironmentHours}
            limit={plan.includedUsage.previewEnvironmentHours}
            unit="h"
            note="Estimated from the environments that exist now."
          />
          <UsageBar label={USAGE_METRICS.agentHours.displayName} used={null} limit={plan.includedUsage.agentHours} note={metered} />
          <UsageBar label={USAGE_METRICS.runtimeRequests.displayName} used={null} limit={plan.includedUsage.runtimeRequests} note={metered} />
        </section>
      </div>
      <section class="panel" aria-labelledby="days-title">
        <h2 id="days-title">Over the period</h2>
        <DailyColumns days={usage.days} start={usage.period.start} end={usage.period.end} />
      </section>
      <section class="panel" aria-labelledby="invoice-title">
        <h2 id="invoice-title">Projected invoice</h2>
        {plan.prices ? (
          <table>
            <tbody>
              {projected.lines.map((l) => (
                <tr key={l.label}>
                  <th scope="row">{l.label}</th>
                  <td class="num">{dollars(l.cents)}</td>
                </tr>
              ))}
              <tr>
                <th scope="row">Total at this pace</th>
                <td class="num">
                  <strong>{dollars(projected.total)}</strong>
                </td>
              </tr>
            </tbody>
          </table>
        ) : (
          <p>{plan.id === 'free' ? 'Nothing: the Free plan is not billed. Past its included usage, previews pause.' : 'Set by your contract.'}</p>
        )}
        {view?.upcomingInvoice ? (
          <p class="small">
            Stripe's upcoming invoice: <strong>{dollars(view.upcomingInvoice.amountDue)}</strong> due
            {view.upcomingInvoice.periodEnd ? ` at the period's end (${view.upcomingInvoice.periodEnd.slice(0, 10)})` : ''}.
          </p>
        ) : null}
        {viewError ? <ErrorPanel error={viewError} retry={() => setAttempt((n) => n + 1)} what="Could not read the subscription" /> : <StripeActions view={view} mayManage={can('billing:manage')} />}
      </section>
    </section>
  );
}
