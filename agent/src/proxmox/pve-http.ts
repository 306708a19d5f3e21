/**
 * The transport to a Proxmox VE API: HTTPS with the node certificate pinned by its SHA-256 fingerprint, an API
 * token in `Authorization: PVEAPIToken=USER@REALM!TOKENID=SECRET`, form-encoded bodies, and PVE's `{data: …}`
 * envelope. Failures become AgentErrors (see classify-pve-error.ts). No retries here: callers back off.
 *
 * The fingerprint is checked right after the TLS handshake and before a single byte of the request (and so the
 * token) is written. After a 401 the client refuses further calls for `authCooldownMs` without contacting PVE:
 * a wrong token is not retried in a tight loop (PVE delays and logs every failed authentication).
 */
import { request, type RequestOptions } from 'node:https';
import { connect, type TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import { AgentError } from '../errors.js';
import { classifyPveError } from './classify-pve-error.js';

export interface PveConnection {
  /** https://HOST:8006 (no path). */
  url: string;
  /** USER@REALM!TOKENID */
  tokenId: string;
  tokenSecret: string;
  /** SHA-256 fingerprint of the node certificate (AB:CD:… or abcd…), as `pvenode cert info` prints it. */
  fingerprint256: string;
}

export interface PveHttpOptions extends PveConnection {
  timeoutMs?: number;
  /** After a 401, calls fail fast for this long (default 5 minutes). */
  authCooldownMs?: number;
  now?: () => number;
}

export type PveParams = Record<string, string | number | boolean | undefined>;
export type PveMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface PveHttp {
  call<T = unknown>(method: PveMethod, path: string, params?: PveParams): Promise<T>;
  /** The token's id (never its secret), for messages. */
  tokenId: string;
}

const normalizeFingerprint = (f: string) => f.replace(/[^0-9a-f]/gi, '').toUpperCase();

/** PVE booleans are '1' and '0' (it rejects 'true'); undefined parameters are left out. */
export function encodeParams(params: PveParams = {}): URLSearchParams {
  const out = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    out.append(k, typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
  }
  return out;
}

export function createPveHttp(options: PveHttpOptions): PveHttp {
  const base = new URL(options.url);
  if (base.protocol !== 'https:') throw new AgentError('InvalidRequest', `Proxmox URL must be https:// (got ${options.url})`);
  const pinned = normalizeFingerprint(options.fingerprint256);
  if (pinned.length !== 64) {
    throw new AgentError('InvalidRequest', `Proxmox certificate fingerprint must be a SHA-256 fingerprint (64 hex digits), got ${pinned.length} digits`);
  }
  if (!/^[^@!\s]+@[^@!\s]+![A-Za-z][A-Za-z0-9._-]*$/.test(options.tokenId)) {
    throw new AgentError('InvalidRequest', `Proxmox token id must look like USER@REALM!TOKENID (got '${options.tokenId}')`);
  }
  const timeoutMs = options.timeoutMs ?? 30_000;
  const cooldown = options.authCooldownMs ?? 300_000;
  const now = options.now ?? Date.now;
  let authFailure: { at: number; error: AgentError } | undefined;

  const createConnection = (_opts: unknown, done: (err: Error | null, socket?: Duplex) => void): undefined => {
    const socket: TLSSocket = connect({
      host: base.hostname,
      port: Number(base.port || 8006),
      servername: /^[\d.]+$|:/.test(base.hostname) ? undefined : base.hostname,
      // The chain is not checked against public CAs: the pinned fingerprint is the trust anchor.
      rejectUnauthorized: false,
    });
    socket.once('secureConnect', () => {
      const seen = normalizeFingerprint(socket.getPeerCertificate().fingerprint256 ?? '');
      if (seen !== pinned) {
        socket.destroy();
        done(
          new AgentError(
            'ProxmoxCertificateMismatch',
            `the certificate of ${base.host} has SHA-256 fingerprint ${seen.match(/../g)?.join(':')}, not the pinned ${pinned.match(/../g)?.join(':')}: refusing to send the API token. If the node certificate was renewed, pin the new fingerprint (pvenode cert info).`,
          ),
        );
        return;
      }
      done(null, socket);
    });
    socket.once('error', (err) => done(err));
    return undefined;
  };

  async function call<T>(method: PveMethod, path: string, params?: PveParams): Promise<T> {
    if (authFailure && now() - authFailure.at < cooldown) throw authFailure.error;
    const encoded = encodeParams(params);
    const hasBody = method === 'POST' || method === 'PUT';
    const query = !hasBody && [...encoded].length > 0 ? `?${encoded.toString()}` : '';
    const body = hasBody ? encoded.toString() : '';
    const headers: Record<string, string> = { authorization: `PVEAPIToken=${options.tokenId}=${options.tokenSecret}`, accept: 'application/json' };
    if (hasBody) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    const req: RequestOptions = { method, path: `/api2/json${path}${query}`, headers, createConnection: createConnection as RequestOptions['createConnection'] };
    const { status, reason, text } = await new Promise<{ status: number; reason: string; text: string }>((resolve, reject) => {
      const r = request(req, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > 16 * 1024 * 1024) r.destroy(new Error('response larger than 16 MiB'));
          else chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, reason: res.statusMessage ?? '', text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      r.setTimeout(timeoutMs, () => r.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      r.on('error', reject);
      r.end(body);
    }).catch((err: unknown) => {
      if (err instanceof AgentError) throw err;
      throw new AgentError('ProxmoxUnreachable', `cannot reach Proxmox at ${base.host} (${method} ${path}): ${(err as Error).message}`, { cause: err });
    });
    let parsed: { data?: unknown; errors?: Record<string, string> } = {};
    try {
      parsed = text ? (JSON.parse(text) as typeof parsed) : {};
    } catch {
      if (status === 200) throw new AgentError('ProxmoxUnreachable', `Proxmox at ${base.host} answered ${method} ${path} with something that is not JSON`);
    }
    if (status === 200) return parsed.data as T;
    const error = classifyPveError({ status, reason, errors: parsed.errors, method, path, tokenId: options.tokenId, host: base.host });
    if (status === 401) authFailure = { at: now(), error };
    throw error;
  }

  return { call, tokenId: options.tokenId };
}
