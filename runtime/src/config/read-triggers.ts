import type { EventTriggerSpec, HttpTriggerSpec, JobSpec, ScheduleTriggerSpec, SubscriptionSpec } from './app-config.js';

const isRecord = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const params = (v: unknown): Record<string, unknown> => (isRecord(v) ? v : {});

/** A trigger's `workflow:` before it is resolved to a pipeline (`pipeline:<name>` or a pipeline's own name). */
export type Unresolved<T> = Omit<T, 'pipeline'> & { readonly workflow: string; readonly where: string };

export type FileTriggers = {
  http: Unresolved<HttpTriggerSpec>[];
  event: Unresolved<EventTriggerSpec>[];
  schedule: Unresolved<ScheduleTriggerSpec>[];
};

/** The kinds of top-level trigger the runtime runs, as the engine names them. */
export const TOP_LEVEL_TRIGGERS = ['http', 'event', 'schedule'] as const;

/** Reads a file's top-level `triggers:` section (the engine's HTTPTrigger, EventTrigger and ScheduleTrigger configs). */
export function readTopLevelTriggers(file: string, raw: unknown, problems: string[], unsupported: string[]): FileTriggers {
  const out: FileTriggers = { http: [], event: [], schedule: [] };
  if (raw === undefined || raw === null) return out;
  if (!isRecord(raw)) {
    problems.push(`${file}: triggers must be a mapping`);
    return out;
  }
  for (const kind of Object.keys(raw))
    if (!(TOP_LEVEL_TRIGGERS as readonly string[]).includes(kind))
      unsupported.push(`${file}: triggers.${kind} is not supported; supported: ${TOP_LEVEL_TRIGGERS.join(', ')}`);
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  for (const [i, r] of list(isRecord(raw.http) ? raw.http.routes : undefined).entries()) {
    const where = `${file}: triggers.http.routes[${i}]`;
    if (!isRecord(r) || !str(r.path) || !str(r.workflow)) {
      problems.push(`${where} needs path and workflow`);
      continue;
    }
    out.http.push({ method: (str(r.method) || 'GET').toUpperCase(), path: str(r.path), workflow: str(r.workflow), params: params(r.params), where });
  }
  for (const [i, s] of list(isRecord(raw.event) ? raw.event.subscriptions : undefined).entries()) {
    const where = `${file}: triggers.event.subscriptions[${i}]`;
    if (!isRecord(s) || !str(s.topic) || !str(s.workflow)) {
      problems.push(`${where} needs topic and workflow`);
      continue;
    }
    out.event.push({ topic: str(s.topic), event: str(s.event) || null, workflow: str(s.workflow), params: params(s.params), where });
  }
  for (const [i, j] of list(isRecord(raw.schedule) ? raw.schedule.jobs : undefined).entries()) {
    const where = `${file}: triggers.schedule.jobs[${i}]`;
    if (!isRecord(j) || !str(j.cron) || !str(j.workflow)) {
      problems.push(`${where} needs cron and workflow`);
      continue;
    }
    out.schedule.push({ cron: str(j.cron), workflow: str(j.workflow), params: params(j.params), where });
  }
  return out;
}

/** `workflows.messaging`: subscriptions of messaging.handler modules to topics (producers are only declarations). */
export function readMessaging(file: string, raw: unknown, problems: string[]): SubscriptionSpec[] {
  if (!isRecord(raw)) return [];
  const out: SubscriptionSpec[] = [];
  for (const [i, s] of list(raw.subscriptions).entries()) {
    if (!isRecord(s) || typeof s.topic !== 'string' || typeof s.handler !== 'string' || !s.topic || !s.handler) {
      problems.push(`${file}: workflows.messaging.subscriptions[${i}] needs topic and handler`);
      continue;
    }
    out.push({ topic: s.topic, handler: s.handler });
  }
  return out;
}

/** `workflows.scheduler`: jobs (message handlers) run on a scheduler module's cron expression. */
export function readScheduler(file: string, raw: unknown, problems: string[]): JobSpec[] {
  if (!isRecord(raw)) return [];
  const out: JobSpec[] = [];
  for (const [i, j] of list(raw.jobs).entries()) {
    if (!isRecord(j) || typeof j.scheduler !== 'string' || typeof j.job !== 'string' || !j.scheduler || !j.job) {
      problems.push(`${file}: workflows.scheduler.jobs[${i}] needs scheduler and job`);
      continue;
    }
    out.push({ scheduler: j.scheduler, job: j.job });
  }
  return out;
}

/** `pipeline:<name>` or a pipeline's own name → the pipeline; anything else is a problem naming the trigger. */
export function resolvePipelineTarget(workflow: string, where: string, pipelines: ReadonlySet<string>, problems: string[], unsupported: string[]): string | null {
  const name = workflow.startsWith('pipeline:') ? workflow.slice('pipeline:'.length) : workflow;
  if (pipelines.has(name)) return name;
  if (workflow.startsWith('pipeline:')) problems.push(`${where}: pipeline "${name}" is not defined`);
  else unsupported.push(`${where}: workflow "${workflow}" is not a pipeline; the runtime runs triggers into pipelines only (workflow: pipeline:<name>)`);
  return null;
}
