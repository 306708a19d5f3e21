/** The environment commands against a remote Wharf's REST API (an API key or a `wharf login` token). */
import type { Plan } from '@wharf/contracts';
import { CommandError, type EnvironmentBackend, type EnvironmentRow, type RolloutRow } from './backend.js';
import type { Remote } from './remote-config.js';

interface ApiEnvironment {
  id: number;
  repositoryId: number;
  app: string;
  name: string;
  kind: 'production' | 'preview';
  target: string;
  version: { running: string | null; runningDigest: string | null; desired: string | null; desiredDigest: string | null };
  generation: number;
  observedGeneration: number;
  url: string | null;
  suspended: boolean;
  deletionRequested: boolean;
  driftMode: 'correct' | 'warn';
  conditions: EnvironmentRow['conditions'];
  createdAt: string;
  updatedAt: string;
  lastReconciledAt: string | null;
}

interface Problem {
  title?: string;
  detail?: string;
  code?: string;
}

/** An API environment in the shape the commands print (the same as the store's). */
const toRow = (e: ApiEnvironment): EnvironmentRow => ({
  id: e.id,
  tenant_id: 0,
  repository_id: e.repositoryId,
  app: e.app,
  name: e.name,
  kind: e.kind,
  target: e.target,
  branch: null,
  pr_number: null,
  generation: e.generation,
  observed_generation: e.observedGeneration,
  desired_digest: e.version.desiredDigest,
  desired_sha: e.version.desired,
  desired_spec: null,
  observed_digest: e.version.runningDigest,
  observed_sha: e.version.running,
  observed_version_id: null,
  observed_spec: null,
  conditions: e.conditions,
  url: e.url,
  suspended: e.suspended,
  drift_mode: e.driftMode,
  deletion_requested: e.deletionRequested,
  failure_count: 0,
  lease_owner: null,
  last_reconciled_at: e.lastReconciledAt,
  created_at: e.createdAt,
  updated_at: e.updatedAt,
});

export function remoteBackend(remote: Remote, options: { fetch?: typeof fetch } = {}): EnvironmentBackend {
  const http = options.fetch ?? fetch;
  const headers: Record<string, string> = {
    authorization: `Bearer ${remote.token}`,
    accept: 'application/json',
    ...(remote.organization ? { 'wharf-organization': remote.organization } : {}),
  };
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    let res: Response;
    try {
      res = await http(`${remote.url}/api/v1${path}`, {
        method,
        headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      throw new CommandError(`cannot reach ${remote.url}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`);
    }
    const text = await res.text();
    const parsed = text ? (JSON.parse(text) as unknown) : undefined;
    if (!res.ok) {
      const p = (parsed ?? {}) as Problem;
      throw new CommandError(`${remote.url}: ${p.detail ?? p.title ?? `HTTP ${res.status}`}${p.code ? ` (${p.code})` : ''}`);
    }
    return parsed as T;
  };
  const all = async (query: string): Promise<EnvironmentRow[]> => {
    const rows: EnvironmentRow[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 1000; i++) {
      const page: { items: ApiEnvironment[]; nextCursor: string | null } = await call('GET', `/environments?limit=100${query}${cursor ? `&cursor=${cursor}` : ''}`);
      rows.push(...page.items.map(toRow));
      cursor = page.nextCursor;
      if (!cursor) break;
    }
    return rows;
  };
  return {
    list: () => all(''),
    find: (name, app) => all(`&name=${encodeURIComponent(name)}${app ? `&app=${encodeURIComponent(app)}` : ''}`),
    async rollouts(env, limit) {
      const page = await call<{ items: (Omit<RolloutRow, 'app' | 'environment'> & Record<string, unknown>)[] }>('GET', `/environments/${env.id}/history?limit=${Math.min(100, Math.max(1, limit))}`);
      return page.items.map((r) => ({
        id: r.id,
        app: env.app,
        environment: env.name,
        generation: r.generation,
        action: r.action,
        result: r.result,
        reason: r.reason,
        message: r.message,
        sha: r.sha,
        subject: r.subject,
        rollback_sha: r.rollbackSha as string | null,
        rollback_subject: r.rollbackSubject as string | null,
        started_at: r.startedAt as string,
        finished_at: r.finishedAt as string | null,
      }));
    },
    diff: async (env) => (await call<{ plan: Plan }>('GET', `/environments/${env.id}/diff`)).plan,
    async setSuspended(env, suspended, reason) {
      await call('POST', `/environments/${env.id}/${suspended ? 'suspend' : 'resume'}`, { reason });
    },
    logs: async (env, o) => ({
      url: `${remote.url}/api/v1/environments/${env.id}/logs?follow=${o.follow ? 1 : 0}${o.lines !== undefined ? `&lines=${o.lines}` : ''}`,
      headers,
    }),
    async rollback(env, version, reason) {
      const r = await call<{ mode: 'commit' | 'pull-request'; commit: string | null; branch: string; toSha: string }>('POST', `/environments/${env.id}/rollback`, { version, reason });
      return r;
    },
    close: async () => undefined,
  };
}
