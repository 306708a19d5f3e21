import { isIP } from 'node:net';

/**
 * Where a config may connect: only hosts the target allows (`--allow-host host` or `host:port`, repeatable).
 * With none given, a config reaches nothing outside its own process: Postgres DSNs, HTTP calls and webhooks
 * to any host are refused at start (or, for a URL rendered at run time, when the call is made).
 */
export type OutboundPolicy = {
  readonly allowed: readonly string[];
  /** Throws OutboundRefusedError unless host:port is allowed. */
  check(host: string, port: number, where: string): void;
  /** Checks a URL (http/https only) and returns it parsed. */
  checkUrl(url: string, where: string): URL;
};

export class OutboundRefusedError extends Error {
  override readonly name = 'OutboundRefusedError';
}

const normalizeHost = (h: string) => h.trim().toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');

function parseEntry(entry: string): { host: string; port: number | null } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry) ?? (isIP(entry) === 6 ? null : /^([^:]+)(?::(\d+))?$/.exec(entry));
  if (!m) return { host: normalizeHost(entry), port: null };
  return { host: normalizeHost(m[1]), port: m[2] ? Number(m[2]) : null };
}

export function createOutboundPolicy(allowHosts: readonly string[]): OutboundPolicy {
  const entries = allowHosts.map(parseEntry);
  const policy: OutboundPolicy = {
    allowed: allowHosts,
    check(host, port, where) {
      const h = normalizeHost(host);
      if (!h) throw new OutboundRefusedError(`${where}: no host given (a connection must name an allowed host)`);
      if (entries.some((e) => e.host === h && (e.port === null || e.port === port))) return;
      const allowed = allowHosts.length ? `allowed: ${allowHosts.join(', ')}` : 'this runtime allows no outbound connections (the target passes --allow-host)';
      throw new OutboundRefusedError(`${where}: connecting to ${h}:${port} is not allowed; ${allowed}`);
    },
    checkUrl(url, where) {
      let u: URL;
      try {
        u = new URL(url);
      } catch {
        throw new OutboundRefusedError(`${where}: "${url}" is not a URL`);
      }
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new OutboundRefusedError(`${where}: only http and https URLs are allowed, not ${u.protocol}`);
      if (u.username || u.password) throw new OutboundRefusedError(`${where}: credentials in URLs are not allowed`);
      // WHATWG URL parsing has already turned 2130706433, 0x7f.1 and friends into a dotted IPv4 address.
      policy.check(u.hostname, Number(u.port || (u.protocol === 'https:' ? 443 : 80)), where);
      return u;
    },
  };
  return policy;
}
