import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
// js-yaml (YAML 1.2 core schema, like the engine's parser) parses a 50-pipeline file several times faster than `yaml`.
// A static import, so that esbuild bundles it: one file to load at start instead of a package to resolve.
import { load as parse } from 'js-yaml';
import {
  type AppConfig,
  ConfigError,
  type JobSpec,
  type ModuleSpec,
  type PipelineSpec,
  type RouteSpec,
  type StepSpec,
  type SubscriptionSpec,
} from './app-config.js';
import type { ParsedConfigCache } from './parsed-config-cache.js';
import { parseDuration } from './parse-duration.js';
import { type FileTriggers, readMessaging, readScheduler, readTopLevelTriggers, resolvePipelineTarget } from './read-triggers.js';
import { exceedsNodeBudget } from './yaml-budget.js';


type Env = Readonly<Record<string, string | undefined>>;

/** A config file larger than this is refused unread. */
export const MAX_CONFIG_BYTES = 8 * 1024 * 1024;
/** Nodes a config may hold once YAML aliases are expanded. */
export const MAX_CONFIG_NODES = 1_000_000;
/** `workflows:` sections the runtime serves; others with content are refused. */
const WORKFLOW_KINDS = ['http', 'messaging', 'scheduler'] as const;

const isRecord = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** Expands `${NAME}` and `$NAME` in module config strings from the given environment. */
export function expandEnv(value: unknown, env: Env): unknown {
  if (typeof value === 'string')
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_m, a, dflt, b) => {
      const v = env[a ?? b];
      return v === undefined || v === '' ? (dflt ?? '') : v;
    });
  if (Array.isArray(value)) return value.map((v) => expandEnv(v, env));
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expandEnv(v, env)]));
  return value;
}

function readSteps(pipeline: string, raw: unknown, problems: string[]): StepSpec[] {
  if (!Array.isArray(raw)) {
    problems.push(`pipeline ${pipeline}: steps must be a list`);
    return [];
  }
  const seen = new Set<string>();
  return raw.flatMap((s, i): StepSpec[] => {
    if (!isRecord(s) || typeof s.type !== 'string') {
      problems.push(`pipeline ${pipeline}: step #${i + 1} needs a type`);
      return [];
    }
    const name = typeof s.name === 'string' && s.name ? s.name : `step-${i + 1}`;
    if (seen.has(name)) problems.push(`pipeline ${pipeline}: duplicate step name ${name}`);
    seen.add(name);
    const skipIf = typeof s.skip_if === 'string' ? s.skip_if : undefined;
    return [{ name, type: s.type, config: isRecord(s.config) ? s.config : {}, skipIf }];
  });
}

function readPipeline(name: string, p: Record<string, unknown>, trigger: PipelineSpec['trigger'], problems: string[]): PipelineSpec {
  const onErrorRaw = typeof p.on_error === 'string' ? p.on_error : 'stop';
  if (!['stop', 'continue', 'skip', 'fail'].includes(onErrorRaw)) problems.push(`pipeline ${name}: on_error "${onErrorRaw}" is not supported (stop, continue, skip)`);
  const timeoutMs = parseDuration(p.timeout);
  if (p.timeout !== undefined && timeoutMs === null) problems.push(`pipeline ${name}: timeout "${String(p.timeout)}" is not a duration (e.g. 30s)`);
  return {
    name,
    trigger,
    steps: readSteps(name, p.steps ?? [], problems),
    onError: onErrorRaw === 'continue' || onErrorRaw === 'skip' ? 'continue' : 'stop',
    timeoutMs,
  };
}

/**
 * JSON is YAML too, and JSON.parse reads a 50-pipeline config in about a millisecond where js-yaml, still cold at
 * start, takes ~50 ms: a target that hands the runtime its configs as JSON starts it faster.
 */
function parseText(text: string): unknown {
  if (/^\s*\{/.test(text)) {
    try {
      return JSON.parse(text);
    } catch {
      // not JSON after all: YAML reports the error with its position
    }
  }
  return parse(text);
}

async function readDocument(file: string, problems: string[], cache: ParsedConfigCache | undefined): Promise<Record<string, unknown> | null> {
  const path = resolve(file);
  try {
    const size = (await stat(path)).size;
    if (size > MAX_CONFIG_BYTES) {
      problems.push(`${file}: the file is ${size} bytes; configs are limited to ${MAX_CONFIG_BYTES}`);
      return null;
    }
    const text = await readFile(path, 'utf8');
    const cached = cache?.read(text);
    const doc = cached ?? parseText(text);
    if (!isRecord(doc)) {
      problems.push(`${file}: expected a YAML mapping at the top`);
      return null;
    }
    if (exceedsNodeBudget(doc, MAX_CONFIG_NODES)) {
      problems.push(`${file}: the config expands to more than ${MAX_CONFIG_NODES} values (YAML aliases that multiply are refused)`);
      return null;
    }
    if (cached === undefined) cache?.remember(text, doc);
    return doc;
  } catch (err) {
    problems.push(`${file}: ${(err as Error).message}`);
    return null;
  }
}

/**
 * Reads and merges config files: modules and pipelines are unioned (names must be unique), routes, triggers and
 * subscriptions concatenated. Triggers are resolved to pipelines once every file is read.
 */
export async function loadConfig(files: readonly string[], env: Env, cache?: ParsedConfigCache): Promise<AppConfig> {
  const problems: string[] = [];
  const modules: ModuleSpec[] = [];
  const pipelines: PipelineSpec[] = [];
  const routes: RouteSpec[] = [];
  const subscriptions: SubscriptionSpec[] = [];
  const jobs: JobSpec[] = [];
  const pending: FileTriggers = { http: [], event: [], schedule: [] };
  const unsupported: string[] = [];
  if (!files.length) throw new ConfigError(['no config file given (use --config FILE)']);
  for (const file of files) {
    const doc = await readDocument(file, problems, cache);
    if (!doc) continue;
    const dir = dirname(resolve(file));
    for (const [i, m] of (Array.isArray(doc.modules) ? doc.modules : []).entries()) {
      if (!isRecord(m) || typeof m.name !== 'string' || typeof m.type !== 'string') {
        problems.push(`${file}: modules[${i}] needs a name and a type`);
        continue;
      }
      if (modules.some((x) => x.name === m.name)) problems.push(`${file}: duplicate module name ${m.name}`);
      // The modular framework reads some modules' settings from a top-level section of their type's name
      // (`reverseproxy:` in the engine's examples); the module's own config wins over it.
      const section = m.type === 'reverseproxy' && isRecord(doc.reverseproxy) ? doc.reverseproxy : {};
      const config = { ...section, ...(isRecord(m.config) ? m.config : {}) };
      modules.push({ name: m.name, type: m.type, config: expandEnv(config, env) as Record<string, unknown>, dir, file });
    }
    if (isRecord(doc.pipelines)) {
      for (const [name, p] of Object.entries(doc.pipelines)) {
        if (!isRecord(p)) {
          problems.push(`${file}: pipeline ${name} must be a mapping`);
          continue;
        }
        if (pipelines.some((x) => x.name === name)) problems.push(`${file}: duplicate pipeline name ${name}`);
        const trig = isRecord(p.trigger) && typeof p.trigger.type === 'string' ? { type: p.trigger.type, config: isRecord(p.trigger.config) ? p.trigger.config : {} } : null;
        pipelines.push(readPipeline(name, p, trig, problems));
        if (trig?.type === 'schedule') {
          const cron = typeof trig.config.cron === 'string' ? trig.config.cron : '';
          if (!cron) problems.push(`${file}: pipeline ${name}: a schedule trigger needs config.cron`);
          else pending.schedule.push({ cron, workflow: `pipeline:${name}`, params: isRecord(trig.config.params) ? trig.config.params : {}, where: `${file}: pipeline ${name} trigger` });
        }
      }
    }
    const workflows = isRecord(doc.workflows) ? doc.workflows : {};
    for (const kind of Object.keys(workflows)) {
      if ((WORKFLOW_KINDS as readonly string[]).includes(kind)) continue;
      const section = workflows[kind];
      const empty = section === null || (isRecord(section) && Object.values(section).every((v) => v === null || typeof v === 'string' || (Array.isArray(v) && !v.length)));
      if (!empty) unsupported.push(`${file}: workflows.${kind} is not supported; supported: ${WORKFLOW_KINDS.join(', ')} and pipelines`);
    }
    subscriptions.push(...readMessaging(file, workflows.messaging, problems));
    jobs.push(...readScheduler(file, workflows.scheduler, problems));
    const http = isRecord(workflows.http) ? workflows.http : {};
    for (const [i, r] of (Array.isArray(http.routes) ? http.routes : []).entries()) {
      const handler = isRecord(r) ? (typeof r.handler === 'string' ? r.handler : typeof r.pipeline === 'string' ? r.pipeline : null) : null;
      const inline = isRecord(r) && isRecord(r.pipeline) ? r.pipeline : null;
      if (!isRecord(r) || typeof r.path !== 'string' || (!handler && !inline)) {
        problems.push(`${file}: workflows.http.routes[${i}] needs path and a handler or pipeline`);
        continue;
      }
      const method = typeof r.method === 'string' ? r.method.toUpperCase() : 'GET';
      if (inline) {
        // A route with its pipeline written inline is an HTTP-triggered pipeline of its own.
        pipelines.push(readPipeline(`${method} ${r.path}`, inline, { type: 'http', config: { path: r.path, method } }, problems));
        continue;
      }
      routes.push({
        method,
        path: r.path,
        handler: (handler as string).replace(/^pipeline:/, ''),
        middlewares: Array.isArray(r.middlewares) ? r.middlewares.filter((x): x is string => typeof x === 'string') : [],
      });
    }
    const top = readTopLevelTriggers(file, doc.triggers, problems, unsupported);
    pending.http.push(...top.http);
    pending.event.push(...top.event);
    pending.schedule.push(...top.schedule);
  }
  const names = new Set(pipelines.map((p) => p.name));
  const resolveAll = <T extends { workflow: string; where: string }>(list: T[]) =>
    list.flatMap((t) => {
      const pipeline = resolvePipelineTarget(t.workflow, t.where, names, problems, unsupported);
      return pipeline ? [{ ...t, pipeline }] : [];
    });
  const triggers = {
    http: resolveAll(pending.http),
    event: resolveAll(pending.event),
    schedule: resolveAll(pending.schedule),
  };
  if (problems.length) throw new ConfigError(problems);
  return { modules, pipelines, routes, triggers, subscriptions, jobs, unsupported };
}
