/**
 * What `wharf agent token …`, `wharf agent list` and `wharf agent revoke` need from a Wharf: the local store (`wharf
 * up` on this machine, or DATABASE_URL), or a remote Wharf through its REST API (`/api/v1/agents`,
 * `/api/v1/agent-tokens`). Both answer in the API's shapes (the local one through the API's own view functions), so
 * the commands print the same either way.
 */
import { type AgentLivenessPolicy, type AgentState, AUDIT_ACTIONS, type RegistrationTokenState } from '@wharf/contracts';
import { agentView, registrationTokenView } from '@wharf/webhook-app';
import { agents, audit, type DatabasePool } from '@wharf/store';
import { CommandError } from './backend.js';
import type { Remote } from './remote-config.js';

export interface AgentTokenRow {
  id: number;
  pool: string;
  state: RegistrationTokenState;
  createdBy: string;
  createdAt: string;
  expiresAt: string;
  revokedAt: string | null;
  uses: number;
  lastUsedAt: string | null;
}

export interface AgentRow {
  id: number;
  name: string;
  pool: string;
  hostname: string | null;
  version: string | null;
  state: AgentState;
  lastSeenAt: string | null;
  createdAt: string;
  revokedAt: string | null;
  activeCredentials: number;
  environments: { id: number; app: string; name: string; applied: boolean }[];
}

export interface AgentAdmin {
  /** Where it acts, for messages: `this machine's Wharf` or the remote's URL. */
  where: string;
  createToken(input: { pool: string; ttlMs: number; reason?: string }): Promise<AgentTokenRow & { token: string }>;
  listTokens(): Promise<AgentTokenRow[]>;
  /** false: no active token of that id in this organization. */
  revokeToken(id: number, reason?: string): Promise<boolean>;
  listAgents(options: { includeRevoked: boolean }): Promise<AgentRow[]>;
  /** false: no active agent of that id in this organization. */
  revokeAgent(id: number, reason?: string): Promise<boolean>;
}

/** On this machine's store, for one tenant, writing the audit log as `actor`. */
export function localAgentAdmin(pool: DatabasePool, scope: { tenantId: number }, options: { actor: string; liveness: AgentLivenessPolicy }): AgentAdmin {
  const entry = (action: (typeof AUDIT_ACTIONS)[keyof typeof AUDIT_ACTIONS], subject: string, reason: string, details: Record<string, unknown> = {}) => ({
    tenantId: scope.tenantId,
    actor: options.actor,
    action,
    subject,
    reason,
    details,
  });
  return {
    where: "this machine's Wharf",
    createToken: ({ pool: agentPool, ttlMs, reason }) =>
      pool.transaction(async (tx) => {
        const made = await agents.createRegistrationToken(tx, scope, { pool: agentPool, ttlMs, createdBy: options.actor });
        await audit.recordAudit(tx, [
          entry(AUDIT_ACTIONS.agentTokenCreate, `agent-token:${made.row.id}`, reason ?? `wharf agent token create --pool ${agentPool}`, { pool: agentPool, expiresAt: made.row.expires_at }),
        ]);
        return { ...registrationTokenView(made.row, new Date()), token: made.token };
      }),
    listTokens: async () => {
      const now = new Date();
      return (await agents.listRegistrationTokens(pool, scope)).map((r) => registrationTokenView(r, now));
    },
    revokeToken: (id, reason) =>
      pool.transaction(async (tx) => {
        const ok = await agents.revokeRegistrationToken(tx, scope, id);
        if (ok) await audit.recordAudit(tx, [entry(AUDIT_ACTIONS.agentTokenRevoke, `agent-token:${id}`, reason ?? `wharf agent token revoke ${id}`)]);
        return ok;
      }),
    listAgents: async ({ includeRevoked }) => {
      const rows = await agents.listAgents(pool, scope, { includeRevoked });
      const placed = await agents.listPlacedEnvironments(pool, scope, rows.map((a) => a.id));
      const now = new Date();
      return rows.map((a) => agentView(a, placed, now, options.liveness));
    },
    revokeAgent: (id, reason) =>
      pool.transaction(async (tx) => {
        const ok = await agents.revokeAgent(tx, scope, id);
        if (ok) await audit.recordAudit(tx, [entry(AUDIT_ACTIONS.agentRevoke, `agent:${id}`, reason ?? `wharf agent revoke ${id}`)]);
        return ok;
      }),
  };
}

interface Problem {
  title?: string;
  detail?: string;
  code?: string;
}

/** Through a remote Wharf's REST API, with its API key or `wharf login` token (needs `agents:read`/`agents:manage`). */
export function remoteAgentAdmin(remote: Remote, options: { fetch?: typeof fetch } = {}): AgentAdmin {
  const http = options.fetch ?? fetch;
  const headers: Record<string, string> = {
    authorization: `Bearer ${remote.token}`,
    accept: 'application/json',
    ...(remote.organization ? { 'wharf-organization': remote.organization } : {}),
  };
  /** The answer's body, or null for a 404 when `missingOk`. */
  const call = async <T>(method: string, path: string, body?: unknown, missingOk = false): Promise<T | null> => {
    let res: Response;
    try {
      res = await http(`${remote.url}/api/v1${path}`, {
        method,
        headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      const cause = (err as Error).cause;
      throw new CommandError(`cannot reach ${remote.url}: ${cause instanceof Error ? cause.message : (err as Error).message}`);
    }
    if (res.status === 404 && missingOk) return null;
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      throw new CommandError(`${remote.url}: HTTP ${res.status}, not JSON`);
    }
    if (!res.ok) {
      const p = (parsed ?? {}) as Problem;
      throw new CommandError(`${remote.url}: ${p.detail ?? p.title ?? `HTTP ${res.status}`}${p.code ? ` (${p.code})` : ''}`);
    }
    return parsed as T;
  };
  const all = async <T>(path: string): Promise<T[]> => {
    const items: T[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 1000; i++) {
      const sep = path.includes('?') ? '&' : '?';
      const page: { items: T[]; nextCursor: string | null } | null = await call('GET', `${path}${sep}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      items.push(...(page?.items ?? []));
      cursor = page?.nextCursor ?? null;
      if (!cursor) break;
    }
    return items;
  };
  return {
    where: remote.url,
    createToken: async ({ pool, ttlMs }) => {
      const made = await call<AgentTokenRow & { token: string }>('POST', '/agent-tokens', { pool, ttlSeconds: Math.round(ttlMs / 1000) });
      if (!made) throw new CommandError(`${remote.url}: no answer`);
      return made;
    },
    listTokens: () => all<AgentTokenRow>('/agent-tokens'),
    revokeToken: async (id) => (await call('DELETE', `/agent-tokens/${id}`, undefined, true)) !== null,
    // By pool, then id, as the local store lists them (the API pages newest first).
    listAgents: async ({ includeRevoked }) =>
      (await all<AgentRow>(`/agents${includeRevoked ? '?revoked=true' : ''}`)).sort((a, b) => a.pool.localeCompare(b.pool) || a.id - b.id),
    revokeAgent: async (id) => (await call('DELETE', `/agents/${id}`, undefined, true)) !== null,
  };
}
