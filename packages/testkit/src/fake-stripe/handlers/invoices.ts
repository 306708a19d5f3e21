/**
 * Invoices: the preview of the next one (`create_preview`: usage so far plus the next period's licensed items,
 * with optional item changes), retrieve, list, search, and the life cycle calls finalize, pay, void, delete.
 */
import type Stripe from 'stripe';
import { onlyParams, typed, type Handler, type HandlerCall } from '../context.js';
import { stripeErrors } from '../errors.js';
import { listOf, matchesRange, searchResultOf } from '../list.js';
import { invoiceObject, mergeMetadata, planFromPrice, subscriptionItemObject } from '../objects.js';
import { searchFilter, type SearchSpec } from '../search-query.js';
import { addInterval, collect, createInvoice, customerIdOf, finalizeInvoice, markPaid, periodOf, requireCustomer, requirePrice } from '../subscription-cycle.js';

const subscriptionIdOf = (i: Stripe.Invoice) => {
  const ref = i.parent?.subscription_details?.subscription;
  return ref ? (typeof ref === 'string' ? ref : ref.id) : null;
};

const invoiceSearch: SearchSpec<Stripe.Invoice> = {
  resource: 'invoices',
  fields: {
    created: (i) => i.created,
    currency: (i) => i.currency,
    customer: (i) => (i.customer ? customerIdOf(i.customer) : null),
    number: (i) => i.number,
    status: (i) => i.status,
    subscription: subscriptionIdOf,
    total: (i) => i.total,
  },
  metadata: (i) => i.metadata ?? {},
};

function requireInvoice(call: HandlerCall): Stripe.Invoice {
  const invoice = call.ctx.state.invoices.get(call.path.id);
  if (!invoice) throw stripeErrors.resourceMissing('invoice', call.path.id, 'invoice');
  return invoice;
}

const noUpcoming = (customer: string) => stripeErrors.invalidRequest(`No upcoming invoices for customer: ${customer}`, undefined, 'invoice_upcoming_none');

export const invoiceHandlers: Record<string, Handler> = {
  'invoices.createPreview': typed<Stripe.InvoiceCreatePreviewParams>((call, p) => {
    onlyParams(call, ['customer', 'subscription', 'subscription_details']);
    const { ctx } = call;
    const sd = p.subscription_details;
    if (sd) {
      for (const key of Object.keys(sd)) if (!['items', 'cancel_at_period_end', 'proration_behavior'].includes(key)) throw stripeErrors.paramNotModelled(call.endpoint, `subscription_details[${key}]`);
    }
    let sub: Stripe.Subscription | undefined;
    if (p.subscription) {
      sub = ctx.state.subscriptions.get(p.subscription);
      if (!sub) throw stripeErrors.resourceMissing('subscription', p.subscription, 'subscription');
    } else {
      if (!p.customer) throw stripeErrors.parameterMissing('customer');
      requireCustomer(ctx, p.customer);
      const live = [...ctx.state.subscriptions.values()].filter((s) => customerIdOf(s.customer) === p.customer && !['canceled', 'incomplete_expired'].includes(s.status));
      if (live.length !== 1) throw noUpcoming(p.customer);
      sub = live[0];
    }
    const customer = customerIdOf(sub.customer);
    if (p.customer && p.customer !== customer) throw stripeErrors.parameterInvalid('customer', `The subscription ${sub.id} does not belong to customer ${p.customer}.`);
    if (sub.status === 'canceled' || sub.status === 'incomplete_expired' || ((sd?.cancel_at_period_end ?? sub.cancel_at_period_end) && !sub.items.data.some((i) => i.price.recurring?.usage_type === 'metered'))) {
      throw noUpcoming(customer);
    }
    const now = ctx.clock.now();
    const current = periodOf(sub);
    let items = sub.items.data;
    if (sd?.items) {
      items = structuredClone(sub.items.data);
      sd.items.forEach((change, i) => {
        if (change.id) {
          const at = items.findIndex((x) => x.id === change.id);
          if (at < 0) throw stripeErrors.resourceMissing('subscription_item', change.id, `subscription_details[items][${i}][id]`);
          if (change.deleted) items.splice(at, 1);
          else if (change.price) {
            const price = requirePrice(ctx, change.price, `subscription_details[items][${i}][price]`);
            Object.assign(items[at], { price, plan: planFromPrice(price), ...(change.quantity !== undefined ? { quantity: change.quantity } : {}) });
          } else if (change.quantity !== undefined) items[at].quantity = change.quantity;
        } else if (change.price) {
          items.push(subscriptionItemObject(now, sub.id, requirePrice(ctx, change.price, `subscription_details[items][${i}][price]`), change.quantity, undefined, current));
        }
      });
    }
    const r = items[0]?.price.recurring;
    if (!r) throw noUpcoming(customer);
    const trialing = sub.status === 'trialing';
    const next = { start: current.end, end: addInterval(current.end, r.interval, r.interval_count, sub.billing_cycle_anchor) };
    const cancelling = sd?.cancel_at_period_end ?? sub.cancel_at_period_end;
    return createInvoice(
      ctx,
      sub,
      'subscription_cycle',
      { ...(cancelling ? {} : { licensed: next }), ...(trialing ? {} : { usage: current }) },
      call.request,
      { preview: true, items },
    );
  }),
  'invoices.create': typed<Stripe.InvoiceCreateParams>((call, p) => {
    onlyParams(call, ['auto_advance', 'customer', 'description', 'metadata', 'pending_invoice_items_behavior']);
    if (!p.customer) throw stripeErrors.parameterMissing('customer');
    const customer = requireCustomer(call.ctx, p.customer);
    if (p.pending_invoice_items_behavior !== 'exclude') {
      throw stripeErrors.invalidRequest('Nothing to invoice for customer', undefined, 'invoice_no_customer_line_items');
    }
    // A one-off invoice; the fake models no invoice items, so it has no lines.
    const now = call.ctx.clock.now();
    const invoice = invoiceObject(now, customer, null, 'manual', { start: now, end: now });
    call.ctx.state.invoices.set(invoice.id, invoice);
    invoice.auto_advance = p.auto_advance ?? false;
    invoice.billing_reason = 'manual';
    invoice.description = p.description ?? null;
    invoice.metadata = mergeMetadata({}, p.metadata);
    call.ctx.emit('invoice.created', invoice, { request: call.request });
    return invoice;
  }),
  'invoices.retrieve': (call) => requireInvoice(call),
  'invoices.update': typed<Stripe.InvoiceUpdateParams>((call, p) => {
    onlyParams(call, ['auto_advance', 'description', 'metadata']);
    const invoice = requireInvoice(call);
    const before = structuredClone(invoice);
    if (p.metadata !== undefined) invoice.metadata = mergeMetadata(invoice.metadata ?? {}, p.metadata);
    if (p.description !== undefined) {
      if (invoice.status !== 'draft') throw stripeErrors.invalidRequest('You can only update the description of a draft invoice.', 'description', 'invoice_not_editable');
      invoice.description = p.description || null;
    }
    if (p.auto_advance !== undefined) invoice.auto_advance = p.auto_advance;
    const previous: Record<string, unknown> = {};
    for (const k of Object.keys(invoice) as (keyof Stripe.Invoice)[]) if (JSON.stringify(invoice[k]) !== JSON.stringify(before[k])) previous[k] = before[k];
    if (Object.keys(previous).length > 0) call.ctx.emit('invoice.updated', invoice, { previous, request: call.request });
    return invoice;
  }),
  'invoices.list': typed<Stripe.InvoiceListParams>((call, p) => {
    onlyParams(call, ['collection_method', 'created', 'customer', 'ending_before', 'limit', 'starting_after', 'status', 'subscription']);
    const all = [...call.ctx.state.invoices.values()].filter(
      (i) =>
        (p.customer === undefined || (i.customer && customerIdOf(i.customer) === p.customer)) &&
        (p.subscription === undefined || subscriptionIdOf(i) === p.subscription) &&
        (p.status === undefined || i.status === p.status) &&
        (p.collection_method === undefined || i.collection_method === p.collection_method) &&
        matchesRange(i.created, p.created),
    );
    return listOf(all, p, '/v1/invoices', 'invoice');
  }),
  'invoices.search': typed<Stripe.InvoiceSearchParams>((call, p) =>
    searchResultOf([...call.ctx.state.invoices.values()].filter(searchFilter(p.query, invoiceSearch)), p, '/v1/invoices/search'),
  ),
  'invoices.listLineItems': typed<Stripe.InvoiceListLineItemsParams>((call, p) => {
    const invoice = requireInvoice(call);
    return listOf([...invoice.lines.data].reverse(), p, `/v1/invoices/${invoice.id}/lines`, 'line_item');
  }),
  'invoices.finalizeInvoice': typed<Stripe.InvoiceFinalizeInvoiceParams>((call, p) => {
    const invoice = requireInvoice(call);
    if (p.auto_advance !== undefined) invoice.auto_advance = p.auto_advance;
    finalizeInvoice(call.ctx, invoice, call.request);
    return invoice;
  }),
  'invoices.pay': typed<Stripe.InvoicePayParams>((call, p) => {
    onlyParams(call, ['off_session', 'paid_out_of_band']);
    const invoice = requireInvoice(call);
    if (invoice.status === 'draft') finalizeInvoice(call.ctx, invoice, call.request);
    if (p.paid_out_of_band) {
      if (invoice.status !== 'open') throw stripeErrors.invalidRequest('Invoice is already paid', undefined, 'invoice_not_editable');
      markPaid(call.ctx, invoice, call.request, false);
      return invoice;
    }
    const error = collect(call.ctx, invoice, call.request);
    if (error) throw error;
    return invoice;
  }),
  'invoices.voidInvoice': (call) => {
    const invoice = requireInvoice(call);
    if (invoice.status !== 'open' && invoice.status !== 'uncollectible') {
      throw stripeErrors.invalidRequest(`You can only void an open or uncollectible invoice; this one is ${invoice.status}.`, undefined, 'invoice_not_editable');
    }
    Object.assign(invoice, { status: 'void', next_payment_attempt: null, status_transitions: { ...invoice.status_transitions, voided_at: call.ctx.clock.now() } });
    call.ctx.emit('invoice.voided', invoice, { request: call.request });
    return invoice;
  },
  'invoices.del': (call) => {
    const invoice = requireInvoice(call);
    if (invoice.status !== 'draft') throw stripeErrors.invalidRequest('You can only delete draft invoices.', undefined, 'invoice_not_editable');
    call.ctx.state.invoices.delete(invoice.id);
    call.ctx.emit('invoice.deleted', invoice, { request: call.request });
    return { id: invoice.id, object: 'invoice', deleted: true } satisfies Stripe.DeletedInvoice;
  },
};
