import pino, { type Logger } from 'pino';
import { ConfigError, type AppConfig, type ModuleSpec } from './config/app-config.js';
import { checkJqExpressions, checkRoutes } from './config/check-references.js';
import { checkSupport } from './config/check-support.js';
import { loadConfig } from './config/load-config.js';
import { createParsedConfigCache } from './config/parsed-config-cache.js';
import { createOutboundPolicy } from './confine/outbound-policy.js';
import { checkConfigFiles, createPathPolicy } from './confine/path-policy.js';
import { buildServer, reservedRouteProblems } from './http/build-server.js';
import { closeGracefully, listen } from './http/listen.js';
import { createMetrics } from './http/metrics.js';
import { DEFAULT_LIMITS, type RuntimeLimits } from './limits.js';
import { isMessageBroker } from './modules/message-broker.js';
import type { ModuleDeps, ModuleSet, RuntimeModule } from './modules/module.js';
import { createModuleSet, isModuleType, MODULE_TYPES } from './modules/registry.js';
import { createSqliteFiles } from './modules/sqlite-files.js';
import { buildPipeline, type Pipeline } from './pipeline/build-pipeline.js';
import { wireTriggers } from './pipeline/wire-triggers.js';
import { createJqRunner } from './steps/jq-runner.js';
import { checkTemplates, createTemplateEngine } from './template/index.js';

export type RuntimeOptions = {
  /** Workflow config files, merged in order. */
  readonly configFiles: readonly string[];
  /** Directory config-relative paths must stay in (default: each config file's directory). */
  readonly configRoot?: string | null;
  /** Port to listen on; 0 picks a free one. Defaults to the http.server module's port, else 8080. */
  readonly port?: number;
  /** Interface to bind; 127.0.0.1 unless the target passes another. The config never chooses it. */
  readonly host?: string;
  /** The environment's stable data dir: SQLite files live here; without it they are in memory. */
  readonly dataDir?: string | null;
  /** Reported on the health path so a target can tell which config version runs. */
  readonly digest?: string;
  /** Environment for `${VAR}` in module config and the `env` template function. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly log?: Logger;
  /** Hosts (`host` or `host:port`) the config may connect to; none by default. */
  readonly allowHosts?: readonly string[];
  readonly limits?: Partial<RuntimeLimits>;
  /** How long to wait for another runtime to release the data dir (default 3 s). */
  readonly dataDirWaitMs?: number;
  /** How long close() waits for in-flight requests (default 10 s). */
  readonly shutdownTimeoutMs?: number;
};

export type Runtime = {
  /** Loopback URL of the listening server, e.g. http://127.0.0.1:43123 */
  readonly url: string;
  readonly port: number;
  /** True when the runtime holds SQLite files in its data dir (a target must stop it before starting another on that dir). */
  readonly stateful: boolean;
  /** Stops accepting, finishes in-flight requests (up to the deadline), closes databases. */
  close(): Promise<void>;
};

/** The port from the http.server module's `address` (":8080", "host:8080") or `port`; its host is ignored. */
function configuredPort(config: AppConfig): number | undefined {
  const server = config.modules.find((m) => m.type === 'http.server');
  const address = typeof server?.config.address === 'string' ? server.config.address : '';
  const m = /:(\d+)$/.exec(address);
  if (m) return Number(m[1]);
  return typeof server?.config.port === 'number' ? server.config.port : undefined;
}

async function startModules(specs: readonly ModuleSpec[], deps: ModuleDeps, problems: string[]): Promise<RuntimeModule[]> {
  const started: RuntimeModule[] = [];
  for (const spec of specs) {
    if (!isModuleType(spec.type)) continue;
    try {
      started.push(await MODULE_TYPES[spec.type](spec, deps));
    } catch (err) {
      const message = (err as Error).message;
      problems.push(message.startsWith(spec.file) ? message : `module ${spec.name} (${spec.type}): ${message}`);
    }
  }
  return started;
}

const attachAll = (modules: ModuleSet) => {
  for (const m of modules.all()) (m as { attach?: (s: ModuleSet) => void }).attach?.(modules);
};

/** Loads configs, starts modules, builds pipelines and listens. Throws ConfigError listing every problem. */
export async function createRuntime(opts: RuntimeOptions): Promise<Runtime> {
  const env = opts.env ?? {};
  const log = opts.log ?? pino({ level: 'silent' });
  const limits: RuntimeLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const paths = createPathPolicy({ configFiles: opts.configFiles, configRoot: opts.configRoot ?? null, dataDir: opts.dataDir ?? null });
  const outsideRoot = checkConfigFiles(opts.configFiles, paths);
  if (outsideRoot.length) throw new ConfigError(outsideRoot);
  const configCache = createParsedConfigCache(paths.dataDir);
  const config = await loadConfig(opts.configFiles, env, configCache);
  const problems = checkSupport(config);
  if (problems.length) throw new ConfigError(problems);
  problems.push(
    ...reservedRouteProblems([
      ...config.routes.map((r) => ({ ...r, where: `workflows.http.routes (${r.handler})` })),
      ...config.triggers.http.map((t) => ({ ...t, where: `triggers.http (pipeline ${t.pipeline})` })),
      ...config.pipelines
        .filter((p) => p.trigger?.type === 'http')
        .map((p) => ({ method: String(p.trigger?.config.method ?? 'GET'), path: String(p.trigger?.config.path), where: `pipeline ${p.name}` })),
    ]),
  );
  if (problems.length) throw new ConfigError(problems);

  const jq = createJqRunner({ maxOutputChars: limits.jqOutputChars, heapMb: limits.jqHeapMb });
  const hasJq = config.pipelines.some((p) => p.steps.some((s) => s.type === 'step.jq'));
  if (hasJq) jq.warm(); // the worker boots on the other core while modules start
  const sqlite = createSqliteFiles({ dataDir: paths.dataDir, waitMs: opts.dataDirWaitMs ?? 3_000, log });
  const metrics = createMetrics();
  const deps: ModuleDeps = { env, log, paths, outbound: createOutboundPolicy(opts.allowHosts ?? []), limits, sqlite, metrics };
  const started = await startModules(config.modules, deps, problems);
  const closeModules = async () => {
    for (const m of [...started].reverse()) await Promise.resolve(m.close?.()).catch((err) => log.warn({ err, module: m.name }, 'module close failed'));
    await jq.close();
    await sqlite.close();
  };
  const modules = createModuleSet(started);
  attachAll(modules);
  const templates = createTemplateEngine({ env, maxIterations: limits.templateIterations, maxOutput: limits.templateOutputChars });
  const pipelines: Pipeline[] = [];
  for (const spec of config.pipelines) {
    for (const s of spec.steps) checkTemplates(templates, s.config, `pipeline ${spec.name} step ${s.name}`, problems);
    pipelines.push(buildPipeline(spec, { templates, modules, log, onStep: metrics.step, jq, outbound: deps.outbound, limits }, problems));
  }
  if (hasJq) problems.push(...(await checkJqExpressions(config, jq)));
  problems.push(...checkRoutes(config, new Set(pipelines.map((p) => p.name)), modules));
  const wiring = await wireTriggers(config, pipelines, modules, log, problems);
  if (problems.length) {
    await closeModules();
    throw new ConfigError(problems);
  }

  let ready = false;
  let closingNow = false;
  let server: ReturnType<typeof buildServer>;
  try {
    server = buildServer({
      pipelines,
      config,
      modules,
      metrics,
      log,
      health: async () => {
        const report = { digest: opts.digest ?? '', stateful: sqlite.stateFiles.length > 0, dataFiles: sqlite.stateFiles };
        try {
          await sqlite.whenOpen;
          return { status: 'ok', ...report };
        } catch (err) {
          return { status: 'failed', ...report, error: `a database could not be opened: ${(err as Error).message}` };
        }
      },
      bodyLimit: limits.maxBodyBytes,
      isReady: () => ready,
      isClosing: () => closingNow,
    });
  } catch (err) {
    await closeModules();
    throw new ConfigError([(err as Error).message]);
  }
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? configuredPort(config) ?? 8080;
  let actualPort: number;
  try {
    actualPort = await listen(server, host, port);
  } catch (err) {
    await closeModules();
    throw err;
  }
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  ready = true;
  // After the caller prints the listening line: opening SQLite (its WebAssembly compiles on first use) is not on
  // the start path. The health path and database steps wait for it.
  setImmediate(() => {
    sqlite.openAll();
    configCache.flush();
  });
  wiring.start();
  for (const m of started) m.start?.();
  log.info({ host, port: actualPort, pipelines: pipelines.length, modules: started.length, stateful: sqlite.stateFiles.length > 0 }, 'runtime listening');

  let closing: Promise<void> | null = null;
  return {
    url: `http://${urlHost}:${actualPort}`,
    port: actualPort,
    stateful: sqlite.stateFiles.length > 0,
    close() {
      closing ??= (async () => {
        ready = false;
        closingNow = true;
        await wiring.stop();
        await closeGracefully(server, opts.shutdownTimeoutMs ?? 10_000, log);
        for (const b of modules.all().filter(isMessageBroker)) await b.drain();
        await closeModules();
      })();
      return closing;
    },
  };
}
