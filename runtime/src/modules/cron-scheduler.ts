import type { ModuleSpec } from '../config/app-config.js';
import type { RuntimeModule } from './module.js';

/** scheduler.modular: the engine's CronScheduler, a cron expression that `workflows.scheduler` jobs run on. */
export type SchedulerModule = RuntimeModule & { readonly cronExpression: string | null };

export function isScheduler(m: RuntimeModule | undefined): m is SchedulerModule {
  return !!m && (m as Partial<SchedulerModule>).cronExpression !== undefined;
}

export function createCronScheduler(spec: ModuleSpec): SchedulerModule {
  const cron = spec.config.cronExpression;
  return { name: spec.name, type: spec.type, cronExpression: typeof cron === 'string' && cron.trim() ? cron.trim() : null };
}
