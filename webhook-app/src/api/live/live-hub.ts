/**
 * Live updates for every open event stream of this process: one LISTEN connection on wharf_live_events (migration
 * 0140's triggers NOTIFY each status change, rollout and deletion), changes gathered for `flushMs`, read once per
 * organization that has listeners, and sent to each of its streams (a stream of a key limited to repositories sees
 * only theirs: an event whose repository is unknown, a rollout of an environment gone meanwhile, is not sent to it).
 * A lost connection tells every stream to refetch (`resync`).
 */
import { type AgentLivenessPolicy, DEFAULT_AGENT_LIVENESS, LIVE_EVENTS, LIVE_EVENTS_CHANNEL } from '@wharf/contracts';
import { agents, type DatabasePool, environmentViews, history, listen } from '@wharf/store';
import type { Logger } from 'pino';
import { agentView, environmentView, rolloutView } from '../views.js';

/** Sends one event to one stream; `json` is the event's data, serialized once for every stream it goes to. */
export type Send = (event: string, json: string) => void;

interface Subscriber {
  tenantId: number;
  repositoryIds: readonly number[] | null;
  send: Send;
}

export interface LiveHub {
  subscribe(input: Subscriber): () => void;
  count(tenantId?: number): number;
  close(): Promise<void>;
}

interface Pending {
  environments: Set<number>;
  rollouts: Set<number>;
  /** Deleted environment id → its repository (null: a payload that did not say). */
  deleted: Map<number, number | null>;
  agents: Set<number>;
}

/**
 * Who an event is for: the streams that may see a repository's rows, the organization's unlimited streams (an event
 * whose repository is unknown: never sent to a stream limited to repositories), or every stream (resync).
 */
type Audience = { repositoryId: number } | 'unlimited' | 'everyone';

const reaches = (s: Subscriber, audience: Audience): boolean =>
  audience === 'everyone' || !s.repositoryIds || (audience !== 'unlimited' && s.repositoryIds.includes(audience.repositoryId));

export function createLiveHub(options: { pool: DatabasePool; databaseUrl: string; log: Logger; flushMs?: number; agentLiveness?: AgentLivenessPolicy }): LiveHub {
  const { pool, log } = options;
  const byTenant = new Map<number, Set<Subscriber>>();
  const pending = new Map<number, Pending>();
  let timer: NodeJS.Timeout | undefined;

  const broadcast = (tenantId: number, event: string, data: unknown, audience: Audience) => {
    let json: string | undefined;
    for (const s of byTenant.get(tenantId) ?? []) {
      if (!reaches(s, audience)) continue;
      json ??= JSON.stringify(data);
      s.send(event, json);
    }
  };
  const ofRepository = (repositoryId: number | null | undefined): Audience => (typeof repositoryId === 'number' ? { repositoryId } : 'unlimited');

  const flush = async () => {
    timer = undefined;
    const work = [...pending];
    pending.clear();
    for (const [tenantId, p] of work) {
      if (!byTenant.get(tenantId)?.size) continue;
      const scope = { tenantId };
      try {
        for (const e of await environmentViews.getEnvironments(pool, scope, [...p.environments])) {
          broadcast(tenantId, LIVE_EVENTS.environment, environmentView(e), ofRepository(e.repository_id));
        }
        for (const id of p.rollouts) {
          const r = await history.getRollout(pool, scope, id);
          if (!r) continue;
          const env = await environmentViews.getEnvironment(pool, scope, r.environment_id);
          broadcast(tenantId, LIVE_EVENTS.rollout, rolloutView(r), ofRepository(env?.repository_id));
        }
        for (const [id, repositoryId] of p.deleted) broadcast(tenantId, LIVE_EVENTS.environmentDeleted, { id }, ofRepository(repositoryId));
        if (p.agents.size > 0) {
          // Agents serve every repository of their pool: only the organization's unlimited streams hear of them.
          const ids = [...p.agents];
          const placed = await agents.listPlacedEnvironments(pool, scope, ids);
          for (const id of ids) {
            const a = await agents.getAgent(pool, scope, id);
            if (a) broadcast(tenantId, LIVE_EVENTS.agent, agentView(a, placed, new Date(), options.agentLiveness ?? DEFAULT_AGENT_LIVENESS), 'unlimited');
          }
        }
      } catch (err) {
        log.warn({ err, tenantId }, 'live update read failed');
      }
    }
  };

  const listener = listen(
    options.databaseUrl,
    [LIVE_EVENTS_CHANNEL],
    (_channel, payload) => {
      const m = /^(\d+):([ehda]):(\d+)(?::(\d+))?$/.exec(payload ?? '');
      if (!m) return;
      const tenantId = Number(m[1]);
      if (!byTenant.get(tenantId)?.size) return;
      let p = pending.get(tenantId);
      if (!p) {
        p = { environments: new Set(), rollouts: new Set(), deleted: new Map(), agents: new Set() };
        pending.set(tenantId, p);
      }
      const id = Number(m[3]);
      if (m[2] === 'e') p.environments.add(id);
      else if (m[2] === 'h') p.rollouts.add(id);
      else if (m[2] === 'a') p.agents.add(id);
      else p.deleted.set(id, m[4] === undefined ? null : Number(m[4]));
      timer ??= setTimeout(() => void flush(), options.flushMs ?? 20);
    },
    log,
    () => {
      for (const [tenantId] of byTenant) broadcast(tenantId, 'resync', { reason: 'the live connection was restored: refetch' }, 'everyone');
    },
  );

  return {
    subscribe(s) {
      let set = byTenant.get(s.tenantId);
      if (!set) {
        set = new Set();
        byTenant.set(s.tenantId, set);
      }
      set.add(s);
      return () => {
        set.delete(s);
        if (set.size === 0) byTenant.delete(s.tenantId);
      };
    },
    count: (tenantId) => (tenantId === undefined ? [...byTenant.values()].reduce((n, s) => n + s.size, 0) : (byTenant.get(tenantId)?.size ?? 0)),
    async close() {
      if (timer) clearTimeout(timer);
      await listener.close();
      byTenant.clear();
    },
  };
}
