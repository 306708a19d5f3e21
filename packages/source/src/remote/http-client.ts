/**
 * The HTTP client isomorphic-git uses for remotes: Node's fetch with an idle timeout (no byte for `timeoutMs` aborts
 * the request), so that a remote that stops answering fails instead of hanging a sync. A body that is not read to its
 * end (a reader stopped early, e.g. at a size limit) aborts the request, so the remote stops sending.
 */
import type { HttpClient } from 'isomorphic-git';

export class RemoteTimeoutError extends Error {
  override readonly name = 'RemoteTimeoutError';
}

async function collect(body: AsyncIterableIterator<Uint8Array> | undefined): Promise<Buffer | undefined> {
  if (!body) return undefined;
  const chunks: Uint8Array[] = [];
  for await (const c of body) chunks.push(c);
  return Buffer.concat(chunks);
}

export function createHttpClient(options: { timeoutMs: number }): HttpClient {
  return {
    async request({ url, method = 'GET', headers = {}, body }) {
      const payload = await collect(body);
      const controller = new AbortController();
      const timer = setTimeout(
        () => controller.abort(new RemoteTimeoutError(`no response from ${new URL(url).host} for ${options.timeoutMs} ms`)),
        options.timeoutMs,
      );
      let res: Response;
      try {
        res = await fetch(url, { method, headers, body: payload, signal: controller.signal, redirect: 'follow' });
      } catch (err) {
        clearTimeout(timer);
        throw controller.signal.aborted ? controller.signal.reason : err;
      }
      const stream = res.body;
      async function* iterate(): AsyncGenerator<Uint8Array> {
        let ended = false;
        try {
          if (stream) {
            for await (const chunk of stream) {
              timer.refresh();
              yield chunk;
            }
          }
          ended = true;
        } catch (err) {
          throw controller.signal.aborted ? controller.signal.reason : err;
        } finally {
          clearTimeout(timer);
          if (!ended && !controller.signal.aborted) controller.abort();
        }
      }
      const responseHeaders: Record<string, string> = {};
      res.headers.forEach((v, k) => {
        responseHeaders[k] = v;
      });
      return {
        url: res.url || url,
        method,
        statusCode: res.status,
        statusMessage: res.statusText,
        headers: responseHeaders,
        body: iterate() as AsyncIterableIterator<Uint8Array>,
      };
    },
  };
}
