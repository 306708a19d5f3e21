/**
 * An in-memory target for tests and benchmarks, built through the reconciler's registry like any other: apply takes
 * `applyMs`, remembers the digest and generation, and counts applies per (environment, generation). Faults can be
 * injected per environment; drift is simulated with kill() and setRunning().
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type ApplyResult,
  type DeleteResult,
  nothingRunning,
  type Observation,
  type Target,
  type TargetEnvironment,
  type TargetRef,
} from '@wharf/contracts';

export interface MemoryTargetOptions {
  applyMs?: number;
  /** Environments considered running from the start (id → digest), as after a previous converge. */
  running?: Iterable<[number, string]>;
  /** Every environment not otherwise known counts as running this digest (benchmarks with 10,000 converged ones). */
  presumeRunning?: string;
}

export type MemoryFault = { kind: 'throw'; error: () => Error } | { kind: 'hang' } | { kind: 'progressing'; times: number };

interface Running {
  digest: string;
  healthy: boolean;
  generation: number | null;
}

export interface MemoryTarget extends Target {
  readonly running: Map<number, Running>;
  /** `${id}:${generation}` → number of applies. */
  readonly applies: Map<string, number>;
  readonly deletes: Map<number, number>;
  /** The last ref each environment was applied or observed with (its qualifier: the pool of `agent:edge`). */
  readonly refs: Map<number, TargetRef>;
  setFault(id: number, fault: MemoryFault | null): void;
  /** Simulate drift: the runtime died or runs something else. */
  kill(id: number): void;
  setRunning(id: number, digest: string, healthy?: boolean): void;
}

export function createMemoryTarget(options: MemoryTargetOptions = {}): MemoryTarget {
  const applyMs = options.applyMs ?? 0;
  const running = new Map<number, Running>();
  for (const [id, digest] of options.running ?? []) running.set(id, { digest, healthy: true, generation: null });
  const applies = new Map<string, number>();
  const deletes = new Map<number, number>();
  const refs = new Map<number, TargetRef>();
  const faults = new Map<number, MemoryFault>();

  const url = (ref: TargetRef) => `memory://${ref.app}/${ref.name}`;

  return {
    name: 'memory',
    capabilities: { rollout: 'swap', applyWaitsForHealthy: true, urls: true },
    running,
    applies,
    deletes,
    refs,
    setFault: (id, fault) => (fault ? faults.set(id, fault) : faults.delete(id)),
    kill: (id) => running.delete(id),
    setRunning: (id, digest, healthy = true) => running.set(id, { digest, healthy, generation: null }),

    async apply(env: TargetEnvironment, ctx): Promise<ApplyResult> {
      refs.set(env.id, env);
      const key = `${env.id}:${env.generation}`;
      applies.set(key, (applies.get(key) ?? 0) + 1);
      const fault = faults.get(env.id);
      if (fault?.kind === 'hang') {
        await new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true }));
      }
      if (applyMs > 0) await sleep(applyMs, undefined, { signal: ctx.signal });
      if (fault?.kind === 'throw') throw fault.error();
      if (fault?.kind === 'progressing' && fault.times > 0) {
        fault.times--;
        return { status: 'progressing', url: url(env), message: 'starting', retryAfterMs: 50 };
      }
      running.set(env.id, { digest: env.digest, healthy: true, generation: env.generation });
      return { status: 'ready', url: url(env) };
    },

    async observe(ref): Promise<Observation> {
      refs.set(ref.id, ref);
      const r = running.get(ref.id) ?? (options.presumeRunning && !deletes.has(ref.id) ? { digest: options.presumeRunning, healthy: true, generation: null } : undefined);
      if (!r) return nothingRunning();
      return {
        exists: true,
        digest: r.digest,
        healthy: r.healthy,
        url: url(ref),
        observedGeneration: r.generation,
        conditions: [],
        instances: [{ name: `memory-${ref.id}`, digest: r.digest, healthy: r.healthy }],
      };
    },

    async delete(ref): Promise<DeleteResult> {
      deletes.set(ref.id, (deletes.get(ref.id) ?? 0) + 1);
      running.delete(ref.id);
      return { status: 'deleted' };
    },

    async close() {},
  };
}
