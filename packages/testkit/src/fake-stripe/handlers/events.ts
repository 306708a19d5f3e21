/** Events (list, retrieve) and webhook endpoints (create returns the signing secret once, as Stripe does). */
import type Stripe from 'stripe';
import { onlyParams, typed, type Handler, type HandlerCall } from '../context.js';
import { stripeErrors } from '../errors.js';
import { fixture } from '../fixtures.js';
import { stripeId } from '../ids.js';
import { listOf, matchesRange } from '../list.js';
import { mergeMetadata } from '../objects.js';

export const WEBHOOK_ENDPOINT_LIMIT = 16;

function checkUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw stripeErrors.parameterInvalid('url', `Invalid URL: ${url}`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw stripeErrors.parameterInvalid('url', 'Invalid URL: must be an http or https URL.');
}

function requireEndpoint(call: HandlerCall) {
  const record = call.ctx.state.webhookEndpoints.get(call.path.id);
  if (!record) throw stripeErrors.resourceMissing('webhook endpoint', call.path.id);
  return record;
}

export const eventHandlers: Record<string, Handler> = {
  'events.retrieve': (call) => {
    const event = call.ctx.state.events.get(call.path.id);
    if (!event) throw stripeErrors.resourceMissing('event', call.path.id);
    return event;
  },
  'events.list': typed<Stripe.EventListParams>((call, p) => {
    onlyParams(call, ['created', 'ending_before', 'limit', 'starting_after', 'type', 'types']);
    if (p.type !== undefined && p.types !== undefined) throw stripeErrors.invalidRequest('You may only specify one of these parameters: type, types.', 'types');
    const typeMatches = (t: string) =>
      p.type !== undefined ? (p.type.endsWith('.*') ? t.startsWith(p.type.slice(0, -1)) : t === p.type) : p.types === undefined || p.types.includes(t);
    const all = [...call.ctx.state.events.values()].filter((e) => typeMatches(e.type) && matchesRange(e.created, p.created));
    return listOf(all, p, '/v1/events', 'event');
  }),
  'webhookEndpoints.create': typed<Stripe.WebhookEndpointCreateParams>((call, p) => {
    onlyParams(call, ['api_version', 'description', 'enabled_events', 'metadata', 'url']);
    checkUrl(p.url);
    if (call.ctx.state.webhookEndpoints.size >= WEBHOOK_ENDPOINT_LIMIT) {
      throw stripeErrors.invalidRequest(`You have reached the maximum of ${WEBHOOK_ENDPOINT_LIMIT} test webhook endpoints.`);
    }
    if (p.api_version !== undefined && p.api_version !== call.ctx.apiVersion) {
      throw stripeErrors.paramNotModelled(call.endpoint, `api_version=${p.api_version} (the fake renders events in ${call.ctx.apiVersion} only)`);
    }
    const endpoint = fixture('webhook_endpoint');
    Object.assign(endpoint, {
      id: stripeId('we', 24),
      api_version: p.api_version ?? null,
      application: null,
      created: call.ctx.clock.now(),
      description: p.description ?? null,
      enabled_events: p.enabled_events,
      livemode: false,
      metadata: mergeMetadata({}, p.metadata),
      status: 'enabled',
      url: p.url,
    } satisfies Partial<Stripe.WebhookEndpoint>);
    const secret = stripeId('whsec', 32);
    call.ctx.state.webhookEndpoints.set(endpoint.id, { endpoint, secret });
    return { ...endpoint, secret };
  }),
  'webhookEndpoints.retrieve': (call) => requireEndpoint(call).endpoint,
  'webhookEndpoints.list': typed<Stripe.WebhookEndpointListParams>((call, p) =>
    listOf([...call.ctx.state.webhookEndpoints.values()].map((r) => r.endpoint), p, '/v1/webhook_endpoints', 'webhook endpoint'),
  ),
  'webhookEndpoints.update': typed<Stripe.WebhookEndpointUpdateParams>((call, p) => {
    onlyParams(call, ['description', 'disabled', 'enabled_events', 'metadata', 'url']);
    const { endpoint } = requireEndpoint(call);
    if (p.url !== undefined) {
      checkUrl(p.url);
      endpoint.url = p.url;
    }
    if (p.enabled_events !== undefined) endpoint.enabled_events = p.enabled_events;
    if (p.description !== undefined) endpoint.description = p.description || null;
    if (p.disabled !== undefined) endpoint.status = p.disabled ? 'disabled' : 'enabled';
    if (p.metadata !== undefined) endpoint.metadata = mergeMetadata(endpoint.metadata, p.metadata);
    return endpoint;
  }),
  'webhookEndpoints.del': (call) => {
    const { endpoint } = requireEndpoint(call);
    call.ctx.state.webhookEndpoints.delete(endpoint.id);
    return { id: endpoint.id, object: 'webhook_endpoint', deleted: true } satisfies Stripe.DeletedWebhookEndpoint;
  },
};
