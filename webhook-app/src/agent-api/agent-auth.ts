/**
 * Who is calling: `Authorization: Bearer <credential>`, checked against the stored hashes. Known credentials are
 * cached (by hash, never the secret) so that idle long-polls cost no query; revocation and rotation reach every
 * control-plane process by NOTIFY and drop the agent from the cache at once, and a lost LISTEN connection clears the
 * whole cache. Unknown credentials are never cached (the caller's address is rate limited instead).
 */
import { agents, type DatabasePool } from '@wharf/store';

export type AgentIdentity = agents.AgentIdentity;

export interface AgentAuth {
  /** The agent of a request's Authorization header, or null (unknown, revoked, malformed, missing). */
  authenticate(header: string | undefined): Promise<AgentIdentity | null>;
  /** The cached agent of a header, without a query (for the rate limiter's key). */
  cached(header: string | undefined): AgentIdentity | undefined;
  /** Drops what is cached of one agent (`r<id>` on the agents channel). */
  forgetAgent(agentId: number): void;
  clear(): void;
}

const BEARER = /^Bearer ([A-Za-z0-9_-]{16,200})$/;

export function createAgentAuth(pool: DatabasePool, options: { ttlMs?: number; maxEntries?: number; now?: () => number } = {}): AgentAuth {
  const ttlMs = options.ttlMs ?? 5 * 60_000;
  const maxEntries = options.maxEntries ?? 100_000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { agent: AgentIdentity; at: number }>();
  const secretOf = (header: string | undefined) => (header ? BEARER.exec(header)?.[1] : undefined);

  const lookup = (secret: string) => {
    const hit = cache.get(agents.hashSecret(secret));
    if (hit && now() - hit.at < ttlMs) return hit.agent;
    return undefined;
  };

  return {
    async authenticate(header) {
      const secret = secretOf(header);
      if (!secret) return null;
      const hit = lookup(secret);
      if (hit) return hit;
      const agent = await agents.authenticateAgentByCredential(pool, secret);
      if (!agent) return null;
      if (cache.size >= maxEntries) cache.delete(cache.keys().next().value!);
      cache.set(agents.hashSecret(secret), { agent, at: now() });
      return agent;
    },
    cached(header) {
      const secret = secretOf(header);
      return secret ? lookup(secret) : undefined;
    },
    forgetAgent(agentId) {
      for (const [key, entry] of cache) if (entry.agent.agentId === agentId) cache.delete(key);
    },
    clear: () => cache.clear(),
  };
}
