/**
 * What a Stripe subscription means for Wharf (pure): the plan (from its prices' lookup keys, else the plan Wharf put
 * in its metadata at Checkout) and the status every limit acts on. Stripe's statuses map onto Wharf's five:
 * trialing and active as they are; past_due and unpaid are past_due (the grace period runs); canceled,
 * incomplete_expired and paused end on Free; incomplete (the first payment not made yet) is Free until it is paid.
 */
import { planOfLookupKey, type BillingStatus, isBillingPlanId } from '@wharf/contracts';
import type { billing } from '@wharf/store';
import type Stripe from 'stripe';

const seconds = (s: number | null | undefined): Date | null => (typeof s === 'number' ? new Date(s * 1000) : null);

export function billingStatusOf(stripeStatus: Stripe.Subscription.Status): BillingStatus {
  switch (stripeStatus) {
    case 'trialing':
      return 'trialing';
    case 'active':
      return 'active';
    case 'past_due':
    case 'unpaid':
      return 'past_due';
    case 'canceled':
    case 'incomplete_expired':
      return 'canceled';
    default:
      return 'free';
  }
}

export function planOfSubscription(sub: Stripe.Subscription): string | null {
  for (const item of sub.items.data) {
    const plan = planOfLookupKey(item.price.lookup_key);
    if (plan) return plan;
  }
  const meta = sub.metadata?.wharf_plan;
  return meta && isBillingPlanId(meta) ? meta : null;
}

export function subscriptionState(sub: Stripe.Subscription, now: Date): billing.SubscriptionState {
  const status = billingStatusOf(sub.status);
  const paid = status === 'trialing' || status === 'active' || status === 'past_due';
  const item = sub.items.data[0];
  return {
    subscriptionId: sub.id,
    plan: paid ? (planOfSubscription(sub) ?? 'free') : 'free',
    status,
    stripeStatus: sub.status,
    periodStart: seconds(item?.current_period_start),
    periodEnd: seconds(item?.current_period_end),
    trialEnd: seconds(sub.trial_end),
    cancelAtPeriodEnd: sub.cancel_at_period_end,
    pastDueAt: status === 'past_due' ? now : null,
  };
}

/** The customer id of a Stripe object that names one (as an id or expanded). */
export const customerIdOf = (customer: string | { id: string } | null | undefined): string | null =>
  typeof customer === 'string' ? customer : (customer?.id ?? null);
