/**
 * Billing: the plan (contracts' BILLING_PLANS), usage of this period against each limit as bars, usage per day, and a
 * projected invoice. Stripe (the upgrade and portal buttons, metered usage) lands with billing: until then the
 * buttons say so and unmetered lines are marked.
 */
import { BILLING_PLANS, type BillingPlan, USAGE_METRICS } from '@wharf/contracts/browser';
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { ErrorPanel } from '../components/error-panel.js';
import { Loading } from '../components/loading.js';
import { DailyColumns, UsageBar } from '../components/usage-bar.js';
import { useApp } from '../context.js';
import { dollars } from '../format.js';
import { useStore } from '../store.js';
import type { Usage } from '../types.js';

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
  const { organization, store } = useApp();
  const epoch = useStore(store, (s) => s.epoch);
  const [usage, setUsage] = useState<Usage | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    api<Usage>('GET', '/dashboard/api/usage').then(setUsage, setError);
  }, [epoch, attempt]);
  const plan: BillingPlan = BILLING_PLANS[(organization.plan in BILLING_PLANS ? organization.plan : 'free') as keyof typeof BILLING_PLANS];
  if (error) return <ErrorPanel error={error} retry={() => setAttempt((n) => n + 1)} what="Could not read usage" />;
  if (!usage) return <Loading what="usage" />;
  const projected = projectInvoice(plan, usage);
  const unmetered = 'Not metered yet: billing lands later.';
  return (
    <section aria-labelledby="billing-title">
      <div class="page-head">
        <h1 id="billing-title">Billing</h1>
        <span class="badge">{plan.name} plan</span>
      </div>
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
          <UsageBar label="Agents" used={null} limit={plan.limits.agents} note="Counted once agents register with this control plane." />
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
          <UsageBar label={USAGE_METRICS.agentHours.displayName} used={null} limit={plan.includedUsage.agentHours} note={unmetered} />
          <UsageBar label={USAGE_METRICS.runtimeRequests.displayName} used={null} limit={plan.includedUsage.runtimeRequests} note={unmetered} />
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
        <div class="actions">
          <button type="button" class="button primary" disabled aria-describedby="billing-soon">
            Upgrade
          </button>
          <button type="button" class="button" disabled aria-describedby="billing-soon">
            Billing portal
          </button>
          <span id="billing-soon" class="small muted">
            Upgrading and the Stripe portal arrive with billing.
          </span>
        </div>
      </section>
    </section>
  );
}
