/**
 * Billing against real Postgres and the fake Stripe: the control-plane server with the REST API and the billing unit
 * listening on loopback (the fake Stripe delivers signed webhooks to it), one Free organization `acme` with an
 * owner, an admin and a viewer.
 */
import { loadSettings } from '@wharf/contracts';
import { billing, freePort, memberships, sessions, users } from '@wharf/store';
import { createTestDatabase, seedRepository, silentLog, startFakeStripe, tempDir, type FakeStripe, type TestDatabase } from '@wharf/testkit';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { Registry } from 'prom-client';
import { hashSecret, newToken } from '../../src/api/auth/secrets.js';
import { apiUnit, billingUnit, buildServer, controlPlaneSettings, STRIPE_WEBHOOK_PATH, type ControlPlaneUnit } from '../../src/index.js';

const PEPPER = 'test-pepper-test-pepper-test-pepper-!';

export interface BillingHarness {
  db: TestDatabase;
  fake: FakeStripe;
  server: FastifyInstance;
  webhookUrl: string;
  webhookSecret: string;
  tenantId: number;
  repositoryId: number;
  tokens: Record<'owner' | 'admin' | 'viewer', string>;
  call(method: InjectOptions['method'], url: string, options?: { token?: string; body?: unknown }): Promise<{ status: number; body: any; headers: Record<string, unknown> }>; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON answers
  /** Until the billing worker has processed every stored event. */
  settle(): Promise<void>;
}

interface Host {
  teardown(fn: () => unknown): void;
  fail(message: string): unknown;
}

export interface BillingHarnessOptions {
  env?: Record<string, string>;
  fake?: Parameters<typeof startFakeStripe>[0];
  /** An existing database and organization (the GitHub harness's); default: a new database with `acme`. */
  existing?: { db: TestDatabase; tenantId: number; repositoryId: number };
}

export async function startBillingHarness(t: Host, options: BillingHarnessOptions = {}): Promise<BillingHarness> {
  const env = options.env ?? {};
  const db = options.existing?.db ?? (await createTestDatabase(t));
  const dir = await tempDir(t, 'wharf-billing-');
  const fake = await startFakeStripe(options.fake ?? {});
  t.teardown(() => fake.close());
  const { tenantId, repositoryId } = options.existing ?? (await seedRepository(db.pool, { tenant: 'acme', kind: 'github', provider: 'github', fullName: 'acme/shop', plan: 'free' }));
  const person = async (login: string, githubId: number, role: 'owner' | 'admin' | 'viewer') => {
    const user = await users.upsertGithubUser(db.pool, { githubId, login, name: login });
    await memberships.addMember(db.pool, { tenantId }, user.id, role);
    const token = newToken('userToken');
    await sessions.createSession(db.pool, { userId: user.id, kind: 'cli', tokenHash: hashSecret(Buffer.from(PEPPER), token), csrfSecret: 'x', ttlSeconds: 3600, userAgent: null, ip: null });
    return token;
  };
  const tokens = { owner: await person('olive', 11, 'owner'), admin: await person('adam', 12, 'admin'), viewer: await person('vera', 13, 'viewer') };
  const port = await freePort();
  const webhookUrl = `http://127.0.0.1:${port}${STRIPE_WEBHOOK_PATH}`;
  const { secret } = fake.webhooks.addEndpoint(webhookUrl);
  const settings = loadSettings(controlPlaneSettings, {
    DATABASE_URL: db.url,
    WHARF_API_PEPPER: PEPPER,
    WHARF_DATA_DIR: dir,
    WHARF_LOG_LEVEL: 'silent',
    WHARF_PUBLIC_URL: 'https://wharf.example',
    STRIPE_SECRET_KEY: fake.secretKey,
    STRIPE_API_URL: fake.url,
    STRIPE_WEBHOOK_SECRET: secret,
    ...env,
  });
  const ctx = { pool: db.pool, log: silentLog, registry: new Registry(), settings, dataDir: dir, databaseUrl: db.url };
  const units = [await apiUnit(ctx), await billingUnit(ctx)].filter((u): u is ControlPlaneUnit => u !== null);
  const server = await buildServer({ log: silentLog, pool: db.pool, registry: new Registry(), version: 'test', units });
  await server.listen({ host: '127.0.0.1', port });
  for (const u of units) u.start?.();
  t.teardown(async () => {
    await server.close();
    for (const u of units) await u.stop?.();
  });
  const call: BillingHarness['call'] = async (method, url, options = {}) => {
    const res = await server.inject({
      method,
      url,
      headers: options.token ? { authorization: `Bearer ${options.token}` } : {},
      ...(options.body !== undefined ? { payload: options.body as object } : {}),
    });
    return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : null, headers: res.headers };
  };
  const settle = async () => {
    await fake.webhooks.flush();
    // The worker runs in this process: wait until nothing stored is left unprocessed (bounded by the test's timeout).
    for (;;) {
      const pending = (await billing.listStripeEvents(db.pool)).filter((e) => !e.processed);
      if (pending.length === 0) return;
      const failed = pending.filter((e) => e.attempts > 0);
      if (failed.length > 0) throw new Error(`stripe events failed: ${failed.map((e) => `${e.type} ${e.id}: ${e.last_error}`).join('; ')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { db, fake, server, webhookUrl, webhookSecret: secret, tenantId, repositoryId, tokens, call, settle };
}
