/** Customers: create, retrieve, update, delete, list (by email), search (by metadata, email, name). */
import type Stripe from 'stripe';
import { onlyParams, typed, type Handler } from '../context.js';
import { stripeErrors } from '../errors.js';
import { listOf, matchesRange } from '../list.js';
import { customerObject, mergeMetadata } from '../objects.js';
import { searchFilter, type SearchSpec } from '../search-query.js';
import { searchResultOf } from '../list.js';

const FIELDS = ['address', 'balance', 'description', 'email', 'metadata', 'name', 'phone', 'preferred_locales', 'tax_exempt'] as const;

const customerSearch: SearchSpec<Stripe.Customer> = {
  resource: 'customers',
  fields: { created: (c) => c.created, email: (c) => c.email, name: (c) => c.name, phone: (c) => c.phone },
  metadata: (c) => c.metadata,
};

export const customerHandlers: Record<string, Handler> = {
  'customers.create': typed<Stripe.CustomerCreateParams>((call, p) => {
    onlyParams(call, FIELDS);
    const customer = customerObject(call.ctx.clock.now(), p);
    call.ctx.state.customers.set(customer.id, customer);
    call.ctx.emit('customer.created', customer, { request: call.request });
    return customer;
  }),
  'customers.retrieve': (call) => {
    const id = call.path.id;
    if (call.ctx.state.deletedCustomers.has(id)) return { id, object: 'customer', deleted: true } satisfies Stripe.DeletedCustomer;
    const customer = call.ctx.state.customers.get(id);
    if (!customer) throw stripeErrors.resourceMissing('customer', id);
    return customer;
  },
  'customers.update': typed<Stripe.CustomerUpdateParams>((call, p) => {
    onlyParams(call, FIELDS);
    const customer = call.ctx.state.customers.get(call.path.id);
    if (!customer) throw stripeErrors.resourceMissing('customer', call.path.id);
    const previous: Record<string, unknown> = {};
    const set = <K extends keyof Stripe.Customer>(key: K, value: Stripe.Customer[K] | undefined) => {
      if (value === undefined || JSON.stringify(value) === JSON.stringify(customer[key])) return;
      previous[key] = customer[key];
      customer[key] = value;
    };
    set('email', p.email);
    set('name', p.name);
    set('description', p.description);
    set('phone', p.phone);
    set('balance', p.balance);
    set('preferred_locales', p.preferred_locales);
    set('tax_exempt', p.tax_exempt === undefined ? undefined : p.tax_exempt || 'none');
    set('address', p.address === undefined ? undefined : p.address ? { city: null, country: null, line1: null, line2: null, postal_code: null, state: null, ...p.address } : null);
    set('metadata', mergeMetadata(customer.metadata, p.metadata));
    if (Object.keys(previous).length > 0) call.ctx.emit('customer.updated', customer, { previous, request: call.request });
    return customer;
  }),
  'customers.del': (call) => {
    const customer = call.ctx.state.customers.get(call.path.id);
    if (!customer) throw stripeErrors.resourceMissing('customer', call.path.id);
    call.ctx.state.customers.delete(customer.id);
    call.ctx.state.deletedCustomers.add(customer.id);
    call.ctx.emit('customer.deleted', customer, { request: call.request });
    return { id: customer.id, object: 'customer', deleted: true } satisfies Stripe.DeletedCustomer;
  },
  'customers.list': typed<Stripe.CustomerListParams>((call, p) => {
    onlyParams(call, ['created', 'email', 'ending_before', 'limit', 'starting_after']);
    const all = [...call.ctx.state.customers.values()].filter(
      (c) => (p.email === undefined || c.email === p.email) && matchesRange(c.created, p.created),
    );
    return listOf(all, p, '/v1/customers', 'customer');
  }),
  'customers.search': typed<Stripe.CustomerSearchParams>((call, p) => {
    const match = searchFilter(p.query, customerSearch);
    return searchResultOf([...call.ctx.state.customers.values()].filter(match), p, '/v1/customers/search');
  }),
};
