/**
 * Each agent's documents and their set hash, cached per agent so that an idle long-poll costs no query, and the
 * long-polls waiting on them. `d<agentId>` on the agents channel (sent in the transaction that changed the agent's
 * documents) drops the entry and wakes its waiters; a lost LISTEN connection drops everything and wakes everyone.
 */
import { createCoalescer } from '@wharf/contracts';
import { agentDocuments, type DatabasePool } from '@wharf/store';
import type { AgentIdentity } from './agent-auth.js';

export interface DesiredSet {
  hash: string;
  documents: readonly agentDocuments.AssignedDocument[];
}

export interface Subscription {
  /** Resolves when the agent's documents (or its credentials) change. */
  changed: Promise<void>;
  cancel(): void;
}

export function createDesiredCache(pool: DatabasePool, options: { maxEntries?: number } = {}) {
  const maxEntries = options.maxEntries ?? 100_000;
  const entries = new Map<number, DesiredSet>();
  const loading = new Map<number, Promise<DesiredSet>>();
  const versions = new Map<number, number>();
  const waiters = new Map<number, Set<() => void>>();
  // Agents woken together (a commit that changes many environments) are loaded in one statement.
  const load = createCoalescer({ delayMs: 2, maxBatch: 500, run: (list: AgentIdentity[]) => agentDocuments.documentsForAgents(pool, list) });

  const version = (id: number) => versions.get(id) ?? 0;

  return {
    async get(agent: AgentIdentity): Promise<DesiredSet> {
      const hit = entries.get(agent.agentId);
      if (hit) return hit;
      const pending = loading.get(agent.agentId);
      if (pending) return pending;
      const started = version(agent.agentId);
      const loaded = load(agent)
        .then((set) => {
          // A change that arrived while loading may not be in what was read: do not keep it.
          if (version(agent.agentId) === started) {
            if (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
            entries.set(agent.agentId, set);
          }
          return set;
        })
        // Only its own slot: an invalidation may have started a newer load meanwhile.
        .finally(() => {
          if (loading.get(agent.agentId) === loaded) loading.delete(agent.agentId);
        });
      loading.set(agent.agentId, loaded);
      return loaded;
    },

    subscribe(agentId: number): Subscription {
      let fire!: () => void;
      const changed = new Promise<void>((resolve) => (fire = resolve));
      const set = waiters.get(agentId) ?? new Set();
      set.add(fire);
      waiters.set(agentId, set);
      return {
        changed,
        cancel: () => {
          set.delete(fire);
          if (set.size === 0 && waiters.get(agentId) === set) waiters.delete(agentId);
        },
      };
    },

    /** The agent's documents changed: drop them and wake its long-polls. */
    invalidate(agentId: number): void {
      versions.set(agentId, version(agentId) + 1);
      entries.delete(agentId);
      loading.delete(agentId);
      const set = waiters.get(agentId);
      waiters.delete(agentId);
      for (const fire of set ?? []) fire();
    },

    invalidateAll(): void {
      for (const id of new Set([...entries.keys(), ...waiters.keys(), ...loading.keys()])) this.invalidate(id);
    },

    /** Agents holding a long-poll right now. */
    heldAgents: () => waiters.keys(),

    /** Long-polls held right now. */
    held: () => [...waiters.values()].reduce((n, s) => n + s.size, 0),
  };
}

export type DesiredCache = ReturnType<typeof createDesiredCache>;
