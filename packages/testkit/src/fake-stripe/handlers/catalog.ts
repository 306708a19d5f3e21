/**
 * Products and prices, the catalog `wharf billing sync-catalog` keeps in step with the plan table: created and
 * found by `lookup_key` (unique across prices; `transfer_lookup_key` moves it), metered prices backed by a meter.
 */
import type Stripe from 'stripe';
import { onlyParams, typed, type Handler, type HandlerCall } from '../context.js';
import { stripeErrors } from '../errors.js';
import { listOf, matchesRange, searchResultOf } from '../list.js';
import { mergeMetadata, priceObject, productObject } from '../objects.js';
import { searchFilter, type SearchSpec } from '../search-query.js';

const LOOKUP_KEY_MAX = 200;

const productSearch: SearchSpec<Stripe.Product> = {
  resource: 'products',
  fields: { active: (p) => p.active, description: (p) => p.description, name: (p) => p.name, shippable: (p) => p.shippable, url: (p) => p.url },
  metadata: (p) => p.metadata,
};

const priceSearch: SearchSpec<Stripe.Price> = {
  resource: 'prices',
  fields: {
    active: (p) => p.active,
    currency: (p) => p.currency,
    lookup_key: (p) => p.lookup_key,
    product: (p) => (typeof p.product === 'string' ? p.product : p.product.id),
    type: (p) => p.type,
  },
  metadata: (p) => p.metadata,
};

function requireProduct(call: HandlerCall, id: string, param = 'id'): Stripe.Product {
  const product = call.ctx.state.products.get(id);
  if (!product) throw stripeErrors.resourceMissing('product', id, param);
  return product;
}

function requirePriceById(call: HandlerCall, id: string): Stripe.Price {
  const price = call.ctx.state.prices.get(id);
  if (!price) throw stripeErrors.resourceMissing('price', id);
  return price;
}

/** Takes `lookupKey` for `price`: refused if another price holds it, unless `transfer` moves it over. */
function claimLookupKey(call: HandlerCall, lookupKey: string, transfer: boolean | undefined, price: Stripe.Price | null): void {
  if (lookupKey.length > LOOKUP_KEY_MAX) throw stripeErrors.parameterInvalid('lookup_key', `Invalid lookup_key: must be at most ${LOOKUP_KEY_MAX} characters`);
  const holder = [...call.ctx.state.prices.values()].find((p) => p.lookup_key === lookupKey && p.id !== price?.id);
  if (!holder) return;
  if (!transfer) {
    throw stripeErrors.parameterInvalid('lookup_key', `A price (\`${holder.id}\`) already uses that lookup key.`);
  }
  holder.lookup_key = null;
  call.ctx.emit('price.updated', holder, { previous: { lookup_key: lookupKey }, request: call.request });
}

function checkPriceAmounts(call: HandlerCall, p: Stripe.PriceCreateParams): void {
  if (p.unit_amount !== undefined && p.unit_amount_decimal !== undefined) {
    throw stripeErrors.invalidRequest('You may only specify one of these parameters: unit_amount, unit_amount_decimal.', 'unit_amount');
  }
  if (p.unit_amount !== undefined && (!Number.isInteger(p.unit_amount) || p.unit_amount < 0)) {
    throw stripeErrors.parameterInvalidInteger('unit_amount', String(p.unit_amount));
  }
  if ((p.billing_scheme ?? 'per_unit') === 'per_unit') {
    if (p.unit_amount === undefined && p.unit_amount_decimal === undefined) throw stripeErrors.parameterMissing('unit_amount');
    if (p.tiers) throw stripeErrors.invalidRequest('Tiers can only be set when `billing_scheme=tiered`.', 'tiers');
  } else {
    if (!p.tiers || p.tiers.length === 0) throw stripeErrors.parameterMissing('tiers');
    if (!p.tiers_mode) throw stripeErrors.parameterMissing('tiers_mode');
    if (p.tiers[p.tiers.length - 1].up_to !== 'inf') throw stripeErrors.parameterInvalid('tiers', 'The last tier must have `up_to` set to `inf`.');
  }
  const r = p.recurring;
  if (r?.usage_type === 'metered') {
    if (!r.meter) throw stripeErrors.parameterMissing('recurring[meter]');
    const meter = call.ctx.state.meters.get(r.meter);
    if (!meter) throw stripeErrors.resourceMissing('billing meter', r.meter, 'recurring[meter]');
    if (meter.status !== 'active') throw stripeErrors.parameterInvalid('recurring[meter]', `The meter \`${r.meter}\` is inactive.`);
  } else if (r?.meter) {
    throw stripeErrors.parameterInvalid('recurring[meter]', 'A meter can only be set on prices with `recurring[usage_type]=metered`.');
  }
}

export const catalogHandlers: Record<string, Handler> = {
  'products.create': typed<Stripe.ProductCreateParams>((call, p) => {
    onlyParams(call, ['active', 'description', 'id', 'images', 'marketing_features', 'metadata', 'name', 'statement_descriptor', 'tax_code', 'unit_label', 'url']);
    if (p.id !== undefined && call.ctx.state.products.has(p.id)) {
      throw stripeErrors.invalidRequest(`Product already exists.`, 'id', 'resource_already_exists');
    }
    const product = productObject(call.ctx.clock.now(), p);
    call.ctx.state.products.set(product.id, product);
    call.ctx.emit('product.created', product, { request: call.request });
    return product;
  }),
  'products.retrieve': (call) => requireProduct(call, call.path.id),
  'products.update': typed<Stripe.ProductUpdateParams>((call, p) => {
    onlyParams(call, ['active', 'default_price', 'description', 'images', 'marketing_features', 'metadata', 'name', 'statement_descriptor', 'tax_code', 'unit_label', 'url']);
    const product = requireProduct(call, call.path.id);
    if (p.default_price) {
      const price = call.ctx.state.prices.get(p.default_price);
      if (!price) throw stripeErrors.resourceMissing('price', p.default_price, 'default_price');
      if (price.product !== product.id) throw stripeErrors.parameterInvalid('default_price', 'The default price must belong to this product.');
    }
    const next: Partial<Stripe.Product> = {
      active: p.active,
      default_price: p.default_price,
      description: p.description === undefined ? undefined : p.description || null,
      images: p.images === undefined ? undefined : p.images || [],
      marketing_features: p.marketing_features === undefined ? undefined : (p.marketing_features || []).map((f) => ({ name: f.name })),
      metadata: mergeMetadata(product.metadata, p.metadata),
      name: p.name,
      statement_descriptor: p.statement_descriptor,
      tax_code: p.tax_code === undefined ? undefined : p.tax_code || null,
      unit_label: p.unit_label === undefined ? undefined : p.unit_label || null,
      url: p.url === undefined ? undefined : p.url || null,
    };
    const previous: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(next) as [keyof Stripe.Product, unknown][]) {
      if (v === undefined || JSON.stringify(v) === JSON.stringify(product[k])) continue;
      previous[k] = product[k];
      Object.assign(product, { [k]: v });
    }
    if (Object.keys(previous).length > 0) {
      product.updated = call.ctx.clock.now();
      call.ctx.emit('product.updated', product, { previous, request: call.request });
    }
    return product;
  }),
  'products.del': (call) => {
    const product = requireProduct(call, call.path.id);
    if ([...call.ctx.state.prices.values()].some((p) => p.product === product.id)) {
      throw stripeErrors.invalidRequest('This product cannot be deleted because it has one or more user-created prices.');
    }
    call.ctx.state.products.delete(product.id);
    call.ctx.emit('product.deleted', product, { request: call.request });
    return { id: product.id, object: 'product', deleted: true } satisfies Stripe.DeletedProduct;
  },
  'products.list': typed<Stripe.ProductListParams>((call, p) => {
    onlyParams(call, ['active', 'created', 'ending_before', 'ids', 'limit', 'starting_after', 'url']);
    const all = [...call.ctx.state.products.values()].filter(
      (x) =>
        (p.active === undefined || x.active === p.active) &&
        (p.ids === undefined || p.ids.includes(x.id)) &&
        (p.url === undefined || x.url === p.url) &&
        matchesRange(x.created, p.created),
    );
    return listOf(all, p, '/v1/products', 'product');
  }),
  'products.search': typed<Stripe.ProductSearchParams>((call, p) =>
    searchResultOf([...call.ctx.state.products.values()].filter(searchFilter(p.query, productSearch)), p, '/v1/products/search'),
  ),
  'prices.create': typed<Stripe.PriceCreateParams>((call, p) => {
    onlyParams(call, [
      'active', 'billing_scheme', 'currency', 'lookup_key', 'metadata', 'nickname', 'product', 'product_data', 'recurring',
      'tax_behavior', 'tiers', 'tiers_mode', 'transfer_lookup_key', 'transform_quantity', 'unit_amount', 'unit_amount_decimal',
    ]);
    if ((p.product === undefined) === (p.product_data === undefined)) {
      throw stripeErrors.invalidRequest('You must specify either `product` or `product_data` when creating a price.', 'product');
    }
    checkPriceAmounts(call, p);
    let productId = p.product;
    if (productId !== undefined) requireProduct(call, productId, 'product');
    else {
      const d = p.product_data!;
      const product = productObject(call.ctx.clock.now(), { name: d.name, active: d.active, metadata: d.metadata, statement_descriptor: d.statement_descriptor, tax_code: d.tax_code, unit_label: d.unit_label, ...(d.id ? { id: d.id } : {}) });
      call.ctx.state.products.set(product.id, product);
      call.ctx.emit('product.created', product, { request: call.request });
      productId = product.id;
    }
    if (p.lookup_key !== undefined) claimLookupKey(call, p.lookup_key, p.transfer_lookup_key, null);
    const price = priceObject(call.ctx.clock.now(), p, productId);
    call.ctx.state.prices.set(price.id, price);
    call.ctx.emit('price.created', price, { request: call.request });
    return price;
  }),
  'prices.retrieve': (call) => requirePriceById(call, call.path.id),
  'prices.update': typed<Stripe.PriceUpdateParams>((call, p) => {
    onlyParams(call, ['active', 'lookup_key', 'metadata', 'nickname', 'tax_behavior', 'transfer_lookup_key']);
    const price = requirePriceById(call, call.path.id);
    const previous: Record<string, unknown> = {};
    const set = <K extends keyof Stripe.Price>(key: K, value: Stripe.Price[K] | undefined) => {
      if (value === undefined || JSON.stringify(value) === JSON.stringify(price[key])) return;
      previous[key] = price[key];
      price[key] = value;
    };
    if (p.lookup_key !== undefined) claimLookupKey(call, p.lookup_key, p.transfer_lookup_key, price);
    set('lookup_key', p.lookup_key);
    set('active', p.active);
    set('nickname', p.nickname);
    set('tax_behavior', p.tax_behavior);
    set('metadata', mergeMetadata(price.metadata, p.metadata));
    if (Object.keys(previous).length > 0) call.ctx.emit('price.updated', price, { previous, request: call.request });
    return price;
  }),
  'prices.list': typed<Stripe.PriceListParams>((call, p) => {
    onlyParams(call, ['active', 'created', 'currency', 'ending_before', 'limit', 'lookup_keys', 'product', 'recurring', 'starting_after', 'type']);
    if (p.lookup_keys && p.lookup_keys.length > 10) throw stripeErrors.parameterInvalid('lookup_keys', 'You may pass at most 10 lookup keys.');
    const all = [...call.ctx.state.prices.values()].filter(
      (x) =>
        (p.active === undefined || x.active === p.active) &&
        (p.currency === undefined || x.currency === p.currency) &&
        (p.product === undefined || x.product === p.product) &&
        (p.type === undefined || x.type === p.type) &&
        (p.lookup_keys === undefined || (x.lookup_key !== null && p.lookup_keys.includes(x.lookup_key))) &&
        (p.recurring?.interval === undefined || x.recurring?.interval === p.recurring.interval) &&
        (p.recurring?.meter === undefined || x.recurring?.meter === p.recurring.meter) &&
        (p.recurring?.usage_type === undefined || x.recurring?.usage_type === p.recurring.usage_type) &&
        matchesRange(x.created, p.created),
    );
    return listOf(all, p, '/v1/prices', 'price');
  }),
  'prices.search': typed<Stripe.PriceSearchParams>((call, p) =>
    searchResultOf([...call.ctx.state.prices.values()].filter(searchFilter(p.query, priceSearch)), p, '/v1/prices/search'),
  ),
};
