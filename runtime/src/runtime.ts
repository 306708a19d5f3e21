import { createRequire } from 'node:module';
import type { Logger } from 'pino';
import { ConfigError, type AppConfig, type ModuleSpec } from './config/app-config.js';
import { checkJqExpressions, checkRoutes } from './config/check-references.js';
import { checkSupport } from './config/check-support.js';
import { loadConfig } from './config/load-config.js';
import { buildServer } from './http/build-server.js';
import { closeGracefully, listen } from './http/listen.js';
import { createMetrics } from './http/metrics.js';
import { isMessageBroker } from './modules/message-broker.js';
import type { RuntimeModule } from './modules/module.js';
import { createModuleSet, isModuleType, MODULE_TYPES } from './modules/registry.js';
import { buildPipeline, type Pipeline } from './pipeline/build-pipeline.js';
import { subscribeMessagePipelines } from './pipeline/subscribe-message-pipelines.js';
import { createJqRunner } from './steps/jq-runner.js';
import { checkTemplates, createTemplateEngine } from './template/index.js';

export type RuntimeOptions = {
  /** Workflow config files, merged in order. */
  readonly configFiles: readonly string[];
  /** Port to listen on; 0 picks a free one. Defaults to the http.server module's address, else 8080. */
  readonly port?: number;
  /** Interface to bind; defaults to the http.server address host, else 0.0.0.0. */
  readonly host?: string;
  /** Where SQLite files without an absolute path live; without it they are in memory. */
  readonly dataDir?: string | null;
  /** Reported on /healthz so a target can tell which config version runs. */
  readonly digest?: string;
  /** Environment for `${VAR}` in module config and the `env` template function. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly log?: Logger;
  /** Request body limit in bytes (default 1 MiB); larger bodies get 413. */
  readonly bodyLimit?: number;
  /** How long close() waits for in-flight requests (default 10 s). */
  readonly shutdownTimeoutMs?: number;
};

export type Runtime = {
  /** Loopback URL of the listening server, e.g. http://127.0.0.1:43123 */
  readonly url: string;
  readonly port: number;
  /** Stops accepting, finishes in-flight requests (up to the deadline), closes databases. */
  close(): Promise<void>;
};

function listenAddress(config: AppConfig, opts: RuntimeOptions): { host: string; port: number } {
  const server = config.modules.find((m) => m.type === 'http.server');
  let host = '0.0.0.0';
  let port = 8080;
  const address = typeof server?.config.address === 'string' ? server.config.address : '';
  const m = /^(.*):(\d+)$/.exec(address);
  if (m) {
    if (m[1] && m[1] !== '0.0.0.0') host = m[1].replace(/^\[|\]$/g, '');
    port = Number(m[2]);
  } else if (typeof server?.config.port === 'number') port = server.config.port;
  return { host: opts.host ?? host, port: opts.port ?? port };
}

async function startModules(specs: readonly ModuleSpec[], deps: Parameters<(typeof MODULE_TYPES)['http.server']>[1], problems: string[]): Promise<RuntimeModule[]> {
  const started: RuntimeModule[] = [];
  for (const spec of specs) {
    if (!isModuleType(spec.type)) continue;
    try {
      started.push(await MODULE_TYPES[spec.type](spec, deps));
    } catch (err) {
      problems.push(`module ${spec.name} (${spec.type}): ${(err as Error).message}`);
    }
  }
  return started;
}

/** Loads configs, starts modules, builds pipelines and listens. Throws ConfigError listing every problem. */
export async function createRuntime(opts: RuntimeOptions): Promise<Runtime> {
  const env = opts.env ?? {};
  const log = opts.log ?? (createRequire(import.meta.url)('pino') as typeof import('pino').default)({ level: 'silent' });
  const config = await loadConfig(opts.configFiles, env);
  const problems = checkSupport(config);
  if (problems.length) throw new ConfigError(problems);

  const started = await startModules(config.modules, { dataDir: opts.dataDir ?? null, env, log }, problems);
  const closeModules = async () => {
    for (const m of [...started].reverse()) await Promise.resolve(m.close?.()).catch((err) => log.warn({ err, module: m.name }, 'module close failed'));
  };
  const modules = createModuleSet(started);
  const templates = createTemplateEngine({ env });
  const metrics = createMetrics();
  const jq = createJqRunner();
  const pipelines: Pipeline[] = [];
  for (const spec of config.pipelines) {
    for (const s of spec.steps) checkTemplates(templates, s.config, `pipeline ${spec.name} step ${s.name}`, problems);
    pipelines.push(buildPipeline(spec, { templates, modules, log, onStep: metrics.step, jq }, problems));
  }
  problems.push(...(await checkJqExpressions(config, jq)));
  problems.push(...checkRoutes(config, new Set(pipelines.map((p) => p.name)), modules));
  problems.push(...subscribeMessagePipelines(pipelines, modules, log));
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
      routes: config.routes,
      modules,
      metrics,
      log,
      digest: opts.digest ?? '',
      bodyLimit: opts.bodyLimit ?? 1024 * 1024,
      isReady: () => ready,
      isClosing: () => closingNow,
    });
  } catch (err) {
    await closeModules();
    throw new ConfigError([(err as Error).message]);
  }
  const { host, port } = listenAddress(config, opts);
  let actualPort: number;
  try {
    actualPort = await listen(server, host, port);
  } catch (err) {
    await closeModules();
    throw err;
  }
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  ready = true;
  log.info({ port: actualPort, pipelines: pipelines.length, modules: started.length }, 'runtime listening');

  let closing: Promise<void> | null = null;
  return {
    url: `http://${urlHost}:${actualPort}`,
    port: actualPort,
    close() {
      closing ??= (async () => {
        ready = false;
        closingNow = true;
        await closeGracefully(server, opts.shutdownTimeoutMs ?? 10_000, log);
        for (const b of modules.all().filter(isMessageBroker)) await b.drain();
        await closeModules();
      })();
      return closing;
    },
  };
}
