/**
 * What Stripe Billing does as time passes, run at the moment each thing falls due: `trial_will_end` three days
 * before a trial ends, the trial's end, renewal at period end (licensed items in advance, metered usage of the
 * ended period in arrears), automatic payment retries, scheduled cancellations, expiry of `incomplete`
 * subscriptions after 23 hours.
 */
import type Stripe from 'stripe';
import type { FakeStripeContext } from './context.js';
import type { Period } from './objects.js';
import {
  addInterval,
  cancelSubscription,
  collect,
  createInvoice,
  customerIdOf,
  finalizeInvoice,
  periodOf,
  recurringOf,
  setStatus,
  subscriptionOf,
} from './subscription-cycle.js';

const DAY = 86_400;
export const TRIAL_WILL_END_NOTICE = 3 * DAY;
/** An `incomplete` subscription whose first invoice is not paid expires after 23 hours. */
export const INCOMPLETE_EXPIRES_AFTER = 23 * 60 * 60;

function renew(ctx: FakeStripeContext, sub: Stripe.Subscription, fromTrial: boolean): void {
  const ended = periodOf(sub);
  if (fromTrial) {
    // The trial may end early (`trial_end=now`): the new period starts now and anchors the cycle.
    ended.end = ctx.clock.now();
    sub.billing_cycle_anchor = ended.end;
    sub.trial_end = ended.end;
  }
  const r = recurringOf(sub);
  const next: Period = { start: ended.end, end: addInterval(ended.end, r.interval, r.interval_count, sub.billing_cycle_anchor) };
  for (const item of sub.items.data) Object.assign(item, { current_period_start: next.start, current_period_end: next.end });
  if (fromTrial) setStatus(ctx, sub, 'active', null);
  const invoice = createInvoice(ctx, sub, 'subscription_cycle', { licensed: next, ...(fromTrial ? {} : { usage: ended }) }, null);
  finalizeInvoice(ctx, invoice, null);
  collect(ctx, invoice, null);
}

/** `trial_end=now`, or the trial's end arriving. */
export function endTrial(ctx: FakeStripeContext, sub: Stripe.Subscription): void {
  const hasCard = ctx.state.cards.has(customerIdOf(sub.customer));
  const behavior = sub.trial_settings?.end_behavior.missing_payment_method ?? 'create_invoice';
  if (!hasCard && behavior === 'cancel') {
    cancelSubscription(ctx, sub, null, { reason: null });
    return;
  }
  if (!hasCard && behavior === 'pause') {
    setStatus(ctx, sub, 'paused', null);
    ctx.emit('customer.subscription.paused', sub, { request: null });
    return;
  }
  renew(ctx, sub, true);
}

/** The next moment something is due for this subscription, and what. */
function nextDue(ctx: FakeStripeContext, sub: Stripe.Subscription): { at: number; run: () => void } | null {
  const candidates: { at: number; run: () => void }[] = [];
  if (sub.status === 'incomplete') {
    candidates.push({
      at: sub.created + INCOMPLETE_EXPIRES_AFTER,
      run: () => {
        for (const invoice of ctx.state.invoices.values()) {
          if (invoice.status === 'open' && subscriptionOf(ctx, invoice)?.id === sub.id) {
            Object.assign(invoice, { status: 'void', status_transitions: { ...invoice.status_transitions, voided_at: ctx.clock.now() } });
            ctx.emit('invoice.voided', invoice, { request: null });
          }
        }
        sub.ended_at = ctx.clock.now();
        setStatus(ctx, sub, 'incomplete_expired', null);
      },
    });
  }
  if (sub.status === 'trialing' && sub.trial_end) {
    const trialEnd = sub.trial_end;
    if (!ctx.state.trialWillEndSent.has(sub.id) && trialEnd - TRIAL_WILL_END_NOTICE > (sub.trial_start ?? 0)) {
      candidates.push({
        at: trialEnd - TRIAL_WILL_END_NOTICE,
        run: () => {
          ctx.state.trialWillEndSent.add(sub.id);
          ctx.emit('customer.subscription.trial_will_end', sub, { request: null });
        },
      });
    }
    candidates.push({ at: trialEnd, run: () => endTrial(ctx, sub) });
  }
  if (sub.status === 'active' || sub.status === 'past_due' || sub.status === 'unpaid') {
    const end = periodOf(sub).end;
    if (sub.cancel_at !== null && sub.cancel_at < end) {
      candidates.push({ at: sub.cancel_at, run: () => cancelSubscription(ctx, sub, null, { reason: 'cancellation_requested', invoiceUsage: true }) });
    } else if (sub.cancel_at_period_end || sub.cancel_at === end) {
      candidates.push({ at: end, run: () => cancelSubscription(ctx, sub, null, { reason: 'cancellation_requested', invoiceUsage: true }) });
    } else {
      candidates.push({ at: end, run: () => renew(ctx, sub, false) });
    }
  }
  for (const invoice of ctx.state.invoices.values()) {
    if (invoice.status === 'open' && invoice.next_payment_attempt !== null && subscriptionOf(ctx, invoice)?.id === sub.id) {
      candidates.push({ at: invoice.next_payment_attempt, run: () => void collect(ctx, invoice, null) });
    }
  }
  candidates.sort((a, b) => a.at - b.at);
  return candidates[0] ?? null;
}

export const ADVANCE_LIMIT_STEPS = 10_000;

/**
 * Moves the fake's clock forward by `seconds`, running everything that falls due on the way at the moment it
 * falls due (so events carry those timestamps): trial notices and ends, renewals, retries, cancellations.
 */
export function advanceTime(ctx: FakeStripeContext, seconds: number): void {
  const target = ctx.clock.now() + Math.floor(seconds);
  for (let step = 0; step < ADVANCE_LIMIT_STEPS; step++) {
    let due: { at: number; run: () => void } | null = null;
    for (const sub of ctx.state.subscriptions.values()) {
      const d = nextDue(ctx, sub);
      if (d && (!due || d.at < due.at)) due = d;
    }
    if (!due || due.at > target) {
      ctx.clock.advance(target - ctx.clock.now());
      return;
    }
    if (due.at > ctx.clock.now()) ctx.clock.advance(due.at - ctx.clock.now());
    due.run();
  }
  throw new Error(`advanceTime: more than ${ADVANCE_LIMIT_STEPS} billing steps; advance in smaller jumps`);
}
