/**
 * Liveness: every authenticated call marks its agent seen, in memory; the times go to the database in one statement
 * every few seconds (an agent that the sweep had found Offline comes back there, and its environments are due). The
 * sweep notes agents that have gone Offline and makes their environments due, so that they show `AgentOffline` now.
 */
import { agents, type DatabasePool } from '@wharf/store';
import type { Logger } from 'pino';

export function createLiveness(
  pool: DatabasePool,
  options: {
    log: Logger;
    offlineAfterMs: number;
    flushMs?: number;
    sweepMs?: number;
    /** Agents connected right now (holding a long-poll): seen at every flush. */
    connected?: () => Iterable<number>;
  },
) {
  const seen = new Map<number, Date>();
  const timers: NodeJS.Timeout[] = [];
  let flushing: Promise<void> = Promise.resolve();

  const flush = (): Promise<void> => {
    flushing = flushing.then(async () => {
      const at = new Date();
      for (const id of options.connected?.() ?? []) if (!seen.has(id)) seen.set(id, at);
      if (seen.size === 0) return;
      const batch = new Map(seen);
      seen.clear();
      try {
        const back = await agents.recordAgentsSeen(pool, batch);
        if (back.length > 0) options.log.info({ agents: back }, 'agents back online');
      } catch (err) {
        for (const [id, at] of batch) if (!seen.has(id)) seen.set(id, at);
        options.log.warn({ err }, 'recording agent liveness failed; retrying');
      }
    });
    return flushing;
  };

  const sweep = async () => {
    try {
      const noted = await agents.noteOfflineAgents(pool, options.offlineAfterMs);
      if (noted.length > 0) options.log.warn({ agents: noted }, 'agents offline: their environments show AgentOffline');
    } catch (err) {
      options.log.warn({ err }, 'agent liveness sweep failed');
    }
  };

  return {
    seen(agentId: number): void {
      seen.set(agentId, new Date());
    },
    flush,
    sweep,
    start(): void {
      timers.push(setInterval(() => void flush(), options.flushMs ?? 5_000));
      timers.push(setInterval(() => void sweep(), options.sweepMs ?? Math.min(30_000, Math.max(1_000, Math.floor(options.offlineAfterMs / 4)))));
      for (const t of timers) t.unref();
    },
    async stop(): Promise<void> {
      for (const t of timers.splice(0)) clearInterval(t);
      await flush();
    },
  };
}

export type Liveness = ReturnType<typeof createLiveness>;
