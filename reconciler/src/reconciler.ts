/**
 * The loop: claim due environments in batches (SKIP LOCKED + lease), reconcile each (observe, plan, apply) with
 * bounded concurrency, write outcomes in coalesced transactions, renew leases of work in flight. Woken by
 * NOTIFY on `wharf_environments`, with a fallback tick; survives a lost database connection.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { type EnvironmentSnapshot, REASONS, type RolloutStart, type StatusUpdate } from '@wharf/contracts';
import { claims, type DatabasePool, ENVIRONMENTS_CHANNEL, environmentViews, listen, type Listener, metering, rollouts } from '@wharf/store';
import { meteredTargets } from './metered-targets.js';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { createReconcilerMetrics, type ReconcilerMetrics } from './metrics.js';
import { reconcileEnvironment } from './reconcile/reconcile-environment.js';
import { RESULT_LABELS, type ReconcileResult } from './reconcile/result.js';
import { summarizeOutcome, summarizeStart } from './reconcile/summarize-status.js';
import { createWriteBatcher } from './reconcile/write-batcher.js';
import type { TargetResolver } from './targets/registry.js';

export interface Clock {
  now(): Date;
}

export interface ReconcilerOptions {
  pool: DatabasePool;
  /** For the dedicated LISTEN connection; without it the loop only ticks. */
  databaseUrl?: string;
  /** The targets, built by the registry (createTargetRegistry), which resolves environments.target names. */
  targets: TargetResolver;
  log: Logger;
  registry?: Registry;
  replicaId?: string;
  /** Lease per claim; renewed every third of it while the work runs. Default 30 s. */
  leaseTtlMs?: number;
  /** Every environment is observed at least once per resync period (jittered). Default 5 min. */
  resyncMs?: number;
  /** Fallback tick when no NOTIFY arrives. Default 1 s. */
  pollIntervalMs?: number;
  /** Apply/observe/delete timeout. Default 60 s. */
  applyTimeoutMs?: number;
  /**
   * Rollouts still running after this long are recorded as started (Progressing, history in progress, in_progress
   * deployment status) while they run; quicker ones are recorded once, when done. 0: always record the start first.
   * Default 1 s.
   */
  progressAfterMs?: number;
  /** Environments reconciled at once by this replica (targets bound their own parallelism). Default 512. */
  concurrency?: number;
  /** Claim batch size. Default 256. */
  batchSize?: number;
  /** How often the environment and queue gauges are refreshed. Default 15 s. */
  metricsIntervalMs?: number;
  /** How long stop() waits for work in flight. Default 30 s. */
  stopTimeoutMs?: number;
  clock?: Clock;
  random?: () => number;
}

export interface Reconciler {
  readonly replicaId: string;
  readonly metrics: ReconcilerMetrics;
  start(): Promise<void>;
  /** Stops claiming, waits for work in flight, flushes status writes, releases nothing it has not written. */
  stop(): Promise<void>;
  /** One claim batch, reconciled and written; returns how many environments it reconciled. For tests and tools. */
  reconcileOnce(): Promise<number>;
}


export function createReconciler(options: ReconcilerOptions): Reconciler {
  const { pool, targets } = options;
  const replicaId = options.replicaId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const log = options.log.child({ component: 'reconciler', replicaId });
  const leaseMs = options.leaseTtlMs ?? 30_000;
  const resyncMs = options.resyncMs ?? 5 * 60_000;
  const pollMs = options.pollIntervalMs ?? 1_000;
  const applyTimeoutMs = options.applyTimeoutMs ?? 60_000;
  const progressAfterMs = options.progressAfterMs ?? 1_000;
  const stopTimeoutMs = options.stopTimeoutMs ?? 30_000;
  const concurrency = options.concurrency ?? 512;
  const batchSize = options.batchSize ?? 256;
  const refillAt = Math.max(1, Math.floor(Math.min(batchSize, concurrency) / 2));
  const clock = options.clock ?? { now: () => new Date() };
  const random = options.random ?? Math.random;
  const metrics = createReconcilerMetrics(options.registry ?? new Registry());

  const inFlight = new Map<number, AbortController>();
  const tasks = new Set<Promise<void>>();
  let running = false;
  let loopDone: Promise<void> | undefined;
  let listener: Listener | undefined;
  let wakeUp: (() => void) | undefined;
  let woken = false;
  let backlog = false;
  const timers: NodeJS.Timeout[] = [];

  const wake = () => {
    woken = true;
    wakeUp?.();
  };

  const starts = createWriteBatcher<RolloutStart, number | undefined>({
    name: 'rollout-start',
    log,
    maxBatch: 500,
    maxDelayMs: 5,
    maxConcurrentFlushes: 2,
    flush: async (items) => {
      const ids = await rollouts.recordRolloutStarts(pool, replicaId, items);
      return items.map((i) => ids.get(i.id));
    },
  });
  const outcomes = createWriteBatcher<StatusUpdate, boolean>({
    name: 'outcome',
    log,
    maxBatch: 500,
    maxDelayMs: 5,
    maxConcurrentFlushes: 2,
    flush: async (items) => {
      const written = new Set(await rollouts.recordOutcomes(pool, replicaId, items));
      return items.map((i) => written.has(i.id));
    },
  });

  // Runtime request counters seen by observe go to usage metering, batched; a failed write only loses a reading.
  const requestReadings = createWriteBatcher<metering.RuntimeRequestSample, void>({
    name: 'runtime-requests',
    log,
    maxBatch: 500,
    maxDelayMs: 50,
    maxConcurrentFlushes: 1,
    flush: async (items) => {
      await metering.recordRuntimeRequests(pool, items);
      return items.map(() => undefined);
    },
  });
  const observedTargets = meteredTargets(
    targets,
    (sample) => void requestReadings.write(sample).catch((err: unknown) => log.warn({ err, envId: sample.environmentId }, 'runtime requests not recorded')),
    () => clock.now(),
  );

  /**
   * A rollout that takes longer than progressAfterMs gets its start recorded while it runs (Progressing, history row
   * in progress, in_progress status); a quicker one is recorded once, with its outcome, in one transaction.
   */
  const reconcileOne = async (env: EnvironmentSnapshot, controller: AbortController) => {
    const started = performance.now();
    const { id } = env.identity;
    const envLog = log.child({ envId: id, app: env.identity.app, env: env.identity.name, generation: env.generation });
    let start: RolloutStart | undefined;
    let startWrite: Promise<number | undefined> | undefined;
    let startTimer: NodeJS.Timeout | undefined;
    let result: ReconcileResult;
    try {
      result = await reconcileEnvironment(env, {
        targets: observedTargets,
        log: envLog,
        signal: controller.signal,
        applyTimeoutMs,
        startRollout: async ({ message, action, reason, deleting }) => {
          const s = summarizeStart(env, message, deleting, clock.now());
          const pending: RolloutStart = {
            id,
            generation: env.generation,
            versionId: env.desired.versionId,
            digest: env.desired.digest,
            action,
            reason,
            message,
            rollbackOfVersionId: env.desired.rollbackOfVersionId,
            conditions: s.conditions,
            outbox: s.outbox,
            startedAt: clock.now().toISOString(),
          };
          start = pending;
          const write = () => {
            startWrite = starts.write(pending);
            return startWrite;
          };
          if (progressAfterMs > 0) {
            startTimer = setTimeout(() => void write().catch(() => undefined), progressAfterMs);
            return;
          }
          if ((await write()) === undefined) throw new Error('lease lost before the rollout started');
        },
      });
    } catch (err) {
      result = { kind: 'failed', reason: REASONS.ApplyFailed, message: (err as Error).message };
    }
    clearTimeout(startTimer);
    if (startWrite) await startWrite.catch(() => undefined);
    if (result.kind === 'succeeded' && result.action.drift) metrics.driftCorrections.inc();
    const outcome = summarizeOutcome(env, result, { now: clock.now(), resyncMs, random });
    const written = await outcomes.write(start && !startWrite ? { ...outcome, start } : outcome).catch(() => false);
    const label = RESULT_LABELS[result.kind];
    metrics.reconcileTotal.inc({ result: label });
    metrics.reconcileDuration.observe({ result: label }, (performance.now() - started) / 1000);
    if (!written) envLog.warn({ result: result.kind }, 'lease lost before the outcome was written; another replica owns the environment');
    else if (result.kind !== 'noop') envLog.info({ result: result.kind, reason: 'reason' in result ? result.reason : undefined }, 'reconciled');
  };

  const claim = async (limit: number) => {
    if (limit <= 0) return [];
    return claims.claimDueEnvironments(pool, { owner: replicaId, leaseMs, limit, exclude: [...inFlight.keys()] });
  };

  const launch = (env: EnvironmentSnapshot) => {
    const controller = new AbortController();
    inFlight.set(env.identity.id, controller);
    const task = reconcileOne(env, controller).finally(() => {
      inFlight.delete(env.identity.id);
      tasks.delete(task);
      // With a backlog, claim again once there is room for a good batch (not after every single environment);
      // without one, the next NOTIFY or tick will do.
      if (backlog && concurrency - inFlight.size >= refillAt) wake();
    });
    tasks.add(task);
    return task;
  };

  const renew = async () => {
    if (inFlight.size === 0) return;
    try {
      await claims.renewLeases(pool, { owner: replicaId, ids: [...inFlight.keys()], leaseMs });
    } catch (err) {
      log.warn({ err }, 'lease renewal failed');
    }
  };

  const refreshGauges = async () => {
    try {
      const c = await environmentViews.countEnvironments(pool);
      metrics.queueDepth.set(c.due);
      metrics.environments.set({ condition: 'Ready' }, c.ready);
      metrics.environments.set({ condition: 'Progressing' }, c.progressing);
      metrics.environments.set({ condition: 'Degraded' }, c.degraded);
      metrics.environments.set({ condition: 'Stalled' }, c.stalled);
      metrics.environments.set({ condition: 'Suspended' }, c.suspended);
      metrics.environments.set({ condition: 'total' }, c.total);
    } catch (err) {
      log.warn({ err }, 'metrics refresh failed');
    }
  };

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (woken || !running) return resolve();
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        wakeUp = undefined;
        resolve();
      }
      wakeUp = done;
    });

  const loop = async () => {
    let errorDelay = 250;
    while (running) {
      woken = false;
      let full = false;
      try {
        const room = concurrency - inFlight.size;
        const want = Math.min(batchSize, room);
        const claimed = await claim(want);
        for (const env of claimed) launch(env);
        full = want > 0 && claimed.length === want;
        // More may be due than this claim took: because the batch was full, or because there was no room.
        backlog = full || want < batchSize;
        errorDelay = 250;
      } catch (err) {
        log.warn({ err, retryInMs: errorDelay }, 'claim failed; retrying');
        await sleep(errorDelay);
        errorDelay = Math.min(errorDelay * 2, 10_000);
        continue;
      }
      if (!running) break;
      if (full) continue;
      await sleep(pollMs);
      // Coalesce bursts of notifications (a mass change sends one per environment).
      if (running && woken) await new Promise((r) => setTimeout(r, 10));
    }
  };

  const recoverTargets = async () => {
    for (const [kind, target] of targets.built) {
      if (!target.recover) continue;
      const { adopted } = await target.recover();
      const requeued = await claims.requeueTargetKind(pool, kind, adopted);
      log.info({ target: kind, adopted: adopted.length, requeued }, 'target recovered');
    }
  };

  return {
    replicaId,
    metrics,
    async start() {
      if (running) return;
      running = true;
      await recoverTargets();
      if (options.databaseUrl) {
        listener = listen(options.databaseUrl, [ENVIRONMENTS_CHANNEL], () => wake(), log, () => wake());
      }
      timers.push(setInterval(() => void renew(), Math.max(100, Math.floor(leaseMs / 3))));
      timers.push(setInterval(() => void refreshGauges(), options.metricsIntervalMs ?? 15_000));
      void refreshGauges();
      loopDone = loop();
      log.info({ leaseMs, resyncMs, concurrency }, 'reconciler started');
    },
    async stop() {
      if (!running && !loopDone) return;
      running = false;
      wake();
      await loopDone;
      loopDone = undefined;
      // Work in flight finishes and is written; past stopTimeoutMs (a hung target, no database) it is abandoned:
      // applies are aborted, unwritten outcomes dropped, and the leases expire for another replica to take over.
      const settled = Promise.allSettled([...tasks]);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        settled.then(() => false),
        new Promise<boolean>((r) => {
          timer = setTimeout(() => r(true), stopTimeoutMs);
        }),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        log.warn({ inFlight: inFlight.size }, 'stop timed out; abandoning work in flight');
        for (const c of inFlight.values()) c.abort(new Error('reconciler stopping'));
        starts.close();
        outcomes.close();
        requestReadings.close();
        await settled;
      } else {
        await Promise.all([starts.flush(), outcomes.flush(), requestReadings.flush()]);
      }
      for (const t of timers.splice(0)) clearInterval(t);
      await listener?.close();
      listener = undefined;
      log.info('reconciler stopped');
    },
    async reconcileOnce() {
      const claimed = await claim(batchSize);
      await Promise.all(claimed.map((env) => launch(env)));
      await Promise.all([starts.flush(), outcomes.flush(), requestReadings.flush()]);
      return claimed.length;
    },
  };
}
