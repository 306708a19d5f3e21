/**
 * The local target: every environment runs the runtime as a child process on this machine, behind the local
 * router, on a stable data dir that every version of it uses. A stateless runtime is swapped start-new, switch,
 * stop-old; a stateful one (it holds SQLite files in its data dir) stop-then-start, with requests held at the router
 * meanwhile. A crashed runtime restarts with backoff. Teardown kills the whole process tree and deletes the data.
 * After a restart of Wharf, runtimes left by the previous run are adopted (still healthy, recorded as current) or
 * stopped; data dirs stay. When Wharf runs as root, runtimes run as an unprivileged user (runtime-user.ts).
 */
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  type ApplyResult,
  backoffDelay,
  type BackoffPolicy,
  type DeleteResult,
  nothingRunning,
  type Observation,
  REASONS,
  RUNTIME_FLAGS,
  type TargetEnvironment,
} from '@wharf/contracts';
import { freePort } from '@wharf/store';
import { GenericError } from '../../errors.js';
import { createEnvDirs } from './env-dirs.js';
import { createEnvStates, type EnvState, locked } from './env-state.js';
import { createLogRing } from './log-ring.js';
import { type LogSocket, serveLogSocket } from './log-socket.js';
import type { LocalTarget, LocalTargetOptions } from './local-target-types.js';
import { checkQuota, DEFAULT_MAX_ENVIRONMENTS_PER_REPO } from './quota.js';
import { grantTraverse, pathsIn } from './reachable.js';
import { CURRENT_FILE, DESIRED_FILE, recoverLeftRuntimes } from './recover-left-runtimes.js';
import { createRouter } from './router.js';
import { DEFAULT_RUNTIME_MEMORY_MB, launchCommand, type LaunchCommand, runtimeArgs, runtimeEnv } from './runtime-launch.js';
import { adoptInstance, probeHealth, probeRequests, type RuntimeInstance, startInstance } from './runtime-instance.js';
import { DEFAULT_RUNTIME_USER, ensureRuntimeUser } from './runtime-user.js';
import { waitUntilHealthy } from './wait-healthy.js';

export type { LocalTarget, LocalTargetOptions } from './local-target-types.js';

export async function createLocalTarget(options: LocalTargetOptions): Promise<LocalTarget> {
  const log = options.log.child({ target: 'local' });
  const user = await ensureRuntimeUser(options.runtimeUser ?? DEFAULT_RUNTIME_USER, log);
  const dirs = createEnvDirs({ stateDir: options.stateDir, user, log });
  await dirs.init();
  if (user) await grantTraverse([options.stateDir], log);
  const healthTimeoutMs = options.healthTimeoutMs ?? 30_000;
  const drainTimeoutMs = options.drainTimeoutMs ?? 10_000;
  const graceMs = options.stopGraceMs ?? 3_000;
  const memoryMb = options.runtimeMemoryMb ?? DEFAULT_RUNTIME_MEMORY_MB;
  const allowHosts = options.allowHosts ?? [];
  const maxPerRepository = options.maxEnvironmentsPerRepository ?? DEFAULT_MAX_ENVIRONMENTS_PER_REPO;
  const restartPolicy: BackoffPolicy = { baseMs: options.restartBaseMs ?? 1_000, maxMs: options.restartMaxMs ?? 30_000, jitter: 'proportional' };
  const states = await createEnvStates({ stateDir: options.stateDir, dirs, friendlyTenantId: options.friendlyTenantId, logLines: options.logLines ?? 1_000 });
  let launch: LaunchCommand | undefined;
  let closed = false;

  const router = await createRouter({ port: options.routerPort ?? 0, host: options.routerHost, log });
  let logSocket: LogSocket | null = null;
  if (options.logSocket !== false) {
    logSocket = await serveLogSocket({ stateDir: options.stateDir, log, logs: (id, o) => states.get(id)?.ring.stream(o) }).catch(async (err: unknown) => {
      await router.close();
      throw err;
    });
  }

  const urlOfState = (s: EnvState) => router.urlFor(s.friendly?.label ?? s.label);
  const route = (s: EnvState, instance: RuntimeInstance | null, unavailable = '') =>
    router.set({ envId: s.ref.id, label: s.label, friendly: s.friendly, upstream: instance?.upstream ?? null, unavailable });

  const waitHealthy = (s: EnvState, instance: RuntimeInstance, env: TargetEnvironment, signal: AbortSignal) => waitUntilHealthy(s, instance, env, signal, healthTimeoutMs);

  /** Lets `old` finish its requests in flight (up to the drain timeout). */
  const drain = async (old: RuntimeInstance) => {
    old.stopping = true;
    const deadline = Date.now() + drainTimeoutMs;
    while (old.upstream.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  };
  /** Stops `old` (SIGTERM, then SIGKILL after the grace) and removes its instance dir. */
  const stopOld = async (s: EnvState, old: RuntimeInstance) => {
    old.stopping = true;
    await old.stop(graceMs);
    s.ring.push('system', `stopped pid ${old.record.pid} (digest ${old.record.digest})`);
    await rm(old.record.workDir, { recursive: true, force: true });
  };
  const drainThenStop = async (s: EnvState, old: RuntimeInstance) => {
    await drain(old);
    await stopOld(s, old);
  };
  const drainInBackground = (s: EnvState, old: RuntimeInstance) => {
    old.stopping = true;
    const done = drainThenStop(s, old).catch((err) => log.warn({ err, envId: s.ref.id }, 'stopping the old runtime failed'));
    s.draining.add(done);
    void done.finally(() => s.draining.delete(done));
  };

  const watchCrash = (s: EnvState, instance: RuntimeInstance) => {
    const started = Date.now();
    void instance.exited.then((code) => {
      if (closed || instance.stopping || s.current !== instance) return;
      if (Date.now() - started > 30_000) s.crashes = 0;
      s.crashes++;
      const delay = backoffDelay(s.crashes, Math.random, restartPolicy);
      s.ring.push('system', `runtime exited with code ${code}; restarting in ${delay} ms (crash ${s.crashes})`);
      log.warn({ envId: s.ref.id, code, delay, crashes: s.crashes }, 'runtime crashed; restarting');
      route(s, null, 'runtime crashed; restarting');
      s.restartTimer = setTimeout(() => {
        s.restartTimer = undefined;
        const desired = s.desired;
        if (!desired || closed) return;
        void locked(s, () => rollout(s, desired, AbortSignal.timeout(healthTimeoutMs + 5_000))).catch((err) => {
          log.warn({ err, envId: s.ref.id }, 'crash restart failed');
          if (s.current === instance && instance.hasExited()) {
            // A failed restart counts as another crash of the same instance.
            instance.stopping = false;
            watchCrash(s, instance);
          }
        });
      }, delay);
    });
  };

  /** Prepares an instance dir and spawns `env` on the environment's data dir (not healthy yet); nothing is left on failure. */
  const spawnVersion = async (s: EnvState, env: TargetEnvironment, extraArgs: readonly string[] = []): Promise<RuntimeInstance> => {
    launch ??= await launchCommand(options.runtimeCommand, memoryMb);
    if (user) await grantTraverse(pathsIn(launch.argv), log);
    const port = await freePort();
    const vars = runtimeEnv(env, port, { baseEnv: options.baseEnv, launchEnv: launch.env, resolveSecret: options.resolveSecret });
    const instanceId = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    const { workDir, configDir, configs } = await dirs.prepareInstance(env.id, instanceId, env.spec.files);
    const dataDir = dirs.dataDir(env.id);
    try {
      const instance = await startInstance({
        record: { envId: env.id, tenantId: env.tenantId, repositoryId: env.repositoryId, app: env.app, name: env.name, kind: env.kind, generation: env.generation, digest: env.digest, port, workDir, dataDir },
        argv: [...launch.argv, ...runtimeArgs({ configs, configDir, port, dataDir, digest: env.digest, allowHosts }), ...extraArgs],
        env: vars,
        user,
        ring: s.ring,
      });
      await writeFile(path.join(workDir, DESIRED_FILE), JSON.stringify(env), { mode: 0o600 });
      return instance;
    } catch (err) {
      await rm(workDir, { recursive: true, force: true });
      throw err;
    }
  };

  /** Waits until `instance` reports `env`'s digest; otherwise stops it, removes its instance dir and throws. */
  const settle = async (s: EnvState, instance: RuntimeInstance, env: TargetEnvironment, signal: AbortSignal): Promise<RuntimeInstance> => {
    try {
      await waitHealthy(s, instance, env, signal);
      return instance;
    } catch (err) {
      await instance.stop(graceMs);
      s.ring.push('system', `gave up on pid ${instance.record.pid}: ${(err as Error).message.split(';')[0]}`);
      await rm(instance.record.workDir, { recursive: true, force: true });
      throw err;
    }
  };
  const startVersion = async (s: EnvState, env: TargetEnvironment, signal: AbortSignal) => settle(s, await spawnVersion(s, env), env, signal);

  /**
   * How the running version gives way: `overlap` (stateless: the new one starts beside it), `stop-first` (it holds
   * data a second process must not open), or `prestart` (stateful and says so on the health path, so it speaks the
   * runtime protocol: the new one may start now and wait for the data dir).
   */
  const swapMode = async (s: EnvState, running: RuntimeInstance): Promise<'overlap' | 'stop-first' | 'prestart'> => {
    const probe = await probeHealth(running.record.port);
    if (probe.stateful !== undefined) return probe.stateful ? 'prestart' : 'overlap';
    return (await dirs.hasData(s.ref.id)) ? 'stop-first' : 'overlap';
  };

  const serve = async (s: EnvState, env: TargetEnvironment, instance: RuntimeInstance) => {
    s.current = instance;
    s.desired = env;
    route(s, instance);
    await writeFile(path.join(dirs.envDir(env.id), CURRENT_FILE), JSON.stringify({ instanceId: path.basename(instance.record.workDir) }), { mode: 0o600 });
    s.ring.push('system', `serving digest ${env.digest} from pid ${instance.record.pid}`);
    watchCrash(s, instance);
  };

  /**
   * Stateless: start new beside old, switch when healthy, drain and stop old. Stateful: requests wait at the router,
   * old finishes what is in flight and stops, new takes over the same data dir (started early when it can wait for
   * it, so that its boot and config parsing overlap the old one's drain).
   */
  const rollout = async (s: EnvState, env: TargetEnvironment, signal: AbortSignal): Promise<ApplyResult> => {
    if (s.restartTimer) clearTimeout(s.restartTimer);
    s.restartTimer = undefined;
    await dirs.prepareEnv(env.id, env);
    const running = s.current && !s.current.hasExited() ? s.current : null;
    const dead = s.current && s.current.hasExited() ? s.current : null;
    const previousEnv = s.desired;
    const mode = running ? await swapMode(s, running) : 'overlap';
    const stopFirst = running !== null && mode !== 'overlap';
    let early: RuntimeInstance | null = null;
    if (running && stopFirst) {
      if (mode === 'prestart') {
        const waitMs = drainTimeoutMs + graceMs + 2_000;
        early = await spawnVersion(s, env, [RUNTIME_FLAGS.dataDirWait, `${waitMs}ms`]).catch(() => null);
      }
      router.hold(s.label);
      s.ring.push('system', `stateful: stopping pid ${running.record.pid} before digest ${env.digest} starts on the same data`);
      await drain(running);
      s.current = null;
    }
    // The early start takes the data dir the moment the old runtime releases it (before its process has quite gone):
    // it is waited for while the old one stops. Any other start waits until the old one has stopped.
    const stopping = running && stopFirst ? stopOld(s, running).catch((err) => log.warn({ err, envId: s.ref.id }, 'stopping the old runtime failed')) : Promise.resolve();
    let instance: RuntimeInstance;
    try {
      const started = early;
      instance = started
        ? await settle(s, started, env, signal).catch(async (err: unknown) => {
            if (!started.hasExited()) throw err;
            // It gave up waiting for the data dir: start it again, now that the dir is free.
            await stopping;
            return startVersion(s, env, signal);
          })
        : await stopping.then(() => startVersion(s, env, signal));
    } catch (err) {
      await stopping;
      if (!(running && stopFirst && previousEnv)) throw err;
      // The old version stopped for nothing: bring it back on the same data, so that it keeps serving.
      const back = await startVersion(s, previousEnv, AbortSignal.timeout(healthTimeoutMs + 5_000)).catch(() => null);
      if (!back) {
        route(s, null, 'runtime failed to start; retrying');
        throw err;
      }
      await serve(s, previousEnv, back);
      const reason = err instanceof GenericError ? err.reason : REASONS.ApplyFailed;
      throw new GenericError(`${(err as Error).message}; previous version ${previousEnv.digest.slice(0, 19)} restarted on the same data and serving`, { reason, cause: err });
    }
    await serve(s, env, instance);
    await stopping;
    if (running && !stopFirst) drainInBackground(s, running);
    if (dead) await rm(dead.record.workDir, { recursive: true, force: true });
    return { status: 'ready', url: urlOfState(s) };
  };

  const recover = async (): Promise<{ adopted: number[] }> => ({
    adopted: await recoverLeftRuntimes({
      envsDir: dirs.envsDir,
      graceMs,
      log,
      adopt: (record, desired) => {
        const s = states.of({ id: record.envId, tenantId: record.tenantId, repositoryId: record.repositoryId, app: record.app, name: record.name, qualifier: null });
        const instance = adoptInstance(record, s.ring);
        s.current = instance;
        s.desired = desired;
        route(s, instance);
        watchCrash(s, instance);
      },
    }),
  });

  const target: LocalTarget = {
    name: 'local',
    capabilities: { rollout: 'swap', applyWaitsForHealthy: true, urls: true },
    router: { url: router.url, port: router.port, close: () => router.close() },
    logSocketPath: logSocket?.path ?? null,
    pidOf: (id) => states.get(id)?.current?.record.pid,
    urlOf: (ref) => urlOfState(states.of(ref)),

    apply(env, ctx) {
      const s = states.of(env);
      return locked(s, async () => {
        s.ref = env;
        const cur = s.current;
        if (ctx.action !== 'restart' && cur && !cur.hasExited() && cur.record.digest === env.digest) {
          const probe = await probeHealth(cur.record.port, ctx.signal);
          if (probe.ok && probe.digest === env.digest) {
            s.desired = env;
            return { status: 'ready', url: urlOfState(s) };
          }
        }
        if (!cur) checkQuota(env, states.runningInRepository(env), maxPerRepository);
        s.starting = true;
        try {
          return await rollout(s, env, ctx.signal);
        } finally {
          s.starting = false;
        }
      });
    },

    async observe(ref): Promise<Observation> {
      const s = states.get(ref.id);
      const cur = s?.current;
      if (!s || !cur) return nothingRunning();
      const seen = (digest: string, healthy: boolean, message?: string, requestsTotal?: number | null): Observation => ({
        exists: true,
        digest,
        healthy,
        url: urlOfState(s),
        ...(message ? { message } : {}),
        observedGeneration: cur.record.generation,
        conditions: [],
        instances: [
          {
            name: `pid ${cur.record.pid}`,
            digest,
            healthy,
            host: 'localhost',
            startedAt: cur.record.startedAt,
            restarts: s.crashes,
            ...(message ? { message } : {}),
            ...(typeof requestsTotal === 'number' ? { requestsTotal } : {}),
          },
        ],
      });
      if (cur.hasExited()) return seen(cur.record.digest, false, 'runtime exited; restart pending');
      const [probe, requests] = await Promise.all([probeHealth(cur.record.port), probeRequests(cur.record.port)]);
      return seen(probe.digest ?? cur.record.digest, probe.ok, probe.ok ? undefined : probe.message, requests);
    },

    stop(ref) {
      const s = states.of(ref);
      return locked(s, async () => {
        if (s.restartTimer) clearTimeout(s.restartTimer);
        s.restartTimer = undefined;
        router.remove(s.label);
        const cur = s.current;
        s.current = null;
        s.desired = null;
        if (cur) await drainThenStop(s, cur);
        await Promise.all([...s.draining]);
        await rm(path.join(dirs.envDir(ref.id), CURRENT_FILE), { force: true });
        if (cur) s.ring.push('system', 'stopped: the tenant is suspended (data kept)');
      });
    },

    delete(ref): Promise<DeleteResult> {
      const s = states.of(ref);
      return locked(s, async () => {
        if (s.restartTimer) clearTimeout(s.restartTimer);
        router.remove(s.label);
        const cur = s.current;
        s.current = null;
        s.desired = null;
        if (cur) await cur.stop(graceMs);
        await Promise.all([...s.draining]);
        // The environment's data goes with it: a preview's database, or a production that is torn down.
        await rm(dirs.envDir(ref.id), { recursive: true, force: true });
        states.forget(s);
        return { status: 'deleted' };
      });
    },

    recover,

    logs(ref, logOptions) {
      return states.get(ref.id)?.ring.stream(logOptions) ?? createLogRing(0).stream();
    },

    async close() {
      closed = true;
      for (const s of states.all()) if (s.restartTimer) clearTimeout(s.restartTimer);
      await Promise.all([...states.all()].flatMap((s) => [...s.draining]));
      if (!options.keepRuntimesOnClose) {
        await Promise.all([...states.all()].map((s) => s.current?.stop(graceMs)));
      }
      await logSocket?.close();
      await router.close();
    },
  };
  return target;
}

