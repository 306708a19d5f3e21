/**
 * The HTTP client isomorphic-git uses for remotes: Node's http/https with an idle timeout (no byte for `timeoutMs`
 * fails the request), so that a remote that stops answering fails instead of hanging a sync.
 *
 * Node's streams rather than fetch(): a response body is read with backpressure, so a reader that takes its time (a
 * pack spooled to disk, bounded-http.ts) holds back the socket instead of letting the response pile up in memory.
 * A body that is not read to its end (a reader stopped at a size limit) destroys the request, so the remote stops
 * sending. Redirects are followed (at most 5); credentials are not sent to another origin.
 */
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { GitHttpResponse, HttpClient } from 'isomorphic-git';

export class RemoteTimeoutError extends Error {
  override readonly name = 'RemoteTimeoutError';
}

const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

async function collect(body: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | undefined): Promise<Buffer | undefined> {
  if (!body) return undefined;
  const chunks: Uint8Array[] = [];
  for await (const c of body) chunks.push(c);
  return Buffer.concat(chunks);
}

interface Sent {
  res: IncomingMessage;
  /** The timeout error, once the request timed out (also while its body streams). */
  timedOut(): RemoteTimeoutError | undefined;
}

function send(url: URL, method: string, headers: Record<string, string>, payload: Buffer | undefined, timeoutMs: number): Promise<Sent> {
  return new Promise((resolve, reject) => {
    const transport = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : undefined;
    if (!transport) return reject(new Error(`unsupported remote protocol ${url.protocol}`));
    let timeout: RemoteTimeoutError | undefined;
    const req = transport.request(url, { method, headers: { ...headers, ...(payload ? { 'content-length': String(payload.length) } : {}) } }, (res) =>
      resolve({ res, timedOut: () => timeout }),
    );
    // Socket idle timeout: covers connecting, waiting for the response and every pause while its body streams.
    req.setTimeout(timeoutMs, () => {
      timeout = new RemoteTimeoutError(`no response from ${url.host} for ${timeoutMs} ms`);
      req.destroy(timeout);
    });
    req.on('error', (err) => reject(timeout ?? err));
    req.end(payload);
  });
}

async function* iterate({ res, timedOut }: Sent): AsyncGenerator<Uint8Array> {
  let ended = false;
  try {
    for await (const chunk of res) yield chunk as Buffer;
    ended = true;
  } catch (err) {
    throw timedOut() ?? err;
  } finally {
    if (!ended) res.destroy();
  }
}

export function createHttpClient(options: { timeoutMs: number }): HttpClient {
  return {
    async request({ url, method = 'GET', headers = {}, body }): Promise<GitHttpResponse> {
      const payload = await collect(body);
      let target = new URL(url);
      let currentMethod = method;
      let currentHeaders: Record<string, string> = { ...headers };
      let currentPayload = payload;
      for (let hop = 0; ; hop++) {
        const sent = await send(target, currentMethod, currentHeaders, currentPayload, options.timeoutMs);
        const { res } = sent;
        const status = res.statusCode ?? 0;
        const location = res.headers.location;
        if (REDIRECTS.has(status) && location && hop < MAX_REDIRECTS) {
          res.resume();
          const next = new URL(location, target);
          if (next.origin !== target.origin) {
            currentHeaders = Object.fromEntries(Object.entries(currentHeaders).filter(([k]) => k.toLowerCase() !== 'authorization'));
          }
          if (status === 303 || ((status === 301 || status === 302) && currentMethod === 'POST')) {
            currentMethod = 'GET';
            currentPayload = undefined;
          }
          target = next;
          continue;
        }
        const responseHeaders: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) responseHeaders[k] = Array.isArray(v) ? v.join(', ') : v;
        return {
          url: target.toString(),
          method: currentMethod,
          statusCode: status,
          statusMessage: res.statusMessage ?? '',
          headers: responseHeaders,
          body: iterate(sent),
        };
      }
    },
  };
}
