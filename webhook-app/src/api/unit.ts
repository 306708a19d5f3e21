/**
 * The REST API as a control-plane unit, always mounted at `/api/v1`: organizations, members, keys, repositories,
 * environments, versions, rollbacks, the audit log, live events and sessions. Beside its routes: the live-update
 * hub (LISTEN), the key cache's revocation listener, the batched writes of keys' last use, and the prune of
 * Idempotency-Keys past their 24 hours.
 */
import { agentPolicyFrom, API_PREFIX, API_ROUTES, type SettingsOf } from '@wharf/contracts';
import { apiKeys, idempotency, listen, organizations } from '@wharf/store';
import type { UnitFactory } from '../units.js';
import { createApiPlugin } from './api-plugin.js';
import { createGitHubSignIn } from './auth/github-sign-in.js';
import { createRateLimiter } from './http/rate-limit.js';
import { createKeyCache } from './auth/key-cache.js';
import { refuseOrganizationWide } from './auth/organization-wide.js';
import { loadPepper } from './auth/secrets.js';
import type { ApiDeps } from './deps.js';
import type { Handler } from './handler.js';
import { createLiveHub } from './live/live-hub.js';
import { createRollbackPort } from './rollback.js';
import { billingHandlers } from '../billing/api-handlers.js';
import { billingServiceFromSettings } from '../billing/unit.js';
import { agentHandlers } from './routes/agents.js';
import { auditHandlers } from './routes/audit.js';
import { docsHandlers } from './routes/docs.js';
import { environmentHandlers } from './routes/environments.js';
import { eventHandlers } from './routes/events.js';
import { keyHandlers } from './routes/keys.js';
import { organizationHandlers } from './routes/organizations.js';
import { repositoryHandlers } from './routes/repositories.js';
import { sessionHandlers } from './routes/sessions.js';
import { oauthBaseUrl, type apiSettings } from './settings.js';

/**
 * Every operation's handler, by operationId: one explicit registry, checked against contracts' API_ROUTES. Keys limited
 * to repositories are refused the organization-wide permissions here, for every route at once.
 */
export const API_HANDLERS = refuseOrganizationWide({
  ...organizationHandlers,
  ...keyHandlers,
  ...repositoryHandlers,
  ...environmentHandlers,
  ...auditHandlers,
  ...eventHandlers,
  ...agentHandlers,
  ...sessionHandlers,
  ...docsHandlers,
  ...billingHandlers,
} satisfies Record<string, Handler>);

const PRUNE_EVERY_MS = 10 * 60_000;
const PRUNE_BATCH = 1_000;
const PRUNE_BATCHES = 20;

export const apiUnit: UnitFactory = async ({ pool, log, settings, dataDir, databaseUrl, services }) => {
  const s = settings as typeof settings & SettingsOf<typeof apiSettings>;
  const missing = API_ROUTES.filter((r) => !(r.operationId in API_HANDLERS)).map((r) => r.operationId);
  if (missing.length > 0) throw new Error(`the API has no handler for ${missing.join(', ')}`);
  // And the other way: a handler whose route is not declared would never be reachable (a merge once dropped three).
  const routed = new Set(API_ROUTES.map((r) => r.operationId));
  const unrouted = Object.keys(API_HANDLERS).filter((id) => !routed.has(id));
  if (unrouted.length > 0) throw new Error(`the API has handlers without a route in contracts' API_ROUTES: ${unrouted.join(', ')}`);
  const pepper = await loadPepper(s.WHARF_API_PEPPER, dataDir);
  const keys = createKeyCache(pool);
  const url = databaseUrl ?? s.DATABASE_URL;
  const live = url ? createLiveHub({ pool, databaseUrl: url, log: log.child({ component: 'live' }), agentLiveness: agentPolicyFrom(s) }) : null;
  const revocations = url ? listen(url, [apiKeys.API_KEYS_CHANNEL], (_c, id) => keys.forget(Number(id)), log, () => keys.clear()) : null;
  const localOwner = s.WHARF_API_LOCAL_OWNER ? await organizations.ensureLocalOwner(pool) : null;
  const deps: ApiDeps = {
    pool,
    log,
    pepper,
    keys,
    limiter: createRateLimiter({ pool, log }),
    used: new Set(),
    localOwner,
    live,
    logs: services?.environmentLogs ?? null,
    rollback: createRollbackPort({ pool }),
    github:
      s.GITHUB_CLIENT_ID && s.GITHUB_CLIENT_SECRET
        ? createGitHubSignIn({ clientId: s.GITHUB_CLIENT_ID, clientSecret: s.GITHUB_CLIENT_SECRET, oauthUrl: oauthBaseUrl(s), apiUrl: s.GITHUB_API_URL })
        : null,
    sessionHours: s.WHARF_SESSION_HOURS,
    agentLiveness: agentPolicyFrom(s),
    cookieSecure: s.WHARF_COOKIE_SECURE,
    billing: billingServiceFromSettings({ pool, log: log.child({ component: 'billing' }), settings }),
  };
  const flushUsed = async () => {
    const ids = [...deps.used];
    deps.used.clear();
    await apiKeys.touchApiKeys(pool, ids).catch((err) => log.warn({ err }, 'could not record when keys were last used'));
  };
  /** Bounded: at most PRUNE_BATCH rows per batch and PRUNE_BATCHES batches per run; what is left waits for the next run. */
  const pruneIdempotency = async () => {
    try {
      for (let i = 0; i < PRUNE_BATCHES; i++) if ((await idempotency.pruneIdempotencyKeysOfEveryTenant(pool, PRUNE_BATCH)) < PRUNE_BATCH) return;
    } catch (err) {
      log.warn({ err }, 'could not prune idempotency keys');
    }
  };
  let flusher: NodeJS.Timeout | undefined;
  let pruner: NodeJS.Timeout | undefined;
  return {
    name: 'api',
    prefix: API_PREFIX,
    plugin: createApiPlugin(deps, API_HANDLERS, pepper.toString('base64')),
    start: () => {
      flusher = setInterval(() => void flushUsed(), 5_000);
      flusher.unref();
      deps.limiter.start();
      void pruneIdempotency();
      pruner = setInterval(() => void pruneIdempotency(), PRUNE_EVERY_MS);
      pruner.unref();
    },
    stop: async () => {
      if (flusher) clearInterval(flusher);
      if (pruner) clearInterval(pruner);
      await flushUsed();
      await deps.limiter.stop();
      await revocations?.close();
      await live?.close();
    },
  };
};
