import { isTruthy } from '../template/index.js';
import { buildAnswer } from './json-response.js';
import { isRecord, optionalString } from './config-values.js';
import type { StepFactory, StepResult } from './step.js';

/**
 * step.conditional: `field` + `routes` (+ `default`) switch, or `if` + `then`/`else`.
 * A target is a step name to jump to, or an inline response map ({status, body, headers}).
 */
export const conditionalRoute: StepFactory = (spec, deps) => {
  const c = spec.config;
  const field = optionalString(c, 'field');
  const condition = typeof c.if === 'string' ? c.if : typeof c.if === 'boolean' ? String(c.if) : undefined;
  const routes = isRecord(c.routes) ? c.routes : {};
  const where = `step ${spec.name} (step.conditional)`;
  if (!field && condition === undefined) throw new Error(`${where}: needs field + routes, or if + then/else`);
  if (field && !Object.keys(routes).length) throw new Error(`${where}: routes map is required with field`);
  const targets = [...Object.values(routes), c.default, c.then, c.else].filter((t) => t !== undefined && t !== null);
  for (const t of targets) {
    if (typeof t === 'string' && !deps.stepNames.includes(t)) throw new Error(`${where}: routes to unknown step "${t}"`);
    if (typeof t !== 'string' && !isRecord(t)) throw new Error(`${where}: a route target must be a step name or a response map`);
  }
  const expr = field ? (field.includes('{{') ? field : `{{ .${field.replace(/^\./, '')} }}`) : condition?.includes('{{') ? condition : `{{ ${condition} }}`;
  const compiled = deps.templates.compile(expr ?? '');

  const go = (target: unknown, output: Record<string, unknown>, ctx: Parameters<typeof buildAnswer>[1]): StepResult => {
    if (typeof target === 'string') return { next: target, output: { ...output, next_step: target } };
    if (isRecord(target)) return { answer: buildAnswer(target, ctx, deps.templates), output };
    return { output };
  };

  return {
    name: spec.name,
    type: spec.type,
    run(ctx) {
      const value = deps.templates.render(compiled, ctx.data());
      if (field) {
        if (Object.hasOwn(routes, value)) return go(routes[value], { matched_value: value }, ctx);
        if (c.default !== undefined) return go(c.default, { matched_value: value, used_default: true }, ctx);
        throw new Error(`value "${value}" not found in routes and no default configured`);
      }
      const truthy = isTruthy(value) && value !== 'false' && value !== '0';
      const target = truthy ? c.then : c.else;
      return go(target, { condition: truthy }, ctx);
    },
  };
};
