/**
 * Requests to a Kubernetes API server. @kubernetes/client-node reads the kubeconfig (files, in-cluster service
 * accounts, exec and OIDC credentials, client certificates) and gives the TLS options and the Authorization header
 * (`applyToHTTPSOptions`); requests go over one keep-alive agent per cluster. (client-node 2.0.1's generated APIs
 * build a new connection pool for every request, a TLS handshake each: too slow for thousands of objects.)
 * Answers are plain JSON; a failed request throws KubeApiError with the API server's Status body, an unreachable
 * server KubeUnreachableError. Concurrency is bounded per cluster.
 */
import http from 'node:http';
import https from 'node:https';
import { createInterface } from 'node:readline';
import type { KubeConfig } from '@kubernetes/client-node';

/** The Status body of a failed request (meta.k8s.io/v1). */
export interface KubeStatus {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { name?: string; group?: string; kind?: string; causes?: { reason?: string; message?: string; field?: string }[]; retryAfterSeconds?: number };
}

/** What was asked, for messages: `patch workflowapps.wharf.dev "x" in namespace "y"`. */
export interface RequestWhat {
  verb: string;
  resource: string;
  namespace?: string;
  name?: string;
}

export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';
  constructor(
    readonly code: number,
    readonly status: KubeStatus,
    readonly what: RequestWhat,
  ) {
    super(status.message ?? `HTTP ${code}`);
  }
  get reason(): string | undefined {
    return this.status.reason;
  }
}

export class KubeUnreachableError extends Error {
  override readonly name = 'KubeUnreachableError';
  constructor(
    readonly server: string,
    readonly errorCode: string,
    options?: { cause?: unknown },
  ) {
    super(`the Kubernetes API at ${server} cannot be reached (${errorCode})`, options);
  }
}

export interface KubeRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  what: RequestWhat;
  signal?: AbortSignal;
}

export interface WatchStream {
  /** Resolves when the stream ends (server closed it, timeout, abort); rejects when it could not be opened. */
  done: Promise<void>;
  abort(): void;
}

export interface KubeHttp {
  /** The API server URL, for messages. */
  readonly server: string;
  request<T = unknown>(req: KubeRequest): Promise<T>;
  /** A watch: newline-delimited JSON events until the server ends the stream or `abort()`. */
  watch(path: string, query: Record<string, string | number | boolean | undefined>, onEvent: (event: { type: string; object: unknown }) => void, what: RequestWhat): Promise<WatchStream>;
  close(): void;
}

export interface KubeHttpOptions {
  /** Requests in flight at once (watches not counted). Default 32. */
  maxConcurrent?: number;
  /** A request with no answer for this long fails. Default 30 s. */
  timeoutMs?: number;
  /** A watch stream silent for this long is dropped (bookmarks keep a healthy stream talking). Default 15 min. */
  watchIdleMs?: number;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'EAI_AGAIN', 'ECONNABORTED', 'UND_ERR_SOCKET']);
/** Largest answer read into memory (a list page of 500 objects stays far below). */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
/** Longest line of a watch stream: one object (the API server's own request limit is 3 MiB). */
const MAX_WATCH_LINE = 4 * 1024 * 1024;

function querySuffix(query: KubeRequest['query']): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) params.set(k, String(v));
  const s = params.toString();
  return s ? `?${s}` : '';
}

function networkCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && (NETWORK_CODES.has(code) || code.startsWith('ERR_SSL') || code === 'ERR_TLS_CERT_ALTNAME_INVALID') ? code : undefined;
}

/** A counting semaphore: at most `limit` holders at once, the rest wait in order. */
function semaphore(limit: number) {
  let held = 0;
  const waiting: (() => void)[] = [];
  return {
    async acquire(): Promise<() => void> {
      if (held >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
      held++;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        held--;
        waiting.shift()?.();
      };
    },
  };
}

export async function createKubeHttp(kc: KubeConfig, options: KubeHttpOptions = {}): Promise<KubeHttp> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const server = cluster.server.replace(/\/$/, '');
  const url = new URL(server);
  const secure = url.protocol === 'https:';
  const tls: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(tls);
  const agentOptions = { keepAlive: true, maxSockets: (options.maxConcurrent ?? 32) + 16, maxFreeSockets: 8 };
  const agent = secure
    ? new https.Agent({ ...agentOptions, ca: tls.ca, cert: tls.cert, key: tls.key, ...(tls.rejectUnauthorized !== undefined ? { rejectUnauthorized: tls.rejectUnauthorized } : {}), ...(tls.servername ? { servername: tls.servername } : {}) })
    : new http.Agent(agentOptions);
  const gate = semaphore(options.maxConcurrent ?? 32);
  const timeoutMs = Math.max(1, Math.round(options.timeoutMs ?? 30_000));
  const watchIdleMs = options.watchIdleMs ?? 15 * 60_000;

  /** Headers for each request: credentials may rotate (in-cluster tokens, exec plugins), so they are read each time. */
  const headers = async (): Promise<Record<string, string>> => {
    const opts: https.RequestOptions = {};
    await kc.applyToHTTPSOptions(opts);
    const out: Record<string, string> = { accept: 'application/json', 'user-agent': 'wharf/0.1 (kubernetes target)' };
    for (const [k, v] of Object.entries(opts.headers ?? {})) if (typeof v === 'string') out[k.toLowerCase()] = v;
    if (opts.auth) out.authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
    return out;
  };

  /**
   * One request. A kept-alive socket that the server closed while idle fails with ECONNRESET on reuse, before the
   * server read anything: that request is sent once more on a new connection (Node's documented `reusedSocket` check).
   */
  const send = (method: string, path: string, hdrs: Record<string, string>, body: string | undefined, signal?: AbortSignal, retried = false): Promise<http.IncomingMessage> =>
    new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = (secure ? https : http).request(
        { protocol: url.protocol, hostname: url.hostname, port: url.port, path: `${url.pathname.replace(/\/$/, '')}${path}`, method, headers: { ...hdrs, ...(body !== undefined ? { 'content-length': Buffer.byteLength(body) } : {}) }, agent, signal },
        resolve,
      );
      req.on('error', (err) => {
        const code = networkCode(err);
        if (code === 'ECONNRESET' && req.reusedSocket && !retried && !signal?.aborted) {
          send(method, path, hdrs, body, signal, true).then(resolve, reject);
          return;
        }
        reject(code ? new KubeUnreachableError(server, code, { cause: err }) : err);
      });
      if (body !== undefined) req.write(body);
      req.end();
    });

  const readAll = async (res: http.IncomingMessage): Promise<string> => {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of res) {
      size += (c as Buffer).length;
      if (size > MAX_RESPONSE_BYTES) {
        res.destroy();
        throw new Error(`the API server's answer is larger than ${MAX_RESPONSE_BYTES} bytes`);
      }
      chunks.push(c as Buffer);
    }
    return Buffer.concat(chunks).toString('utf8');
  };

  const failure = (code: number, text: string, what: RequestWhat): KubeApiError => {
    let status: KubeStatus;
    try {
      status = JSON.parse(text) as KubeStatus;
    } catch {
      status = { code, message: text.trim().slice(0, 500) || `HTTP ${code}` };
    }
    return new KubeApiError(code, status, what);
  };

  return {
    server,
    async request<T>(req: KubeRequest): Promise<T> {
      const release = await gate.acquire();
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
      try {
        const hdrs = await headers();
        const body = req.body === undefined ? undefined : typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
        if (body !== undefined) hdrs['content-type'] = req.contentType ?? 'application/json';
        let res: http.IncomingMessage;
        try {
          res = await send(req.method, `${req.path}${querySuffix(req.query)}`, hdrs, body, signal);
        } catch (err) {
          if (timeout.aborted && !req.signal?.aborted) throw new KubeUnreachableError(server, 'ETIMEDOUT', { cause: err });
          throw err;
        }
        const text = await readAll(res);
        const code = res.statusCode ?? 0;
        if (code < 200 || code > 299) throw failure(code, text, req.what);
        return (text ? JSON.parse(text) : undefined) as T;
      } finally {
        release();
      }
    },
    async watch(path, query, onEvent, what) {
      const abort = new AbortController();
      const hdrs = await headers();
      const res = await send('GET', `${path}${querySuffix({ ...query, watch: true })}`, hdrs, undefined, abort.signal);
      if ((res.statusCode ?? 0) !== 200) throw failure(res.statusCode ?? 0, await readAll(res), what);
      let idle: NodeJS.Timeout | undefined;
      const touch = () => {
        clearTimeout(idle);
        idle = setTimeout(() => {
          abort.abort();
          res.destroy();
        }, watchIdleMs);
        idle.unref();
      };
      touch();
      let finish = () => {};
      const done = new Promise<void>((resolve) => {
        finish = resolve;
        const lines = createInterface({ input: res, crlfDelay: Infinity });
        lines.on('line', (line) => {
          touch();
          if (line.length > MAX_WATCH_LINE || !line.trim()) return;
          try {
            const event = JSON.parse(line) as { type: string; object: unknown };
            if (typeof event?.type === 'string') onEvent(event);
          } catch {
            // A torn line (the stream was cut mid-event): the next list or watch catches up.
          }
        });
        const end = () => {
          clearTimeout(idle);
          resolve();
        };
        lines.on('close', end);
        lines.on('error', end);
        res.on('error', end);
        res.on('aborted', end);
      });
      return {
        done,
        abort: () => {
          clearTimeout(idle);
          abort.abort();
          res.destroy();
          finish();
        },
      };
    },
    close() {
      agent.destroy();
    },
  };
}
