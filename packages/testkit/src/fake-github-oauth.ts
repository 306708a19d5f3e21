/**
 * A strict fake of signing in with GitHub (the OAuth web flow of a GitHub App's client), on loopback: the authorize
 * page (which, standing in for the person clicking "Authorize", sends the browser straight back with a code), the
 * code exchange, and the REST calls a sign-in makes with the user's token (`GET /user`, `/user/installations`,
 * `/user/memberships/orgs/{org}`), each checked against GitHub's published REST description. Wrong client ids,
 * secrets, redirect URIs or codes get the answers GitHub documents (a 200 with `error`, or 401 for a bad token).
 *
 * Against real GitHub nothing here is needed: GITHUB_OAUTH_URL defaults to https://github.com.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadOpenApiIndex } from './fake-github/openapi-index.js';

export interface FakeOAuthUser {
  id: number;
  login: string;
  name?: string | null;
  /** Installations the user can reach (`GET /user/installations`). */
  installations?: { id: number; account: { login: string; type: 'User' | 'Organization' } }[];
  /** Their role per GitHub organization (`admin` or `member`). */
  organizations?: Record<string, 'admin' | 'member'>;
}

export interface FakeGitHubOAuth {
  url: string;
  /** The user the next authorize request signs in as (the person at the browser). */
  signInAs(user: FakeOAuthUser): void;
  /** Requests the fake refused, as `METHOD path: why`; tests assert what they expect here. */
  refused: string[];
  close(): Promise<void>;
}

const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
};

async function readBody(req: IncomingMessage): Promise<Record<string, string>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > 64 * 1024) throw new Error('body too large');
    chunks.push(c as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const type = req.headers['content-type'] ?? '';
  if (type.includes('application/json')) return JSON.parse(text || '{}') as Record<string, string>;
  return Object.fromEntries(new URLSearchParams(text));
}

export async function startFakeGitHubOAuth(options: { clientId: string; clientSecret: string }): Promise<FakeGitHubOAuth> {
  const openapi = loadOpenApiIndex();
  let current: FakeOAuthUser | null = null;
  const codes = new Map<string, { user: FakeOAuthUser; redirectUri: string; expires: number }>();
  const tokens = new Map<string, FakeOAuthUser>();
  const refused: string[] = [];
  const refuse = (req: IncomingMessage, why: string) => refused.push(`${req.method} ${req.url?.split('?')[0]}: ${why}`);

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      if (req.method === 'GET' && url.pathname === '/login/oauth/authorize') {
        const redirect = url.searchParams.get('redirect_uri');
        const state = url.searchParams.get('state');
        if (url.searchParams.get('client_id') !== options.clientId) {
          refuse(req, 'unknown client_id');
          res.writeHead(404, { 'content-type': 'text/html' }).end('<p>Not Found</p>');
          return;
        }
        if (!redirect || !/^https?:\/\//.test(redirect) || !state || !current) {
          refuse(req, !current ? 'no user at the browser' : 'missing redirect_uri or state');
          res.writeHead(400, { 'content-type': 'text/html' }).end('<p>The redirect_uri is not valid</p>');
          return;
        }
        const code = randomBytes(10).toString('hex');
        codes.set(code, { user: current, redirectUri: redirect, expires: Date.now() + 600_000 });
        const back = new URL(redirect);
        back.searchParams.set('code', code);
        back.searchParams.set('state', state);
        res.writeHead(302, { location: back.toString() }).end();
        return;
      }
      if (req.method === 'POST' && url.pathname === '/login/oauth/access_token') {
        const body = await readBody(req);
        if (body.client_id !== options.clientId || body.client_secret !== options.clientSecret) {
          refuse(req, 'incorrect client credentials');
          return send(res, 200, { error: 'incorrect_client_credentials', error_description: 'The client_id and/or client_secret passed are incorrect.' });
        }
        const grant = body.code ? codes.get(body.code) : undefined;
        if (!grant || grant.expires < Date.now() || grant.redirectUri !== body.redirect_uri) {
          refuse(req, 'bad verification code');
          return send(res, 200, { error: 'bad_verification_code', error_description: 'The code passed is incorrect or expired.' });
        }
        codes.delete(body.code ?? '');
        const token = `ghu_${randomBytes(18).toString('hex')}`;
        tokens.set(token, grant.user);
        return send(res, 200, { access_token: token, token_type: 'bearer', scope: '' });
      }
      // The REST calls made with the user's token: only operations GitHub describes.
      const operation = openapi.match(req.method ?? 'GET', url.pathname);
      if (!operation) {
        refuse(req, 'not an operation of the GitHub REST API');
        return send(res, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
      }
      const token = /^(?:Bearer|token)\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
      const user = token ? tokens.get(token) : undefined;
      if (!user) {
        refuse(req, 'bad credentials');
        return send(res, 401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' });
      }
      switch (operation.operationId) {
        case 'users/get-authenticated':
          return send(res, 200, { id: user.id, login: user.login, name: user.name ?? null, type: 'User' });
        case 'apps/list-installations-for-authenticated-user': {
          const all = user.installations ?? [];
          const perPage = Math.min(100, Number(url.searchParams.get('per_page') ?? 30));
          const page = Math.max(1, Number(url.searchParams.get('page') ?? 1));
          return send(res, 200, { total_count: all.length, installations: all.slice((page - 1) * perPage, page * perPage) });
        }
        case 'orgs/get-membership-for-authenticated-user': {
          const role = user.organizations?.[operation.params.org ?? ''];
          if (!role) return send(res, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
          return send(res, 200, { state: 'active', role, organization: { login: operation.params.org } });
        }
        default:
          refuse(req, `${operation.operationId} is not implemented by this fake`);
          return send(res, 501, { message: `${operation.operationId} is not implemented by the fake` });
      }
    })().catch((err: Error) => {
      refuse(req, err.message);
      if (!res.headersSent) send(res, 400, { message: 'Problems parsing JSON' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    signInAs: (user) => {
      current = user;
    },
    refused,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
