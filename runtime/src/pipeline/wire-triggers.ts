import type { Logger } from 'pino';
import type { AppConfig } from '../config/app-config.js';
import { MESSAGE_TRIGGERS } from '../config/check-support.js';
import { answerForError } from '../http/answer-error.js';
import { isScheduler } from '../modules/cron-scheduler.js';
import { isMessageBroker, type MessageBroker } from '../modules/message-broker.js';
import { isMessageHandler } from '../modules/messaging-handler.js';
import type { ModuleSet } from '../modules/module.js';
import type { Pipeline } from './build-pipeline.js';

type Job = { cron: string; where: string; run: () => Promise<void> };

/** Cron jobs one runtime runs (top-level schedules and workflows.scheduler jobs together). */
export const MAX_SCHEDULES = 100;

export type Wiring = {
  /** Starts the schedules (after the runtime listens). */
  start(): void;
  /** Stops the schedules; resolves when running ticks have finished. */
  stop(): Promise<void>;
};

const isRecord = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * Connects everything that is not an HTTP route: pipeline triggers on topics (`trigger: {type: event|messaging,
 * config: {topic}}`), top-level `triggers.event` subscriptions, `workflows.messaging` subscriptions of message
 * handlers, top-level `triggers.schedule` jobs and `workflows.scheduler` jobs (on the `cron` package, UTC).
 * Returns the problems it finds; the cron package is loaded only when there is a schedule.
 */
export async function wireTriggers(
  config: AppConfig,
  pipelines: readonly Pipeline[],
  modules: ModuleSet,
  log: Logger,
  problems: string[],
): Promise<Wiring> {
  const byName = new Map(pipelines.map((p) => [p.name, p]));
  const brokers = modules.all().filter(isMessageBroker);
  const brokerFor = (name: unknown, where: string): MessageBroker | null => {
    const b = typeof name === 'string' && name ? modules.get(name) : brokers[0];
    if (isMessageBroker(b)) return b;
    problems.push(`${where}: needs a messaging.broker module${typeof name === 'string' && name ? ` named ${name}` : ''}`);
    return null;
  };
  const runPipeline = async (p: Pipeline, data: Record<string, unknown>, meta: Record<string, unknown>, messageDepth = 0) => {
    try {
      await p.run(data, { pipeline: p.name, started_at: new Date().toISOString(), ...meta }, { pipeline: p.name, log, headers: {}, messageDepth });
    } catch (err) {
      answerForError(err, log.child({ pipeline: p.name, ...meta }));
    }
  };
  const subscribeEvent = (broker: MessageBroker, topic: string, event: string | null, p: Pipeline, params: Readonly<Record<string, unknown>>) =>
    broker.subscribe(topic, async (message, _topic, depth) => {
      // As the engine's EventTrigger: an `event` filter matches the message's `type` (or `eventType`).
      if (event && (message.type ?? message.eventType) !== event) return;
      await runPipeline(p, { ...message, body: message, originalMessage: JSON.stringify(message), ...params }, { topic }, depth);
    });

  for (const p of pipelines) {
    const t = p.spec.trigger;
    if (!t || !(MESSAGE_TRIGGERS as readonly string[]).includes(t.type)) continue;
    const topic = t.config.topic ?? t.config.subject;
    const where = `pipeline ${p.name}: ${t.type} trigger`;
    if (typeof topic !== 'string' || !topic) {
      problems.push(`${where} needs config.topic`);
      continue;
    }
    const broker = brokerFor(t.config.broker, where);
    if (broker) subscribeEvent(broker, topic, typeof t.config.event === 'string' ? t.config.event : null, p, isRecord(t.config.params) ? t.config.params : {});
  }
  for (const s of config.triggers.event) {
    const broker = brokerFor(undefined, 'triggers.event');
    const p = byName.get(s.pipeline);
    if (broker && p) subscribeEvent(broker, s.topic, s.event, p, s.params);
  }
  for (const s of config.subscriptions) {
    const handler = modules.get(s.handler);
    const where = `workflows.messaging subscription ${s.topic} → ${s.handler}`;
    if (!isMessageHandler(handler)) {
      problems.push(`${where}: ${s.handler} is not a messaging.handler module`);
      continue;
    }
    brokerFor(undefined, where)?.subscribe(s.topic, (message, topic) => handler.handleMessage(message, topic));
  }

  const jobs: Job[] = [];
  for (const s of config.triggers.schedule) {
    const p = byName.get(s.pipeline);
    if (p) jobs.push({ cron: s.cron, where: s.where, run: () => runPipeline(p, { trigger_time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), ...s.params }, { schedule: s.cron }) });
  }
  for (const j of config.jobs) {
    const scheduler = modules.get(j.scheduler);
    const handler = modules.get(j.job);
    const where = `workflows.scheduler job ${j.job} on ${j.scheduler}`;
    if (!isScheduler(scheduler)) problems.push(`${where}: ${j.scheduler} is not a scheduler.modular module`);
    else if (!scheduler.cronExpression) problems.push(`${where}: scheduler ${j.scheduler} has no config.cronExpression`);
    if (!isMessageHandler(handler)) problems.push(`${where}: ${j.job} is not a messaging.handler module`);
    // As the engine's MessageHandlerJobAdapter: each tick hands the job an empty JSON message.
    else if (isScheduler(scheduler) && scheduler.cronExpression)
      jobs.push({ cron: scheduler.cronExpression, where, run: async () => handler.handleMessage({}, `schedule:${j.scheduler}`) });
  }
  if (!jobs.length) return { start() {}, stop: async () => {} };
  if (jobs.length > MAX_SCHEDULES) {
    problems.push(`the config schedules ${jobs.length} cron jobs; a runtime runs at most ${MAX_SCHEDULES}`);
    return { start() {}, stop: async () => {} };
  }

  const { CronJob, validateCronExpression } = await import('cron');
  const cronJobs: InstanceType<typeof CronJob>[] = [];
  for (const job of jobs) {
    const valid = validateCronExpression(job.cron);
    if (!valid.valid) {
      problems.push(`${job.where}: cron "${job.cron}" is not valid: ${valid.error?.message ?? 'unknown error'}`);
      continue;
    }
    cronJobs.push(
      CronJob.from({
        cronTime: job.cron,
        timeZone: 'UTC',
        start: false,
        // A tick that comes while the previous run of the same job is still going is skipped.
        waitForCompletion: true,
        errorHandler: (err) => log.error({ err, schedule: job.cron }, 'scheduled job failed'),
        onTick: job.run,
      }),
    );
  }
  return {
    start() {
      for (const c of cronJobs) c.start();
    },
    async stop() {
      await Promise.all(cronJobs.map((c) => c.stop()));
    },
  };
}
