/**
 * Agents: each pool, its agents' liveness (connected, stale, offline) and last contact, and the environments it runs
 * with their versions. Until the agents API answers, pools come from the environments' targets (`agent:<pool>`) and
 * liveness says it is not known yet.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { pagePath } from '../../page-paths.js';
import { api, ApiError } from '../api.js';
import { ErrorPanel } from '../components/error-panel.js';
import { StateBadge } from '../components/state-badge.js';
import { useApp } from '../context.js';
import { ago, poolOf, shortSha } from '../format.js';
import { useStore } from '../store.js';

interface AgentRow {
  id?: number | string;
  name?: string;
  pool?: string;
  status?: string;
  liveness?: string;
  lastSeenAt?: string | null;
  version?: string | null;
}

export function AgentsPage() {
  const { store } = useApp();
  const environments = useStore(store, (s) => s.environments);
  const [agents, setAgents] = useState<AgentRow[] | null>(null);
  const [unavailable, setUnavailable] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    api<{ items?: AgentRow[] } | AgentRow[]>('GET', '/api/v1/agents')
      .then((r) => setAgents(Array.isArray(r) ? r : (r.items ?? [])))
      .catch((err) => {
        if (err instanceof ApiError && err.code === 'not-implemented') setUnavailable(err.detail || err.title);
        else setError(err);
      });
  }, []);
  const pools = useMemo(() => {
    const map = new Map<string, typeof list>();
    const list = [...environments.values()];
    for (const e of list) {
      const pool = poolOf(e.target);
      if (pool === null) continue;
      map.set(pool, [...(map.get(pool) ?? []), e]);
    }
    for (const a of agents ?? []) if (a.pool && !map.has(a.pool)) map.set(a.pool, []);
    return [...map.entries()].sort(([a], [b]) => a.localeCompare(b));
  }, [environments, agents]);

  return (
    <section aria-labelledby="agents-title">
      <div class="page-head">
        <h1 id="agents-title">Agents</h1>
      </div>
      {error ? <ErrorPanel error={error} what="Could not read agents" /> : null}
      {unavailable ? (
        <p class="notice" role="note">
          Agent liveness is not available on this server yet ({unavailable}). Pools below come from the environments that run on them.
        </p>
      ) : null}
      {pools.length === 0 ? <p class="empty">No agent pools: no environment runs on an agent (target <code>agent:&lt;pool&gt;</code> in wharf.yaml).</p> : null}
      {pools.map(([pool, envs]) => {
        const members = (agents ?? []).filter((a) => a.pool === pool);
        return (
          <section class="panel" key={pool} aria-labelledby={`pool-${pool}`}>
            <h2 id={`pool-${pool}`}>Pool {pool}</h2>
            <h3>Agents</h3>
            {members.length === 0 ? (
              <p class="muted">{unavailable ? 'Liveness unknown until the agents API answers.' : 'No agent has registered in this pool.'}</p>
            ) : (
              <ul class="plain">
                {members.map((a) => (
                  <li key={String(a.id ?? a.name)}>
                    <strong>{a.name ?? a.id}</strong> — {a.liveness ?? a.status ?? 'unknown'}, last seen {ago(a.lastSeenAt ?? null)}
                    {a.version ? ` · agent ${a.version}` : ''}
                  </li>
                ))}
              </ul>
            )}
            <h3>Environments</h3>
            {envs.length === 0 ? (
              <p class="muted">none</p>
            ) : (
              <ul class="plain">
                {envs.map((e) => (
                  <li key={e.id}>
                    <a href={pagePath('environment', { id: e.id })}>
                      {e.app}/{e.name}
                    </a>{' '}
                    <code>{shortSha(e.version.running)}</code> <StateBadge word={e.state.word} text={e.state.text} />
                  </li>
                ))}
              </ul>
            )}
          </section>
        );
      })}
    </section>
  );
}
