/**
 * Reads one environment's runtime metrics through the URL its target reported, for this machine's runtimes only
 * (the local target's router: loopback addresses and `*.localhost` names, reached on 127.0.0.1 with the name as
 * Host, as browsers do). Any other host is refused before a connection is made: an environment's URL must not turn
 * the control plane into a client of arbitrary hosts. Answers are bounded in size and time.
 */
import http from 'node:http';
import { RUNTIME_RESERVED_PREFIX } from '@wharf/contracts/runtime-protocol';
import { parseRequestCounters, type RequestCounters } from './parse-request-counters.js';

export const MAX_METRICS_BYTES = 256 * 1024;
export const SCRAPE_TIMEOUT_MS = 2_000;

const LOOPBACK_IP = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])$/;

/** Where to connect for an environment URL, or why not. */
export function scrapeTarget(url: string): { host: string; port: number; hostHeader: string; path: string } | { refused: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { refused: 'the environment has no valid URL' };
  }
  if (u.protocol !== 'http:') return { refused: 'metrics are read over plain HTTP from runtimes on this machine only' };
  const name = u.hostname.toLowerCase();
  const local = LOOPBACK_IP.test(name) || name === 'localhost' || name.endsWith('.localhost');
  if (!local) return { refused: 'metrics are read from runtimes on this machine (the local target) only' };
  if (u.username || u.password) return { refused: 'the environment URL carries credentials' };
  const port = u.port ? Number(u.port) : 80;
  const base = u.pathname.endsWith('/') ? u.pathname : `${u.pathname}/`;
  return { host: name === '[::1]' ? '::1' : LOOPBACK_IP.test(name) ? name : '127.0.0.1', port, hostHeader: u.host, path: `${base}${RUNTIME_RESERVED_PREFIX.slice(1)}metrics` };
}

export async function scrapeRuntime(url: string, options: { timeoutMs?: number; maxBytes?: number } = {}): Promise<RequestCounters> {
  const target = scrapeTarget(url);
  if ('refused' in target) throw new Error(target.refused);
  const maxBytes = options.maxBytes ?? MAX_METRICS_BYTES;
  return new Promise<RequestCounters>((resolve, reject) => {
    const req = http.get(
      { host: target.host, port: target.port, path: target.path, headers: { host: target.hostHeader, accept: 'text/plain' }, timeout: options.timeoutMs ?? SCRAPE_TIMEOUT_MS },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new Error(`the runtime answered ${res.statusCode} for its metrics`));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > maxBytes) {
            req.destroy(new Error(`the runtime's metrics are larger than ${maxBytes} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => {
          const counters = parseRequestCounters(Buffer.concat(chunks).toString('utf8'));
          if (counters) resolve(counters);
          else reject(new Error('the runtime does not report wharf_runtime_http_requests_total'));
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`the runtime did not answer within ${options.timeoutMs ?? SCRAPE_TIMEOUT_MS} ms`)));
    req.on('error', reject);
  });
}
