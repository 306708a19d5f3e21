/**
 * The agent API as a control-plane unit, mounted at /agent/v1: pull agents register, long-poll their desired
 * documents and report. Beside the routes: a LISTEN on the agents channel (documents changed, credentials revoked),
 * the liveness writer and sweep. Secrets reach agents only by reference, resolved when an agent fetches.
 */
import { AGENT_API_PREFIX, agentPolicyFrom, StartupError } from '@wharf/contracts';
import { AGENTS_CHANNEL, listen, type Listener } from '@wharf/store';
import { Counter, Gauge } from 'prom-client';
import type { UnitFactory } from '../units.js';
import { createAgentAuth } from './agent-auth.js';
import { createDesiredCache } from './desired-cache.js';
import { createLiveness } from './liveness.js';
import { agentRoutes } from './routes.js';
import { noSecrets, type SecretResolver } from './resolve-secrets.js';

export interface AgentApiOptions {
  /** Resolves `secretRef` env vars from a tenant's store when an agent fetches its documents. */
  resolveSecret?: SecretResolver;
  /** How often the liveness times are written (default: a quarter of the stale time, at most 5 s). */
  livenessFlushMs?: number;
}

export function createAgentApiUnit(options: AgentApiOptions = {}): UnitFactory {
  return async ({ pool, log, registry, settings, databaseUrl }) => {
    if (!databaseUrl) throw new StartupError('the agent API needs the database URL for its LISTEN connection');
    const policy = agentPolicyFrom(settings);
    const auth = createAgentAuth(pool);
    const desired = createDesiredCache(pool);
    // Written often enough that an agent that polls is never mistaken for a stale one.
    const flushMs = options.livenessFlushMs ?? Math.min(5_000, Math.max(100, Math.floor(policy.staleAfterMs / 4)));
    const liveness = createLiveness(pool, { log, offlineAfterMs: policy.offlineAfterMs, flushMs, connected: () => desired.heldAgents() });
    const reports = new Counter({ name: 'wharf_agent_reports_total', help: 'Agent status reports, by result.', labelNames: ['result'], registers: [registry] });
    new Gauge({ name: 'wharf_agent_polls_held', help: 'Long-polls the agent API holds right now.', registers: [registry], collect() { this.set(desired.held()); } });
    let listener: Listener | undefined;
    const onNotify = (_channel: string, payload: string | undefined) => {
      const id = Number(payload?.slice(1));
      if (!Number.isSafeInteger(id)) return;
      if (payload?.startsWith('d')) desired.invalidate(id);
      else if (payload?.startsWith('r')) {
        auth.forgetAgent(id);
        desired.invalidate(id);
      }
    };
    return {
      name: 'agent-api',
      prefix: AGENT_API_PREFIX,
      plugin: async (app) => {
        await app.register(agentRoutes, {
          pool,
          auth,
          desired,
          liveness,
          resolveSecret: options.resolveSecret ?? noSecrets,
          holdMs: settings.WHARF_AGENT_POLL_HOLD * 1000,
          ratePerMinute: settings.WHARF_AGENT_RATE_LIMIT,
          onReport: (results) => {
            for (const r of results) reports.inc({ result: r });
          },
        });
      },
      start() {
        listener = listen(databaseUrl, [AGENTS_CHANNEL], onNotify, log, () => {
          // Notifications may have been missed while the connection was down: forget everything cached.
          auth.clear();
          desired.invalidateAll();
        });
        liveness.start();
      },
      async stop() {
        await liveness.stop();
        await listener?.close();
        desired.invalidateAll();
      },
    };
  };
}

export const agentApiUnit: UnitFactory = createAgentApiUnit();
