/**
 * Billing meters, meter events and event summaries (https://docs.stripe.com/billing/subscriptions/usage-based).
 * Meter events: `identifier` is unique for 24 hours (a repeat is refused with "An event already exists with
 * identifier …" and `Stripe-Should-Retry: false`); `timestamp` within the past 35 days or 5 minutes ahead;
 * problems Stripe reports asynchronously (no meter for the event name, payload keys missing, no such customer)
 * are accepted and listed in `state.meterEventErrors`, and the event counts for nothing.
 * Summaries: `start_time`/`end_time` on minute boundaries (hour or UTC day ones with `value_grouping_window`).
 */
import { createHash, randomUUID } from 'node:crypto';
import type Stripe from 'stripe';
import { onlyParams, typed, type Handler, type HandlerCall } from '../context.js';
import { FakeStripeError, stripeErrors } from '../errors.js';
import { fixture } from '../fixtures.js';
import { listOf } from '../list.js';
import { meterObject } from '../objects.js';
import { meterUsage } from '../pricing.js';

export const METER_EVENT_LIMITS = { identifierLength: 100, eventNameLength: 100, pastSeconds: 35 * 86_400, futureSeconds: 300, dedupSeconds: 86_400 } as const;
const MAX_SUMMARY_WINDOWS = 2000;

function requireMeter(call: HandlerCall, id: string): Stripe.Billing.Meter {
  const meter = call.ctx.state.meters.get(id);
  if (!meter) throw stripeErrors.resourceMissing('billing.meter', id);
  return meter;
}

function setMeterStatus(call: HandlerCall, status: Stripe.Billing.Meter.Status): Stripe.Billing.Meter {
  const meter = requireMeter(call, call.path.id);
  if (meter.status === status) throw stripeErrors.invalidRequest(`This meter is already ${status}.`);
  const now = call.ctx.clock.now();
  Object.assign(meter, { status, updated: now, status_transitions: { deactivated_at: status === 'inactive' ? now : null } });
  call.ctx.emit(status === 'inactive' ? 'billing.meter.deactivated' : 'billing.meter.reactivated', meter, { request: call.request });
  return meter;
}

function summary(meter: Stripe.Billing.Meter, customer: string, start: number, end: number, value: number): Stripe.Billing.MeterEventSummary {
  const s = fixture('billing.meter_event_summary');
  const id = `mtrusg_${createHash('sha256').update(`${meter.id}|${customer}|${start}|${end}`).digest('hex').slice(0, 24)}`;
  return Object.assign(s, { id, aggregated_value: value, start_time: start, end_time: end, livemode: false, meter: meter.id });
}

export const meterHandlers: Record<string, Handler> = {
  'billing.meters.create': typed<Stripe.Billing.MeterCreateParams>((call, p) => {
    onlyParams(call, ['customer_mapping', 'default_aggregation', 'display_name', 'event_name', 'event_time_window', 'value_settings']);
    if (p.event_name.length > METER_EVENT_LIMITS.eventNameLength) throw stripeErrors.parameterInvalid('event_name', `Invalid event_name: must be at most ${METER_EVENT_LIMITS.eventNameLength} characters`);
    if ([...call.ctx.state.meters.values()].some((m) => m.status === 'active' && m.event_name === p.event_name)) {
      throw stripeErrors.parameterInvalid('event_name', `An active meter with event_name \`${p.event_name}\` already exists.`);
    }
    const meter = meterObject(call.ctx.clock.now(), p);
    call.ctx.state.meters.set(meter.id, meter);
    call.ctx.emit('billing.meter.created', meter, { request: call.request });
    return meter;
  }),
  'billing.meters.retrieve': (call) => requireMeter(call, call.path.id),
  'billing.meters.update': typed<Stripe.Billing.MeterUpdateParams>((call, p) => {
    onlyParams(call, ['display_name']);
    const meter = requireMeter(call, call.path.id);
    if (p.display_name !== undefined && p.display_name !== meter.display_name) {
      const previous = { display_name: meter.display_name };
      Object.assign(meter, { display_name: p.display_name, updated: call.ctx.clock.now() });
      call.ctx.emit('billing.meter.updated', meter, { previous, request: call.request });
    }
    return meter;
  }),
  'billing.meters.list': typed<Stripe.Billing.MeterListParams>((call, p) => {
    onlyParams(call, ['ending_before', 'limit', 'starting_after', 'status']);
    const all = [...call.ctx.state.meters.values()].filter((m) => p.status === undefined || m.status === p.status);
    return listOf(all, p, '/v1/billing/meters', 'billing.meter');
  }),
  'billing.meters.deactivate': (call) => setMeterStatus(call, 'inactive'),
  'billing.meters.reactivate': (call) => setMeterStatus(call, 'active'),
  'billing.meters.listEventSummaries': typed<Stripe.Billing.MeterListEventSummariesParams>((call, p) => {
    const meter = requireMeter(call, call.path.id);
    if (!call.ctx.state.customers.has(p.customer)) throw stripeErrors.resourceMissing('customer', p.customer, 'customer');
    const step = p.value_grouping_window === 'hour' ? 3600 : p.value_grouping_window === 'day' ? 86_400 : 60;
    const unit = p.value_grouping_window ?? 'minute';
    for (const [param, t] of [['start_time', p.start_time], ['end_time', p.end_time]] as const) {
      if (t % step !== 0) throw stripeErrors.parameterInvalid(param, `Invalid ${param}: must be aligned with ${unit} boundaries${unit === 'day' ? ' (00:00 UTC)' : ''}.`);
    }
    if (p.end_time <= p.start_time) throw stripeErrors.parameterInvalid('end_time', 'Invalid end_time: must be after start_time.');
    const usage = (start: number, end: number) => meterUsage(call.ctx.state, meter.id, p.customer, start, end);
    let summaries: Stripe.Billing.MeterEventSummary[];
    if (!p.value_grouping_window) summaries = [summary(meter, p.customer, p.start_time, p.end_time, usage(p.start_time, p.end_time))];
    else {
      if ((p.end_time - p.start_time) / step > MAX_SUMMARY_WINDOWS) {
        throw stripeErrors.parameterInvalid('end_time', `The range covers more than ${MAX_SUMMARY_WINDOWS} ${unit}s; ask for a shorter one.`);
      }
      const windows = new Set<number>();
      for (const r of call.ctx.state.meterEventsFor(meter.id, p.customer)) {
        if (r.event.timestamp >= p.start_time && r.event.timestamp < p.end_time) windows.add(r.event.timestamp - ((r.event.timestamp - p.start_time) % step));
      }
      summaries = [...windows].sort((a, b) => a - b).map((t) => summary(meter, p.customer, t, t + step, usage(t, t + step)));
    }
    // listOf serves newest first from oldest-first input: summaries are in time order.
    return listOf(summaries, p, `/v1/billing/meters/${meter.id}/event_summaries`, 'billing.meter_event_summary');
  }),
  'billing.meterEvents.create': typed<Stripe.Billing.MeterEventCreateParams>((call, p) => {
    const { state, clock } = call.ctx;
    const now = clock.now();
    if (p.event_name.length > METER_EVENT_LIMITS.eventNameLength) throw stripeErrors.parameterInvalid('event_name', `Invalid event_name: must be at most ${METER_EVENT_LIMITS.eventNameLength} characters`);
    const identifier = p.identifier ?? randomUUID();
    if (identifier.length > METER_EVENT_LIMITS.identifierLength) {
      throw stripeErrors.parameterInvalid('identifier', `Invalid identifier: must be at most ${METER_EVENT_LIMITS.identifierLength} characters`);
    }
    const timestamp = p.timestamp ?? now;
    if (timestamp < now - METER_EVENT_LIMITS.pastSeconds || timestamp > now + METER_EVENT_LIMITS.futureSeconds) {
      throw stripeErrors.parameterInvalid('timestamp', 'Timestamp must be within the past 35 calendar days and no more than 5 minutes in the future.');
    }
    for (const [id, at] of state.meterEventIdentifiers) {
      if (at >= now - METER_EVENT_LIMITS.dedupSeconds) break;
      state.meterEventIdentifiers.delete(id);
    }
    if (state.meterEventIdentifiers.has(identifier)) {
      throw new FakeStripeError(400, { type: 'invalid_request_error', message: `An event already exists with identifier ${identifier}.`, param: 'identifier' }, { 'stripe-should-retry': 'false' });
    }
    state.meterEventIdentifiers.set(identifier, now);
    const event = fixture('billing.meter_event');
    Object.assign(event, { created: now, event_name: p.event_name, identifier, livemode: false, payload: p.payload, timestamp });
    const meter = [...state.meters.values()].find((m) => m.status === 'active' && m.event_name === p.event_name);
    const fail = (message: string) => state.meterEventErrors.push({ identifier, message });
    if (!meter) fail(`no_meter: no active meter has event_name ${p.event_name}`);
    else {
      const customer = p.payload[meter.customer_mapping.event_payload_key];
      const raw = p.payload[meter.value_settings.event_payload_key];
      const value = Number(raw);
      if (customer === undefined) fail(`meter_event_no_customer_defined: payload has no ${meter.customer_mapping.event_payload_key}`);
      else if (!state.customers.has(customer)) fail(`meter_event_customer_not_found: no customer ${customer}`);
      else if (meter.default_aggregation.formula !== 'count' && (raw === undefined || raw === '' || !Number.isFinite(value))) {
        fail(`meter_event_invalid_value: payload ${meter.value_settings.event_payload_key} is not a number`);
      } else state.addMeterEvent({ event, meter: meter.id, customer, value: Number.isFinite(value) ? value : 0 });
    }
    return event;
  }),
};
