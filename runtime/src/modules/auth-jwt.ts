import { readFile, stat } from 'node:fs/promises';
import type { ModuleSpec, RouteSpec } from '../config/app-config.js';
import type { HttpAnswer, HttpGuard, HttpRequest, RouteTable } from '../http/http-types.js';
import { parseDuration } from '../config/parse-duration.js';
import { type ModuleDeps, type RuntimeModule, whereInModule } from './module.js';

/** Users a seed file may hold (each costs a bcrypt hash at start). */
const MAX_SEED_USERS = 100;
/** Users kept in memory; registrations past it are refused. */
const MAX_USERS = 10_000;
const MAX_SEED_BYTES = 1024 * 1024;

type User = { id: string; email: string; name: string; passwordHash: string; metadata: Record<string, unknown>; createdAt: string };

export type JwtAuth = RuntimeModule & {
  /** Verifies a bearer token; resolves to its claims, or null when the token is missing, bad or expired. */
  authenticate(token: string): Promise<Record<string, unknown> | null>;
  /** As a route middleware: 401 without a valid bearer token. */
  guard: HttpGuard;
};

export function isJwtAuth(m: RuntimeModule | undefined): m is JwtAuth {
  return !!m && typeof (m as Partial<JwtAuth>).authenticate === 'function';
}

type Action = 'register' | 'login' | 'profile' | 'me';

/** auth.jwt: register, login and profile handlers over an in-memory user store, HS256 tokens, bcrypt hashes. */
export async function createJwtAuth(spec: ModuleSpec, deps: ModuleDeps): Promise<JwtAuth> {
  const cfg = spec.config;
  const secret = typeof cfg.secret === 'string' ? cfg.secret : '';
  if (!secret) throw new Error(`module ${spec.name} (auth.jwt): config.secret is required (it may read \${ENV})`);
  const [{ SignJWT, jwtVerify }, bcryptMod] = await Promise.all([import('jose'), import('bcryptjs')]);
  const bcrypt = bcryptMod.default;
  const key = new TextEncoder().encode(secret);
  const issuer = typeof cfg.issuer === 'string' ? cfg.issuer : 'workflow';
  const expiryMs = parseDuration(cfg.tokenExpiry ?? '24h') ?? 86_400_000;
  const allowRegistration = cfg.allowRegistration !== false;
  const users = new Map<string, User>();
  let nextId = 1;

  if (typeof cfg.seedFile === 'string') {
    // The seed file is confined like every path (a refusal stops the start); a missing or malformed one is logged.
    const seedPath = deps.paths.readable(cfg.seedFile, spec.dir, whereInModule(spec, 'seedFile'));
    try {
      if ((await stat(seedPath)).size > MAX_SEED_BYTES) throw new Error(`the seed file is larger than ${MAX_SEED_BYTES} bytes`);
      const parsed = JSON.parse(await readFile(seedPath, 'utf8')) as unknown;
      const seeds = (Array.isArray(parsed) ? parsed : []) as { id?: string; data?: Record<string, unknown> }[];
      if (seeds.length > MAX_SEED_USERS) throw new Error(`the seed file holds more than ${MAX_SEED_USERS} users`);
      for (const seed of seeds) {
        const data = seed.data ?? {};
        const email = typeof data.email === 'string' ? data.email : '';
        if (!email || users.has(email)) continue;
        const { email: _e, name, password, ...metadata } = data;
        const id = seed.id ?? String(nextId);
        users.set(email, {
          id,
          email,
          name: typeof name === 'string' ? name : '',
          passwordHash: await bcrypt.hash(typeof password === 'string' ? password : 'changeme', 10),
          metadata,
          createdAt: new Date().toISOString(),
        });
        if (Number(id) >= nextId) nextId = Number(id) + 1;
      }
    } catch (err) {
      deps.log.warn({ err, module: spec.name }, 'auth seed file not loaded');
    }
  }

  const publicUser = (u: User) => ({ id: u.id, email: u.email, name: u.name, createdAt: u.createdAt, ...u.metadata });

  const sign = (u: User) => {
    const claims: Record<string, unknown> = { email: u.email, name: u.name };
    if (typeof u.metadata.role === 'string') claims.role = u.metadata.role;
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(u.id)
      .setIssuer(issuer)
      .setIssuedAt()
      .setExpirationTime(Math.floor((Date.now() + expiryMs) / 1000))
      .sign(key);
  };

  async function authenticate(token: string): Promise<Record<string, unknown> | null> {
    if (!token) return null;
    try {
      const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'] });
      return payload as Record<string, unknown>;
    } catch {
      return null;
    }
  }

  const bodyOf = (req: HttpRequest): Record<string, unknown> | null =>
    req.body && typeof req.body === 'object' && !Array.isArray(req.body) ? (req.body as Record<string, unknown>) : null;

  async function userFromRequest(req: HttpRequest): Promise<User | string> {
    const header = req.headers.authorization ?? '';
    if (!header) return 'authorization header required';
    if (!header.startsWith('Bearer ')) return 'bearer token required';
    const claims = await authenticate(header.slice(7));
    if (!claims) return 'invalid token';
    const user = typeof claims.email === 'string' ? users.get(claims.email) : undefined;
    return user ?? 'user not found';
  }

  async function handle(action: Action, req: HttpRequest): Promise<HttpAnswer> {
    if (action === 'register') {
      const b = bodyOf(req);
      if (!b) return { status: 400, body: { error: 'invalid request body' } };
      const email = typeof b.email === 'string' ? b.email.trim() : '';
      const password = typeof b.password === 'string' ? b.password : '';
      if (!email || !password) return { status: 400, body: { error: 'email and password are required' } };
      if (!allowRegistration) return { status: 403, body: { error: 'registration is closed' } };
      if (users.has(email)) return { status: 409, body: { error: 'user already exists' } };
      if (users.size >= MAX_USERS) return { status: 403, body: { error: 'registration is closed: the user limit is reached' } };
      const user: User = {
        id: String(nextId++),
        email,
        name: typeof b.name === 'string' ? b.name : '',
        passwordHash: await bcrypt.hash(password, 10),
        metadata: {},
        createdAt: new Date().toISOString(),
      };
      users.set(email, user);
      return { status: 201, body: { token: await sign(user), user: publicUser(user) } };
    }
    if (action === 'login') {
      const b = bodyOf(req);
      if (!b) return { status: 400, body: { error: 'invalid request body' } };
      const user = typeof b.email === 'string' ? users.get(b.email) : undefined;
      const ok = user && typeof b.password === 'string' && (await bcrypt.compare(b.password, user.passwordHash));
      if (!user || !ok) return { status: 401, body: { error: 'invalid credentials' } };
      return { status: 200, body: { token: await sign(user), user: publicUser(user) } };
    }
    const user = await userFromRequest(req);
    if (typeof user === 'string') return { status: 401, body: { error: user } };
    if (req.method === 'PUT') {
      const b = bodyOf(req);
      if (!b) return { status: 400, body: { error: 'invalid request body' } };
      if (typeof b.name === 'string' && b.name) user.name = b.name;
    }
    return { status: 200, body: publicUser(user) };
  }

  function actionFor(method: string, path: string): Action | null {
    const p = path.replace(/\/+$/, '');
    if (method === 'POST' && p.endsWith('/register')) return 'register';
    if (method === 'POST' && p.endsWith('/login')) return 'login';
    if ((method === 'GET' || method === 'PUT') && (p.endsWith('/profile') || p.endsWith('/me'))) return 'profile';
    return null;
  }

  function register(table: RouteTable, method: string, path: string) {
    const action = actionFor(method, path);
    if (!action) throw new Error(`module ${spec.name} (auth.jwt) has no handler for ${method} ${path} (register, login, profile, me)`);
    table.add(method, path, (req) => handle(action, req));
  }

  return {
    name: spec.name,
    type: spec.type,
    authenticate,
    async guard(req) {
      const h = req.headers.authorization ?? '';
      return h.startsWith('Bearer ') && (await authenticate(h.slice(7))) ? null : { status: 401, body: { error: 'unauthorized' } };
    },
    registerRoutes(table: RouteTable, routes: readonly RouteSpec[]) {
      const mine = routes.filter((r) => r.handler === spec.name);
      if (mine.length) for (const r of mine) register(table, r.method, r.path);
      else
        for (const [m, p] of [['POST', '/auth/register'], ['POST', '/auth/login'], ['GET', '/auth/profile'], ['PUT', '/auth/profile']] as const)
          register(table, m, p);
    },
  };
}
