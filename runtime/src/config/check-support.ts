import { MODULE_TYPES, isModuleType } from '../modules/registry.js';
import { STEP_TYPES, isStepType } from '../steps/registry.js';
import type { AppConfig } from './app-config.js';

export const HTTP_TRIGGERS = ['http'] as const;
export const MESSAGE_TRIGGERS = ['messaging', 'event', 'eventbus'] as const;
export const SCHEDULE_TRIGGERS = ['schedule'] as const;
const PIPELINE_TRIGGERS: readonly string[] = [...HTTP_TRIGGERS, ...MESSAGE_TRIGGERS, ...SCHEDULE_TRIGGERS];

/** Lists every module, step and trigger type the runtime cannot serve, naming what it supports. */
export function checkSupport(config: AppConfig): string[] {
  const problems: string[] = [];
  const badModules = config.modules.filter((m) => !isModuleType(m.type));
  if (badModules.length)
    problems.push(
      `unsupported module types: ${badModules.map((m) => `${m.type} (module ${m.name})`).join(', ')}; supported: ${Object.keys(MODULE_TYPES).join(', ')}`,
    );
  const badSteps = config.pipelines.flatMap((p) => p.steps.filter((s) => !isStepType(s.type)).map((s) => `${s.type} (pipeline ${p.name}, step ${s.name})`));
  if (badSteps.length) problems.push(`unsupported step types: ${badSteps.join(', ')}; supported: ${Object.keys(STEP_TYPES).join(', ')}`);
  problems.push(...config.unsupported);
  for (const p of config.pipelines) {
    const t = p.trigger?.type;
    if (t && !PIPELINE_TRIGGERS.includes(t)) problems.push(`pipeline ${p.name}: unsupported trigger type ${t}; supported: ${PIPELINE_TRIGGERS.join(', ')}`);
    if (t === 'http' && typeof p.trigger?.config.path !== 'string') problems.push(`pipeline ${p.name}: http trigger needs config.path`);
    for (const s of p.steps)
      if (/\$\{(?!\{)/.test(JSON.stringify(s.config)))
        problems.push(`pipeline ${p.name} step ${s.name}: \${ } expressions are not supported; use Go templates {{ }}`);
  }
  return problems;
}
