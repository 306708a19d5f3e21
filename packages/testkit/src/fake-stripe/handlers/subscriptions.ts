/**
 * Subscriptions and their items: create, retrieve, update (items, trial end, cancel at period end, metadata),
 * cancel, list, search. Changes take effect without prorations (see subscription-cycle.ts).
 */
import type Stripe from 'stripe';
import { onlyParams, typed, type Handler, type HandlerCall } from '../context.js';
import { stripeErrors } from '../errors.js';
import { listOf, matchesRange, searchResultOf } from '../list.js';
import { mergeMetadata, planFromPrice, subscriptionItemObject } from '../objects.js';
import { amountFor } from '../pricing.js';
import { searchFilter, type SearchSpec } from '../search-query.js';
import {
  cancelSubscription,
  checkItems,
  customerIdOf,
  periodOf,
  requireCustomer,
  requirePrice,
  startSubscription,
  type SubscriptionItemInput,
} from '../subscription-cycle.js';
import { endTrial } from '../advance-time.js';

const DAY = 86_400;

const subscriptionSearch: SearchSpec<Stripe.Subscription> = {
  resource: 'subscriptions',
  fields: { created: (s) => s.created, status: (s) => s.status },
  metadata: (s) => s.metadata,
};

function requireSubscription(call: HandlerCall, id = call.path.id, param = 'id'): Stripe.Subscription {
  const sub = call.ctx.state.subscriptions.get(id);
  if (!sub) throw stripeErrors.resourceMissing('subscription', id, param);
  return sub;
}

/** Emits `customer.subscription.updated` with the top-level fields that changed since `before`. */
function emitUpdated(call: HandlerCall, sub: Stripe.Subscription, before: Stripe.Subscription): void {
  const previous: Record<string, unknown> = {};
  for (const key of Object.keys(sub) as (keyof Stripe.Subscription)[]) {
    if (JSON.stringify(sub[key]) !== JSON.stringify(before[key])) previous[key] = before[key];
  }
  if (Object.keys(previous).length > 0) call.ctx.emit('customer.subscription.updated', sub, { previous, request: call.request });
}

function updateItems(call: HandlerCall, sub: Stripe.Subscription, changes: Stripe.SubscriptionUpdateParams.Item[]): void {
  const now = call.ctx.clock.now();
  const period = periodOf(sub);
  const items = [...sub.items.data];
  changes.forEach((change, i) => {
    const param = `items[${i}]`;
    if (change.price_data) throw stripeErrors.paramNotModelled(call.endpoint, `${param}[price_data]`);
    if (change.id) {
      const at = items.findIndex((x) => x.id === change.id);
      if (at < 0) throw stripeErrors.resourceMissing('subscription_item', change.id, `${param}[id]`);
      if (change.deleted) {
        items.splice(at, 1);
        return;
      }
      const item = items[at];
      if (change.price && change.price !== item.price.id) {
        const price = requirePrice(call.ctx, change.price, `${param}[price]`);
        Object.assign(item, { price: structuredClone(price), plan: planFromPrice(price) });
        if (price.recurring?.usage_type === 'metered') delete item.quantity;
        else item.quantity ??= 1;
      }
      if (change.quantity !== undefined) {
        if (item.price.recurring?.usage_type === 'metered') throw stripeErrors.invalidRequest(`Quantity should not be specified where usage_type is \`metered\`. Remove quantity from \`${param}\`.`, `${param}[quantity]`);
        item.quantity = change.quantity;
      }
      if (change.metadata !== undefined) item.metadata = mergeMetadata(item.metadata, change.metadata);
      return;
    }
    if (!change.price) throw stripeErrors.parameterMissing(`${param}[price]`);
    const price = requirePrice(call.ctx, change.price, `${param}[price]`);
    items.push(subscriptionItemObject(now, sub.id, price, change.quantity, change.metadata ?? undefined, period));
  });
  checkItems(items.map((x) => ({ price: x.price })), 'items');
  const prices = items.map((x) => x.price.id);
  if (new Set(prices).size !== prices.length) throw stripeErrors.parameterInvalid('items', 'Cannot add multiple subscription items with the same price.');
  sub.items.data = items;
}

export const subscriptionHandlers: Record<string, Handler> = {
  'subscriptions.create': typed<Stripe.SubscriptionCreateParams>((call, p) => {
    onlyParams(call, ['customer', 'default_payment_method', 'description', 'items', 'metadata', 'payment_behavior', 'trial_end', 'trial_period_days', 'trial_settings']);
    const { ctx } = call;
    const now = ctx.clock.now();
    if (!p.customer) throw stripeErrors.parameterMissing('customer');
    const customer = requireCustomer(ctx, p.customer);
    const items: SubscriptionItemInput[] = (p.items ?? []).map((i, n) => {
      if (!i.price) throw stripeErrors.paramNotModelled(call.endpoint, `items[${n}][price_data]`);
      return { price: requirePrice(ctx, i.price, `items[${n}][price]`), quantity: i.quantity, metadata: i.metadata };
    });
    checkItems(items, 'items');
    let trialEnd: number | null = null;
    if (p.trial_period_days !== undefined) trialEnd = now + p.trial_period_days * DAY;
    if (typeof p.trial_end === 'number') {
      if (p.trial_end <= now) throw stripeErrors.parameterInvalid('trial_end', 'Invalid timestamp: must be an integer Unix timestamp in the future.');
      trialEnd = p.trial_end;
    }
    const behavior = p.payment_behavior ?? 'allow_incomplete';
    const firstAmount = trialEnd ? 0 : items.reduce((sum, i) => sum + (i.price.recurring?.usage_type === 'metered' ? 0 : amountFor(i.price, i.quantity ?? 1)), 0);
    const card = ctx.state.cards.get(customer.id);
    if (firstAmount > 0 && behavior !== 'default_incomplete') {
      if (!card) {
        throw stripeErrors.invalidRequest('This customer has no attached payment source or default payment method. Please consider adding a default payment method. For more information, visit https://stripe.com/docs/billing/subscriptions/payment-methods-setting#payment-method-priority.');
      }
      if (behavior === 'error_if_incomplete' && card.outcome !== 'succeeds') throw stripeErrors.cardDeclined(card.outcome);
    }
    return startSubscription(
      ctx,
      {
        customer,
        items,
        trialEnd,
        metadata: p.metadata,
        defaultPaymentMethod: p.default_payment_method ?? card?.paymentMethod ?? null,
        missingPaymentMethod: p.trial_settings?.end_behavior.missing_payment_method,
        description: p.description,
        collect: behavior !== 'default_incomplete',
      },
      call.request,
    );
  }),
  'subscriptions.retrieve': (call) => requireSubscription(call),
  'subscriptions.update': typed<Stripe.SubscriptionUpdateParams>((call, p) => {
    onlyParams(call, ['cancel_at', 'cancel_at_period_end', 'cancellation_details', 'default_payment_method', 'description', 'items', 'metadata', 'payment_behavior', 'proration_behavior', 'trial_end']);
    const { ctx } = call;
    const stored = requireSubscription(call);
    if (stored.status === 'canceled' || stored.status === 'incomplete_expired') {
      throw stripeErrors.invalidRequest(`A canceled subscription can only update its cancellation_details and metadata.`);
    }
    // Changes go to a copy, committed only when every parameter checked out: an update is all or nothing.
    const before = structuredClone(stored);
    const sub = structuredClone(stored);
    const commit = () => {
      Object.assign(stored, sub);
      emitUpdated(call, stored, before);
      return stored;
    };
    const now = ctx.clock.now();
    if (p.items) updateItems(call, sub, p.items);
    if (p.metadata !== undefined) sub.metadata = mergeMetadata(sub.metadata, p.metadata);
    if (p.description !== undefined) sub.description = p.description || null;
    if (p.default_payment_method !== undefined) sub.default_payment_method = p.default_payment_method;
    if (p.cancellation_details) {
      sub.cancellation_details = {
        comment: p.cancellation_details.comment === undefined ? (sub.cancellation_details?.comment ?? null) : p.cancellation_details.comment || null,
        feedback: p.cancellation_details.feedback === undefined ? (sub.cancellation_details?.feedback ?? null) : p.cancellation_details.feedback || null,
        feedback_option: null,
        reason: sub.cancellation_details?.reason ?? null,
      };
    }
    if (p.cancel_at_period_end !== undefined) {
      Object.assign(sub, {
        cancel_at_period_end: p.cancel_at_period_end,
        cancel_at: p.cancel_at_period_end ? periodOf(sub).end : null,
        canceled_at: p.cancel_at_period_end ? now : null,
      });
      sub.cancellation_details = { ...(sub.cancellation_details ?? { comment: null, feedback: null, feedback_option: null }), reason: p.cancel_at_period_end ? 'cancellation_requested' : null };
    }
    if (p.cancel_at !== undefined) {
      if (p.cancel_at !== null && p.cancel_at !== '' && typeof p.cancel_at !== 'number') throw stripeErrors.paramNotModelled(call.endpoint, `cancel_at=${p.cancel_at}`);
      const at = typeof p.cancel_at === 'number' ? p.cancel_at : null;
      if (at !== null && at <= now) throw stripeErrors.parameterInvalid('cancel_at', 'Invalid timestamp: must be in the future.');
      Object.assign(sub, { cancel_at: at, canceled_at: at === null ? null : now, cancel_at_period_end: at !== null && at === periodOf(sub).end });
    }
    if (p.trial_end !== undefined) {
      if (sub.status !== 'trialing') throw stripeErrors.paramNotModelled(call.endpoint, 'trial_end on a subscription that is not trialing');
      if (p.trial_end === 'now') {
        endTrial(ctx, commit());
        return stored;
      }
      if (p.trial_end <= now) throw stripeErrors.parameterInvalid('trial_end', 'Invalid timestamp: must be an integer Unix timestamp in the future.');
      sub.trial_end = p.trial_end;
      for (const item of sub.items.data) item.current_period_end = p.trial_end;
      sub.billing_cycle_anchor = p.trial_end;
    }
    return commit();
  }),
  'subscriptions.cancel': typed<Stripe.SubscriptionCancelParams>((call, p) => {
    onlyParams(call, ['cancellation_details', 'invoice_now', 'prorate']);
    const sub = requireSubscription(call);
    if (sub.status === 'canceled') throw stripeErrors.resourceMissing('subscription', sub.id);
    cancelSubscription(call.ctx, sub, call.request, {
      reason: 'cancellation_requested',
      invoiceUsage: p.invoice_now ?? false,
      comment: p.cancellation_details?.comment || null,
      feedback: p.cancellation_details?.feedback || null,
    });
    return sub;
  }),
  'subscriptions.list': typed<Stripe.SubscriptionListParams>((call, p) => {
    onlyParams(call, ['created', 'customer', 'ending_before', 'limit', 'price', 'starting_after', 'status']);
    const status = p.status ?? 'not_canceled';
    const all = [...call.ctx.state.subscriptions.values()].filter(
      (s) =>
        (p.customer === undefined || customerIdOf(s.customer) === p.customer) &&
        (p.price === undefined || s.items.data.some((i) => i.price.id === p.price)) &&
        matchesRange(s.created, p.created) &&
        (status === 'all' ? true : status === 'not_canceled' ? !['canceled', 'incomplete_expired'].includes(s.status) : status === 'ended' ? ['canceled', 'incomplete_expired'].includes(s.status) : s.status === status),
    );
    return listOf(all, p, '/v1/subscriptions', 'subscription');
  }),
  'subscriptions.search': typed<Stripe.SubscriptionSearchParams>((call, p) =>
    searchResultOf([...call.ctx.state.subscriptions.values()].filter(searchFilter(p.query, subscriptionSearch)), p, '/v1/subscriptions/search'),
  ),
  'subscriptionItems.list': typed<Stripe.SubscriptionItemListParams>((call, p) => {
    onlyParams(call, ['ending_before', 'limit', 'starting_after', 'subscription']);
    const sub = requireSubscription(call, p.subscription, 'subscription');
    return listOf([...sub.items.data].reverse(), p, `/v1/subscription_items?subscription=${sub.id}`, 'subscription_item');
  }),
  'subscriptionItems.retrieve': (call) => {
    for (const sub of call.ctx.state.subscriptions.values()) {
      const item = sub.items.data.find((i) => i.id === call.path.id);
      if (item) return item;
    }
    throw stripeErrors.resourceMissing('subscription_item', call.path.id);
  },
};
