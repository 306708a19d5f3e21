import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { type AppConfig, ConfigError, type ModuleSpec, type PipelineSpec, type RouteSpec, type StepSpec } from './app-config.js';
import { parseDuration } from './parse-duration.js';

// js-yaml (YAML 1.2 core schema, like the engine's parser) parses a 50-pipeline file several times faster than `yaml`.
const { load: parse } = createRequire(import.meta.url)('js-yaml') as typeof import('js-yaml');

type Env = Readonly<Record<string, string | undefined>>;

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

/** Reads and merges config files: modules and pipelines are unioned (names must be unique), routes concatenated. */
export async function loadConfig(files: readonly string[], env: Env): Promise<AppConfig> {
  const problems: string[] = [];
  const modules: ModuleSpec[] = [];
  const pipelines: PipelineSpec[] = [];
  const routes: RouteSpec[] = [];
  if (!files.length) throw new ConfigError(['no config file given (use --config FILE)']);
  for (const file of files) {
    const path = resolve(file);
    let doc: unknown;
    try {
      doc = parse(await readFile(path, 'utf8'));
    } catch (err) {
      problems.push(`${file}: ${(err as Error).message}`);
      continue;
    }
    if (!isRecord(doc)) {
      problems.push(`${file}: expected a YAML mapping at the top`);
      continue;
    }
    const dir = dirname(path);
    for (const [i, m] of (Array.isArray(doc.modules) ? doc.modules : []).entries()) {
      if (!isRecord(m) || typeof m.name !== 'string' || typeof m.type !== 'string') {
        problems.push(`${file}: modules[${i}] needs a name and a type`);
        continue;
      }
      if (modules.some((x) => x.name === m.name)) problems.push(`${file}: duplicate module name ${m.name}`);
      modules.push({ name: m.name, type: m.type, config: (expandEnv(isRecord(m.config) ? m.config : {}, env) as Record<string, unknown>), dir });
    }
    if (isRecord(doc.pipelines)) {
      for (const [name, p] of Object.entries(doc.pipelines)) {
        if (!isRecord(p)) {
          problems.push(`${file}: pipeline ${name} must be a mapping`);
          continue;
        }
        if (pipelines.some((x) => x.name === name)) problems.push(`${file}: duplicate pipeline name ${name}`);
        const trig = isRecord(p.trigger) && typeof p.trigger.type === 'string'
          ? { type: p.trigger.type, config: isRecord(p.trigger.config) ? p.trigger.config : {} }
          : null;
        const onErrorRaw = typeof p.on_error === 'string' ? p.on_error : 'stop';
        if (!['stop', 'continue', 'skip', 'fail'].includes(onErrorRaw))
          problems.push(`pipeline ${name}: on_error "${onErrorRaw}" is not supported (stop, continue, skip)`);
        pipelines.push({
          name,
          trigger: trig,
          steps: readSteps(name, p.steps ?? [], problems),
          onError: onErrorRaw === 'continue' || onErrorRaw === 'skip' ? 'continue' : 'stop',
          timeoutMs: parseDuration(p.timeout),
        });
      }
    }
    const workflows = isRecord(doc.workflows) ? doc.workflows : {};
    for (const kind of Object.keys(workflows)) {
      if (kind !== 'http') {
        const section = workflows[kind];
        const empty = section === null || (isRecord(section) && Object.values(section).every((v) => v === null || typeof v === 'string' || (Array.isArray(v) && !v.length)));
        if (!empty) problems.push(`${file}: workflows.${kind} is not supported (only workflows.http and pipelines)`);
      }
    }
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
        const name = `${method} ${r.path}`;
        pipelines.push({
          name,
          trigger: { type: 'http', config: { path: r.path, method } },
          steps: readSteps(name, inline.steps ?? [], problems),
          onError: inline.on_error === 'continue' || inline.on_error === 'skip' ? 'continue' : 'stop',
          timeoutMs: parseDuration(inline.timeout),
        });
        continue;
      }
      routes.push({
        method,
        path: r.path,
        handler: handler as string,
        middlewares: Array.isArray(r.middlewares) ? r.middlewares.filter((x): x is string => typeof x === 'string') : [],
      });
    }
    if (isRecord(doc.triggers) && Object.keys(doc.triggers).length)
      problems.push(`${file}: the top-level triggers section is not supported (use pipeline triggers)`);
  }
  if (problems.length) throw new ConfigError(problems);
  return { modules, pipelines, routes };
}
