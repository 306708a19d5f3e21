/**
 * A strict fake of api.stripe.com on loopback, for the real `stripe` client pointed at it with its documented
 * `host` / `port` / `protocol` options (`fake.clientOptions`). Every request is checked the way Stripe checks it:
 * `Authorization: Bearer <secret key>`, `Stripe-Version` equal to the version the stripe package pins, the method
 * and path against the endpoints the package declares (404 "Unrecognized request URL" otherwise), the form-encoded
 * parameters against the package's own parameter declarations (400 `parameter_unknown`, `parameter_missing`, …),
 * and an `Idempotency-Key` on every POST, with Stripe's replay and conflict rules. Answers are Stripe's published
 * example objects filled with the request's values; errors are Stripe's error shapes, with a `request-id`.
 * Endpoints Stripe has but the fake does not model answer 501 and are listed in `problems`: tests assert it empty.
 *
 * Against real Stripe none of this is needed: construct the client with the secret key only (test mode: an
 * `sk_test_` key from the dashboard), and use the Stripe CLI (`stripe listen --forward-to …`) for webhooks.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import Stripe from 'stripe';
import { checkParams, type DecodedParams } from './check-params.js';
import { createFakeStripeClock, type FakeStripeClock } from './clock.js';
import { createEventLog, type BillingSettings, type FakeStripeContext, type RequestInfo } from './context.js';
import { createControls, type FakeStripeControls } from './controls.js';
import { loadEndpointIndex } from './endpoint-table.js';
import { FakeStripeError, stripeErrors } from './errors.js';
import { applyExpand } from './expand.js';
import { FaultInjector, type StripeFaultRule } from './faults.js';
import { decodeForm } from './form-decode.js';
import { handlers } from './handlers/index.js';
import { fingerprint, IdempotencyStore } from './idempotency.js';
import { stripeId } from './ids.js';
import { FakeStripeState } from './state.js';
import { WebhookDispatcher, type WebhookDispatcherOptions } from './webhook-dispatcher.js';

/** Request bodies are bounded; the request log keeps the latest entries only (benchmarks send millions). */
export const FAKE_STRIPE_LIMITS = { bodyBytes: 1024 * 1024, recordedRequests: 10_000 } as const;

export interface FakeStripeOptions {
  /** The secret key the fake accepts (default `sk_test_wharf_fake_stripe`). Only `sk_test_` keys. */
  secretKey?: string;
  /** Wall clock in milliseconds (default Date.now); `clock.advance` and `controls.advanceTime` add to it. */
  now?: () => number;
  webhooks?: WebhookDispatcherOptions;
  billing?: Partial<BillingSettings>;
}

export interface RecordedStripeRequest {
  requestId: string;
  method: string;
  path: string;
  /** Endpoint id from the generated table, e.g. `customers.create`; null when the path matched none. */
  endpoint: string | null;
  /** 0 when the fake dropped the connection instead of answering. */
  status: number;
  idempotencyKey: string | null;
  /** The decoded parameters, once they passed the checks. */
  params: DecodedParams | null;
  replayed: boolean;
  /** Fake-clock Unix seconds. */
  at: number;
}

/** What to pass to `new Stripe(fake.secretKey, fake.clientOptions)`. */
export interface FakeStripeClientOptions {
  host: string;
  port: number;
  protocol: 'http';
  apiVersion: Stripe.LatestApiVersion;
  maxNetworkRetries: number;
  telemetry: false;
}

export interface FakeStripeWebhooks {
  /** Registers an endpoint as the dashboard or `webhookEndpoints.create` would; returns its signing secret. */
  addEndpoint(url: string, enabledEvents?: readonly string[]): { id: string; secret: string };
  readonly dispatcher: WebhookDispatcher;
}

export interface FakeStripe {
  url: string;
  secretKey: string;
  apiVersion: string;
  /** The stripe package version the request table was generated from. */
  stripeVersion: string;
  clientOptions: FakeStripeClientOptions;
  state: FakeStripeState;
  clock: FakeStripeClock;
  /** The latest requests (at most FAKE_STRIPE_LIMITS.recordedRequests), oldest first. */
  requests: RecordedStripeRequest[];
  /** Requests the fake could not serve although Stripe would have (not modelled). Tests assert it is empty. */
  problems: string[];
  controls: FakeStripeControls;
  webhooks: FakeStripeWebhooks & Pick<WebhookDispatcher, 'hold' | 'release' | 'duplicateNext' | 'redeliver' | 'flush' | 'deliveries'>;
  inject(rule: StripeFaultRule): void;
  clearFaults(): void;
  /** Stripe unreachable: refuse every connection (true) until brought back (false), on the same port. */
  setDown(down: boolean): Promise<void>;
  close(): Promise<void>;
}

const DEFAULT_SECRET_KEY = 'sk_test_wharf_fake_stripe';

class BodyTooLarge extends Error {}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > FAKE_STRIPE_LIMITS.bodyBytes) throw new BodyTooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function startFakeStripe(options: FakeStripeOptions = {}): Promise<FakeStripe> {
  const secretKey = options.secretKey ?? DEFAULT_SECRET_KEY;
  if (!secretKey.startsWith('sk_test_')) throw new Error('the fake Stripe only accepts test-mode secret keys (sk_test_…)');
  const index = loadEndpointIndex();
  if (index.apiVersion !== Stripe.API_VERSION || index.stripeVersion !== Stripe.PACKAGE_VERSION) {
    throw new Error(
      `the fake Stripe's request table was generated from stripe ${index.stripeVersion} (${index.apiVersion}) but stripe ${Stripe.PACKAGE_VERSION} (${Stripe.API_VERSION}) is installed: run \`npm run generate\``,
    );
  }
  const clock = createFakeStripeClock(options.now);
  const state = new FakeStripeState();
  const dispatcher = new WebhookDispatcher(state, clock, options.webhooks);
  const ctx: FakeStripeContext = {
    state,
    clock,
    apiVersion: index.apiVersion,
    settings: { dunningRetryDays: [3, 5, 7], afterAllRetriesFail: 'cancel', ...options.billing },
    emit: createEventLog(state, clock, index.apiVersion, (event) => dispatcher.enqueue(event)),
  };
  const idempotency = new IdempotencyStore(clock);
  const faults = new FaultInjector();
  const requests: RecordedStripeRequest[] = [];
  const problems: string[] = [];
  const sockets = new Set<Socket>();

  const send = (res: ServerResponse, status: number, text: string, headers: Record<string, string>) => {
    res.writeHead(status, { 'content-type': 'application/json', 'stripe-version': index.apiVersion, ...headers });
    res.end(text);
  };

  const errorBody = (err: FakeStripeError, requestId: string) =>
    JSON.stringify({ error: { ...err.error, request_log_url: `https://dashboard.stripe.com/test/logs/${requestId}?t=${clock.now()}` } }, null, 2);

  const handle = async (req: IncomingMessage, res: ServerResponse, rec: RecordedStripeRequest): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://fake-stripe');
    const method = (req.method ?? 'GET').toUpperCase();
    let raw: string;
    try {
      raw = await readBody(req);
    } catch (err) {
      if (err instanceof BodyTooLarge) throw new FakeStripeError(413, { type: 'invalid_request_error', message: `Request body larger than ${FAKE_STRIPE_LIMITS.bodyBytes} bytes.` });
      throw err;
    }
    const auth = req.headers.authorization;
    if (!auth) throw stripeErrors.apiKeyMissing();
    const bearer = /^Bearer (\S+)$/.exec(auth);
    if (!bearer) throw stripeErrors.apiKeyMissing();
    if (bearer[1] !== secretKey) throw stripeErrors.apiKeyInvalid(bearer[1]);
    const version = req.headers['stripe-version'];
    if (typeof version !== 'string' || version === '') throw stripeErrors.apiVersionMissing(index.apiVersion);
    if (version !== index.apiVersion) throw stripeErrors.apiVersionInvalid(version, index.apiVersion);
    const match = index.match(method, url.pathname);
    if (!match) throw stripeErrors.unrecognizedUrl(method, url.pathname);
    const { endpoint } = match;
    rec.endpoint = endpoint.id;
    const fault = faults.take(endpoint.id, 'before');
    if (fault?.kind === 'server-error') throw stripeErrors.apiError(fault.status ?? 500);
    if (fault?.kind === 'rate-limit') throw stripeErrors.rateLimited(fault.retryAfterSeconds ?? 1);
    if (fault?.kind === 'slow') await sleep(fault.delayMs);
    let form: string;
    if (method === 'POST') {
      if (url.search !== '') throw stripeErrors.invalidRequest('The fake expects POST parameters in the form-encoded body, not in the query string, as the stripe client sends them.');
      const type = req.headers['content-type'] ?? '';
      if (raw !== '' && !/^application\/x-www-form-urlencoded\b/.test(type)) {
        throw stripeErrors.invalidRequest(`Invalid request: unsupported Content-Type ${type}. If error persists and you need assistance, please contact support@stripe.com.`);
      }
      form = raw;
    } else {
      if (raw !== '') throw stripeErrors.invalidRequest(`A ${method} request takes its parameters in the query string, not a body.`);
      form = url.search.slice(1);
    }
    if (!endpoint.params) throw stripeErrors.notModelled(endpoint.id, method, endpoint.path);
    const params = checkParams(decodeForm(form), endpoint.params, index);
    rec.params = params;
    const handler = handlers[endpoint.id];
    if (!handler) throw stripeErrors.notModelled(endpoint.id, method, endpoint.path);
    const key = req.headers['idempotency-key'];
    const idempotencyKey = typeof key === 'string' && key !== '' ? key : null;
    if (method === 'POST') {
      if (!idempotencyKey) throw stripeErrors.idempotencyKeyMissing();
      IdempotencyStore.checkKey(idempotencyKey);
      const begun = idempotency.begin(secretKey, idempotencyKey, `${method} ${url.pathname}`, fingerprint(params));
      if (begun.kind === 'replay') {
        rec.status = begun.response.status;
        rec.replayed = true;
        send(res, begun.response.status, begun.response.body, {
          'request-id': rec.requestId,
          'idempotency-key': idempotencyKey,
          'idempotent-replayed': 'true',
          'original-request': begun.response.requestId,
        });
        return;
      }
    }
    const request: RequestInfo = { id: rec.requestId, idempotencyKey };
    let status = 200;
    let text: string;
    let headers: Record<string, string> = {};
    try {
      const body = handler({ ctx, endpoint: endpoint.id, params, path: match.pathParams, request });
      const expand = Array.isArray(params.expand) ? params.expand.filter((x): x is string => typeof x === 'string') : undefined;
      text = JSON.stringify(applyExpand(body, expand, (id) => state.lookup(id)), null, 2);
    } catch (err) {
      const e = err instanceof FakeStripeError ? err : stripeErrors.apiError(500);
      if (!(err instanceof FakeStripeError)) problems.push(`${endpoint.id}: the fake failed: ${err instanceof Error ? err.stack : String(err)}`);
      if (e.status === 501) problems.push(`${endpoint.id}: ${e.message}`);
      status = e.status;
      text = errorBody(e, rec.requestId);
      headers = e.headers;
    }
    if (idempotencyKey && method === 'POST') idempotency.complete(secretKey, idempotencyKey, { status, body: text, requestId: rec.requestId });
    if (faults.take(endpoint.id, 'after')?.kind === 'drop-response') {
      rec.status = 0;
      req.socket.destroy();
      return;
    }
    rec.status = status;
    send(res, status, text, { 'request-id': rec.requestId, ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}), ...headers });
  };

  const server: Server = createServer((req, res) => {
    const rec: RecordedStripeRequest = {
      requestId: stripeId('req', 14),
      method: (req.method ?? 'GET').toUpperCase(),
      path: (req.url ?? '/').split('?')[0],
      endpoint: null,
      status: 0,
      idempotencyKey: typeof req.headers['idempotency-key'] === 'string' ? req.headers['idempotency-key'] : null,
      params: null,
      replayed: false,
      at: clock.now(),
    };
    requests.push(rec);
    if (requests.length > FAKE_STRIPE_LIMITS.recordedRequests) requests.shift();
    handle(req, res, rec).catch((err: unknown) => {
      const e = err instanceof FakeStripeError ? err : stripeErrors.apiError(500);
      if (!(err instanceof FakeStripeError)) problems.push(`the fake failed: ${err instanceof Error ? err.stack : String(err)}`);
      if (e.status === 501) problems.push(`${rec.endpoint}: ${e.message}`);
      rec.status = e.status;
      if (res.headersSent || res.destroyed) return;
      send(res, e.status, errorBody(e, rec.requestId), { 'request-id': rec.requestId, ...e.headers });
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      if (!server.listening) resolve();
      else server.close(() => resolve());
    });
  await listen(0);
  const port = (server.address() as AddressInfo).port;

  const webhooks = {
    dispatcher,
    addEndpoint(url: string, enabledEvents: readonly string[] = ['*']) {
      const body = handlers['webhookEndpoints.create']({
        ctx,
        endpoint: 'webhookEndpoints.create',
        params: { url, enabled_events: [...enabledEvents] },
        path: {},
        request: { id: stripeId('req', 14), idempotencyKey: null },
      }) as { id: string; secret: string };
      return { id: body.id, secret: body.secret };
    },
    hold: () => dispatcher.hold(),
    release: (order?: Parameters<WebhookDispatcher['release']>[0]) => dispatcher.release(order),
    duplicateNext: (n?: number) => dispatcher.duplicateNext(n),
    redeliver: (eventId: string) => dispatcher.redeliver(eventId),
    flush: () => dispatcher.flush(),
    deliveries: dispatcher.deliveries,
  };

  return {
    url: `http://127.0.0.1:${port}`,
    secretKey,
    apiVersion: index.apiVersion,
    stripeVersion: index.stripeVersion,
    clientOptions: { host: '127.0.0.1', port, protocol: 'http', apiVersion: Stripe.API_VERSION, maxNetworkRetries: 0, telemetry: false },
    state,
    clock,
    requests,
    problems,
    controls: createControls(ctx),
    webhooks,
    inject: (rule) => faults.inject(rule),
    clearFaults: () => faults.clear(),
    async setDown(down) {
      if (down) await stop();
      else if (!server.listening) await listen(port);
    },
    async close() {
      dispatcher.close();
      await stop();
    },
  };
}
