/**
 * What one stored Stripe event does, run once by the worker inside the transaction that marks it processed.
 *
 * Out of order: a subscription's state is applied only when the event is newer (Stripe's `created`) than the newest
 * one applied to that subscription; an event that is older, or of the same second (Stripe sends several in one
 * second, in any order), makes the worker re-fetch the subscription and apply what Stripe says now. Invoice events
 * always re-fetch it: an invoice says a payment happened, the subscription says what follows from it.
 * An event for a customer Wharf does not know is flagged (kept for a person to look at) and logged; nothing crashes.
 */
import { AUDIT_ACTIONS } from '@wharf/contracts';
import { audit, billing, type CommonQueryMethods } from '@wharf/store';
import type { Logger } from 'pino';
import type Stripe from 'stripe';
import { customerIdOf, subscriptionState } from './subscription-state.js';

export const HANDLED_EVENT_TYPES = [
  'checkout.session.completed',
  'customer.subscription.created',
  'customer.subscription.updated',
  'customer.subscription.deleted',
  'customer.subscription.trial_will_end',
  'invoice.paid',
  'invoice.payment_failed',
  'invoice.finalized',
  'customer.updated',
] as const;
export type HandledEventType = (typeof HANDLED_EVENT_TYPES)[number];
const HANDLED: ReadonlySet<string> = new Set(HANDLED_EVENT_TYPES);

export interface ProcessDeps {
  stripe: Stripe;
  log: Logger;
  now: () => Date;
}

export type Outcome = { outcome: billing.StripeEventOutcome; flag?: string; tenantId?: number };

const subscriptionIdOfInvoice = (invoice: Stripe.Invoice): string | null => {
  const ref = invoice.parent?.subscription_details?.subscription;
  return typeof ref === 'string' ? ref : (ref?.id ?? null);
};

export async function processStripeEvent(tx: CommonQueryMethods, event: Stripe.Event, deps: ProcessDeps): Promise<Outcome> {
  if (!HANDLED.has(event.type)) return { outcome: 'ignored' };
  const log = deps.log.child({ stripeEvent: event.id, type: event.type });
  switch (event.type) {
    case 'checkout.session.completed': {
      const session = event.data.object;
      const customerId = customerIdOf(session.customer);
      const account = customerId ? await billing.findAccountByCustomer(tx, customerId) : null;
      if (!account) return flag(log, 'checkout session of a customer Wharf did not create', customerId);
      if (session.client_reference_id !== String(account.tenant_id)) {
        return flag(log, 'checkout session names another organization than its customer', customerId, account.tenant_id);
      }
      const subscriptionId = typeof session.subscription === 'string' ? session.subscription : (session.subscription?.id ?? null);
      if (!subscriptionId) return { outcome: 'ignored', tenantId: account.tenant_id };
      return refetchAndApply(tx, account, subscriptionId, event, deps, log);
    }
    case 'customer.subscription.created':
    case 'customer.subscription.updated':
    case 'customer.subscription.deleted': {
      const sub = event.data.object;
      const account = await accountOf(tx, sub.customer);
      if (!account) return flag(log, 'subscription of a customer Wharf does not know', customerIdOf(sub.customer));
      const inDoubt = account.subscription_id === sub.id && event.created <= account.subscription_event_at;
      if (inDoubt) return refetchAndApply(tx, account, sub.id, event, deps, log);
      const change = await billing.applySubscription(tx, { tenantId: account.tenant_id }, subscriptionState(sub, deps.now()), event.created);
      if (!change) return refetchAndApply(tx, account, sub.id, event, deps, log);
      await auditChange(tx, account.tenant_id, event, change);
      return { outcome: 'applied', tenantId: account.tenant_id };
    }
    case 'customer.subscription.trial_will_end': {
      const sub = event.data.object;
      const account = await accountOf(tx, sub.customer);
      if (!account) return flag(log, 'subscription of a customer Wharf does not know', customerIdOf(sub.customer));
      if (sub.trial_end) await billing.noteTrialWillEnd(tx, { tenantId: account.tenant_id }, new Date(sub.trial_end * 1000));
      return { outcome: 'applied', tenantId: account.tenant_id };
    }
    case 'invoice.paid':
    case 'invoice.payment_failed':
    case 'invoice.finalized': {
      const invoice = event.data.object;
      const account = await accountOf(tx, invoice.customer);
      if (!account) return flag(log, 'invoice of a customer Wharf does not know', customerIdOf(invoice.customer));
      const subscriptionId = subscriptionIdOfInvoice(invoice);
      if (!subscriptionId) return { outcome: 'ignored', tenantId: account.tenant_id };
      return refetchAndApply(tx, account, subscriptionId, event, deps, log);
    }
    case 'customer.updated': {
      const customer = event.data.object;
      const account = await billing.findAccountByCustomer(tx, customer.id);
      if (!account) return flag(log, 'customer Wharf does not know', customer.id);
      await billing.setBillingEmail(tx, customer.id, customer.email ?? null);
      return { outcome: 'applied', tenantId: account.tenant_id };
    }
    default:
      return { outcome: 'ignored' };
  }
}

async function accountOf(tx: CommonQueryMethods, customer: string | Stripe.Customer | Stripe.DeletedCustomer | null): Promise<billing.BillingAccount | null> {
  const id = customerIdOf(customer);
  return id ? billing.findAccountByCustomer(tx, id) : null;
}

function flag(log: Logger, why: string, customerId: string | null, tenantId?: number): Outcome {
  log.warn({ customer: customerId, tenantId }, 'stripe event flagged');
  return { outcome: 'flagged', flag: `${why}${customerId ? ` (${customerId})` : ''}`, ...(tenantId !== undefined ? { tenantId } : {}) };
}

/** Asks Stripe for the subscription as it is now and applies that (at the newest time applied so far, or the event's). */
async function refetchAndApply(
  tx: CommonQueryMethods,
  account: billing.BillingAccount,
  subscriptionId: string,
  event: Stripe.Event,
  deps: ProcessDeps,
  log: Logger,
): Promise<Outcome> {
  const sub = await deps.stripe.subscriptions.retrieve(subscriptionId);
  if (customerIdOf(sub.customer) !== account.stripe_customer_id) return flag(log, 'subscription belongs to another customer', customerIdOf(sub.customer), account.tenant_id);
  const at = Math.max(event.created, account.subscription_id === sub.id ? account.subscription_event_at : 0);
  const change = await billing.applySubscription(tx, { tenantId: account.tenant_id }, subscriptionState(sub, deps.now()), at);
  if (!change) return { outcome: 'stale', tenantId: account.tenant_id };
  await auditChange(tx, account.tenant_id, event, change);
  return { outcome: 'applied', tenantId: account.tenant_id };
}

async function auditChange(tx: CommonQueryMethods, tenantId: number, event: Stripe.Event, change: billing.PlanChange): Promise<void> {
  if (change.plan_before === change.plan_after && change.status_before === change.status_after) return;
  await audit.recordAudit(tx, [
    {
      tenantId,
      actor: 'system:stripe',
      actorKind: 'system',
      action: AUDIT_ACTIONS.billingChange,
      subject: `organization:${tenantId}`,
      reason: `Stripe ${event.type} (${event.id})`,
      before: { plan: change.plan_before, status: change.status_before },
      after: { plan: change.plan_after, status: change.status_after },
    },
  ]);
}
