/**
 * A strict fake of api.github.com on loopback. Every request is matched against GitHub's OpenAPI description:
 * an unknown method or path answers 404, a body that does not match the operation's schema 422, a missing or wrong
 * credential 401, as GitHub does. The operations Wharf uses keep state, so tests read the pull request as a user
 * would see it; a described operation the fake does not implement answers 501 and is listed in `problems`.
 *
 * Against real GitHub nothing here is needed: point GITHUB_API_URL at https://api.github.com.
 */
import { createPublicKey, randomBytes, verify, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadOpenApiIndex, type MatchedOperation } from './openapi-index.js';
import { FakeGitHubState, type FakeInstallation } from './state.js';
import { operations, type OperationContext, type Reply } from './operations.js';

export interface FakeGitHubOptions {
  appId: number;
  /** The App's public key (PEM), to check the JWTs Probot signs with the private key. */
  publicKey: string | KeyObject;
  installations?: FakeInstallation[];
  /** Seconds an installation token lives (GitHub: 3600). */
  tokenTtlSeconds?: number;
  /** The App's slug (default `wharf`): its comments are by the bot user `<slug>[bot]`. */
  appSlug?: string;
}

export type Fault =
  | { kind: 'server-error'; status?: 500 | 502 | 503 }
  | { kind: 'rate-limit'; resetInSeconds?: number }
  | { kind: 'secondary-rate-limit'; retryAfterSeconds?: number };

export interface FaultRule {
  fault: Fault;
  /** How many matching requests fail (default 1). */
  times?: number;
  method?: string;
  /** Matches the path template, e.g. /repos/{owner}/{repo}/issues/{issue_number}/comments. */
  template?: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  operationId: string | null;
  status: number;
  body: unknown;
  at: number;
}

export interface FakeGitHub {
  url: string;
  state: FakeGitHubState;
  requests: RecordedRequest[];
  /** Requests the fake could not serve although GitHub would have (not implemented here). Tests assert it is empty. */
  problems: string[];
  inject(rule: FaultRule): void;
  close(): Promise<void>;
}

const DOCS = 'https://docs.github.com/rest';

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'x-github-media-type': 'github.v3', ...headers });
  res.end(text);
}

const b64url = (s: string) => Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');

/** Checks an App JWT (RS256, iss = app id, at most 10 minutes long, not expired) as GitHub does. */
function verifyAppJwt(token: string, appId: number, key: KeyObject): string | null {
  const [h, p, s] = token.split('.');
  if (!h || !p || !s) return 'A JSON web token could not be decoded';
  try {
    const header = JSON.parse(b64url(h).toString('utf8')) as { alg?: string };
    if (header.alg !== 'RS256') return "'alg' must be RS256";
    if (!verify('RSA-SHA256', Buffer.from(`${h}.${p}`), key, b64url(s))) return 'A JSON web token could not be decoded';
    const claims = JSON.parse(b64url(p).toString('utf8')) as { iss?: string | number; iat?: number; exp?: number };
    const now = Math.floor(Date.now() / 1000);
    if (String(claims.iss) !== String(appId)) return "'Issuer' claim ('iss') must be an Integer";
    if (!claims.exp || claims.exp < now) return "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires";
    if (!claims.iat || claims.iat > now + 60 || claims.exp - claims.iat > 600) return "'Expiration time' claim ('exp') is too far in the future";
    return null;
  } catch {
    return 'A JSON web token could not be decoded';
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startFakeGitHub(options: FakeGitHubOptions): Promise<FakeGitHub> {
  const index = loadOpenApiIndex();
  const state = new FakeGitHubState();
  for (const inst of options.installations ?? []) state.addInstallation(inst);
  const key = typeof options.publicKey === 'string' ? createPublicKey(options.publicKey) : options.publicKey;
  const faults: (FaultRule & { left: number })[] = [];
  const requests: RecordedRequest[] = [];
  const problems: string[] = [];
  const ttl = options.tokenTtlSeconds ?? 3600;

  const applyFault = (op: MatchedOperation, res: ServerResponse): boolean => {
    const rule = faults.find(
      (f) => f.left > 0 && (!f.method || f.method === op.method) && (!f.template || f.template === op.template),
    );
    if (!rule) return false;
    rule.left -= 1;
    const f = rule.fault;
    if (f.kind === 'server-error') {
      sendJson(res, f.status ?? 502, { message: 'Server Error' });
    } else if (f.kind === 'rate-limit') {
      const reset = Math.ceil(Date.now() / 1000) + (f.resetInSeconds ?? 1);
      sendJson(
        res,
        403,
        { message: 'API rate limit exceeded for installation.', documentation_url: `${DOCS}/overview/rate-limits-for-the-rest-api`, status: '403' },
        { 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': '0', 'x-ratelimit-used': '5000', 'x-ratelimit-reset': String(reset) },
      );
    } else {
      sendJson(
        res,
        403,
        { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.', documentation_url: `${DOCS}/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits`, status: '403' },
        { 'retry-after': String(f.retryAfterSeconds ?? 1) },
      );
    }
    return true;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, rec: RecordedRequest): Promise<number> => {
    const url = new URL(req.url ?? '/', 'http://fake-github');
    const method = (req.method ?? 'GET').toUpperCase();
    const raw = await readBody(req);
    const op = index.match(method, url.pathname);
    rec.operationId = op?.operationId ?? null;
    if (!op) {
      sendJson(res, 404, { message: 'Not Found', documentation_url: DOCS, status: '404' });
      return 404;
    }
    // Authentication: /app/* takes the App's JWT, /app-manifests/* nothing, everything else an installation token.
    const auth = req.headers.authorization ?? '';
    const [scheme, credential] = auth.split(' ');
    let installation: FakeInstallation | undefined;
    if (op.template.startsWith('/app-manifests/')) {
      // The code in the URL is the credential.
    } else if (op.template === '/app' || op.template.startsWith('/app/')) {
      const problem = scheme?.toLowerCase() === 'bearer' && credential ? verifyAppJwt(credential, options.appId, key) : 'Bad credentials';
      if (problem) {
        sendJson(res, 401, { message: problem, documentation_url: DOCS, status: '401' });
        return 401;
      }
    } else {
      const t = credential ? state.tokens.get(credential) : undefined;
      if (!t || t.expiresAt < Date.now() || !['token', 'bearer'].includes(scheme?.toLowerCase() ?? '')) {
        sendJson(res, 401, { message: 'Bad credentials', documentation_url: DOCS, status: '401' });
        return 401;
      }
      installation = state.installations.get(t.installationId);
      const repo = op.params.owner && op.params.repo ? `${op.params.owner}/${op.params.repo}` : undefined;
      if (repo && installation && installation.repositories.length > 0 && !installation.repositories.includes(repo)) {
        sendJson(res, 404, { message: 'Not Found', documentation_url: DOCS, status: '404' });
        return 404;
      }
    }
    let body: unknown;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw);
        rec.body = body;
      } catch {
        sendJson(res, 400, { message: 'Problems parsing JSON', documentation_url: DOCS, status: '400' });
        return 400;
      }
    }
    if (op.validateBody && (body !== undefined || op.bodyRequired)) {
      const errors = op.validateBody(body ?? {});
      if (errors) {
        const detail = errors.map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`).join('\n');
        sendJson(res, 422, { message: `Invalid request.\n\n${detail}`, documentation_url: DOCS, status: '422' });
        return 422;
      }
    }
    if (applyFault(op, res)) return res.statusCode;
    const impl = operations[op.operationId];
    if (!impl) {
      problems.push(`${method} ${url.pathname} (${op.operationId}) is not implemented by the fake`);
      sendJson(res, 501, { message: `fake GitHub does not implement ${op.operationId}` });
      return 501;
    }
    const ctx: OperationContext = {
      state,
      params: op.params,
      query: url.searchParams,
      body: (body ?? {}) as Record<string, unknown>,
      installation,
      baseUrl: fake.url,
      app: { id: options.appId, slug: options.appSlug ?? 'wharf' },
      issueToken: (installationId: number) => {
        const token = `ghs_${randomBytes(18).toString('hex')}`;
        const expiresAt = Date.now() + ttl * 1000;
        state.tokens.set(token, { installationId, expiresAt });
        return { token, expires_at: new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z') };
      },
    };
    const reply: Reply = impl(ctx);
    sendJson(res, reply.status, reply.body, reply.headers);
    return reply.status;
  };

  const server: Server = createServer((req, res) => {
    const rec: RecordedRequest = { method: req.method ?? '', path: req.url ?? '', operationId: null, status: 0, body: undefined, at: Date.now() };
    handle(req, res, rec)
      .then((status) => {
        rec.status = status;
        requests.push(rec);
      })
      .catch((err: unknown) => {
        problems.push(`fake GitHub crashed on ${req.method} ${req.url}: ${(err as Error).stack ?? String(err)}`);
        if (!res.headersSent) sendJson(res, 500, { message: 'fake GitHub crashed' });
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const fake: FakeGitHub = {
    url: `http://127.0.0.1:${port}`,
    state,
    requests,
    problems,
    inject: (rule) => faults.push({ ...rule, left: rule.times ?? 1 }),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
  return fake;
}
