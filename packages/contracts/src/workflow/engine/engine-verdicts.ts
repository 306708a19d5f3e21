/**
 * How severe a schema finding in a module's or step's `config:` is, decided by what the engine does
 * with it (upstream/engine-behaviour.json, read from the engine's source):
 * - modules: the engine refuses a module whose catalogue-required key is missing (error); it never
 *   checks types, options or durations (warning).
 * - steps: only the step's factory decides. What the factory refuses is checked by
 *   check-step-factory.ts (error); every other schema finding is at most a warning.
 */
import type { ErrorObject } from 'ajv';
import type { ErrorVerdict } from '../../schema/schema-errors-to-diagnostics.js';
import { ENGINE_BEHAVIOUR } from '../../generated/engine-behaviour.js';
import { catalogueOf } from './check-step-factory.js';
import type { StepFacts } from './engine-facts.js';

export type ConfigOwner = 'module' | 'step';

export const stepFacts = (type: string): StepFacts | undefined => ENGINE_BEHAVIOUR.steps[type];

/** `x, _ := config["key"].(string)` reads a wrong type as missing, so the engine uses its default. */
const ACCEPTED = 'The engine does not check this when it loads the config (it reads such a value as missing and uses its default).';

/** `{{ template }}` and `${ENV}` values are resolved by the engine later: their type is unknown here. */
export const isDynamic = (value: unknown): boolean =>
  typeof value === 'string' && (value.includes('{{') || value.includes('${'));

export function configVerdict(e: ErrorObject, owner: ConfigOwner, type: string): 'skip' | ErrorVerdict {
  if (isDynamic(e.data) && ['type', 'enum', 'pattern', 'const'].includes(e.keyword)) return 'skip';
  // A number where a choice of text is expected is already reported by its type check.
  if (e.keyword === 'enum' && typeof e.data !== 'string') return 'skip';
  const facts = owner === 'step' ? stepFacts(type) : undefined;
  const missing = e.keyword === 'required' ? String((e.params as { missingProperty?: unknown }).missingProperty) : undefined;
  if (missing !== undefined) {
    if (owner === 'module') {
      return {
        severity: 'error',
        note: `The engine refuses to load a module without it (${ENGINE_BEHAVIOUR.modules.requiredKeys ?? 'schema/validate.go'}).`,
      };
    }
    // Where the factory read requires it too, check-step-factory.ts reports it as an error, once.
    if (facts?.required.some((r) => r.key === missing)) return 'skip';
    const filled = facts?.defaults?.find((d) => d.key === missing);
    return {
      severity: 'warning',
      note: filled
        ? `The engine's factory fills it in when it is missing${filled.value !== undefined ? ` ("${filled.value}")` : ''} (${filled.source}), so the step loads.`
        : facts
        ? `The engine's factory does not require it (${facts.file}), so the step loads and uses a default.`
        : 'The engine\'s catalogue marks it required, but the engine leaves it to the step\'s factory; the step may fail when it runs.',
    };
  }
  const key = e.instancePath.split('/')[1];
  if (e.keyword === 'additionalProperties') {
    const extra = String((e.params as { additionalProperty?: unknown }).additionalProperty);
    if (facts?.aliases.some((a) => a.alias === extra)) return 'skip';
    return { severity: 'warning' };
  }
  if (e.keyword === 'enum' && key !== undefined && facts?.options.some((o) => o.key === key)) return 'skip';
  // A duration the factory parses is reported as the factory's refusal (check-step-factory.ts).
  if (e.keyword === 'pattern' && e.instancePath === `/${key}` && facts?.durations?.some((d) => d.key === key)) return 'skip';
  // A wrong type on a key the factory requires is reported as the factory's refusal (check-step-factory.ts).
  if (e.keyword === 'type' && e.instancePath === `/${key}` && facts?.required.some((r) => r.key === key) && catalogueOf(type).required.includes(key as string)) {
    return 'skip';
  }
  return { severity: 'warning', note: ACCEPTED };
}
