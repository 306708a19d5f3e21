/**
 * Schema checks of one workflow config document: the top-level shape, then each module's and step's
 * `config:` against its type's schema generated from the engine's catalogue.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import { CODES } from '../codes.js';
import type { Diagnostic } from '../diagnostic.js';
import { BUILTIN_TYPES, moduleConfigSchemas, workflowConfigCoreSchema } from '../generated/module-catalogue.js';
import { createAjv, lazy } from '../schema/create-ajv.js';
import { type ErrorVerdict, schemaErrorsToDiagnostics } from '../schema/schema-errors-to-diagnostics.js';
import { suggest } from '../suggest.js';
import { diagnosticAt } from '../yaml/diagnostic-at.js';
import type { PathSegment } from '../yaml/locate.js';
import { type ConfigDocument, isRecord } from './config-document.js';
import { checkModuleRequiredNotEmpty, checkStepFactory } from './engine/check-step-factory.js';
import { configVerdict, stepFacts } from './engine/engine-verdicts.js';

const ajv = lazy(() => createAjv({ useDefaults: false }));
const coreValidator = lazy(() => ajv().compile(workflowConfigCoreSchema));
const typeValidators = new Map<string, ValidateFunction>();

function typeValidator(type: string): ValidateFunction | undefined {
  const schema = moduleConfigSchemas[type];
  if (!schema) return undefined;
  let validate = typeValidators.get(type);
  if (!validate) {
    validate = ajv().compile(schema);
    typeValidators.set(type, validate);
  }
  return validate;
}

export { isDynamic } from './engine/engine-verdicts.js';

/** A step without a name loads (the engine passes "" to its factory), but nothing can read or route to it. */
const STEP_PATH = /^\/pipelines\/[^/]+\/(steps|compensation)\/\d+$/;
/**
 * A pipeline's trigger is set up best-effort: the engine skips one without a type, and only logs a trigger it cannot
 * configure (engine.go configurePipelines); the pipeline loads either way. A trigger that is not a mapping stays an
 * error: the pipeline cannot be read.
 */
const TRIGGER_PATH = /^\/pipelines\/[^/]+\/trigger(\/.*)?$/;
function triggerVerdict(e: ErrorObject): ErrorVerdict | undefined {
  if (!TRIGGER_PATH.test(e.instancePath) || (e.keyword === 'type' && /\/trigger$/.test(e.instancePath))) return undefined;
  return {
    severity: 'warning',
    note: "The engine loads the pipeline without this trigger (it skips a trigger without a type and only logs one it cannot configure), so nothing starts the pipeline but step.workflow_call.",
  };
}
function coreVerdict(e: ErrorObject): 'skip' | ErrorVerdict | undefined {
  const trigger = triggerVerdict(e);
  if (trigger) return trigger;
  const unnamed =
    (e.keyword === 'required' && (e.params as { missingProperty?: unknown }).missingProperty === 'name' && STEP_PATH.test(e.instancePath)) ||
    (e.keyword === 'minLength' && /\/name$/.test(e.instancePath) && STEP_PATH.test(e.instancePath.slice(0, -'/name'.length)));
  if (!unnamed) return undefined;
  return {
    severity: 'warning',
    note: 'The engine loads a step without a name, but templates cannot read its output, a conditional cannot route to it, and route pipelines drop it.',
  };
}

export function checkConfigSchema(config: ConfigDocument): Diagnostic[] {
  const { file, positions, value } = config;
  if (value === null || value === undefined) {
    return [diagnosticAt(file, positions, positions.headRange([]), CODES.EmptyDocument, 'This YAML document is empty: remove it or add modules.')];
  }
  if (!isRecord(value)) {
    return [
      diagnosticAt(
        file,
        positions,
        positions.headRange([]),
        CODES.NotAMapping,
        'A workflow config must be a mapping with keys such as modules:, workflows: and pipelines:.',
      ),
    ];
  }
  const out: Diagnostic[] = [];
  const validate = coreValidator();
  if (!validate(value)) {
    out.push(...schemaErrorsToDiagnostics(validate.errors ?? [], { file, positions, classify: coreVerdict }));
  }
  const modules = Array.isArray(value.modules) ? value.modules : [];
  modules.forEach((module, i) => {
    if (isRecord(module)) out.push(...checkTyped(config, module, ['modules', i], 'module'));
  });
  const pipelines = isRecord(value.pipelines) ? value.pipelines : {};
  for (const [name, pipeline] of Object.entries(pipelines)) {
    if (!isRecord(pipeline)) continue;
    for (const list of ['steps', 'compensation'] as const) {
      const steps = Array.isArray(pipeline[list]) ? pipeline[list] : [];
      steps.forEach((step, j) => {
        if (isRecord(step)) out.push(...checkTyped(config, step, ['pipelines', name, list, j], `step`, name));
      });
    }
  }
  return out;
}

function checkTyped(
  config: ConfigDocument,
  item: Record<string, unknown>,
  path: PathSegment[],
  kind: 'module' | 'step',
  pipeline?: string,
): Diagnostic[] {
  const { file, positions } = config;
  const type = item.type;
  if (typeof type !== 'string' || type === '') return [];
  const name = typeof item.name === 'string' ? item.name : '?';
  const where = kind === 'module' ? `in the config of module "${name}" (${type})` : `in the config of step "${name}" (${type}) of pipeline "${pipeline}"`;
  const validate = typeValidator(type);
  if (!validate) {
    const hint = suggest(type, Object.keys(BUILTIN_TYPES));
    return [
      diagnosticAt(
        file,
        positions,
        positions.valueRange([...path, 'type']),
        CODES.UnknownModuleType,
        `"${type}" is not a built-in ${kind} type: provided by a plugin?${hint ? ` Did you mean "${hint}"?` : ' Check that the plugin is listed under requires.plugins.'}`,
      ),
    ];
  }
  const cfg = item.config === undefined || item.config === null ? {} : item.config;
  if (!isRecord(cfg)) return [];
  const out: Diagnostic[] = [];
  const facts = kind === 'step' ? stepFacts(type) : undefined;
  if (facts) out.push(...checkStepFactory(config, item, path, facts, `step "${name}" (${type}) of pipeline "${pipeline}"`));
  if (kind === 'module') out.push(...checkModuleRequiredNotEmpty(config, item, path, type, `in the config of module "${name}" (${type})`));
  if (validate(cfg)) return out;
  const hasConfig = item.config !== undefined && item.config !== null;
  out.push(
    ...schemaErrorsToDiagnostics(validate.errors ?? [], {
      file,
      positions,
      basePath: hasConfig ? [...path, 'config'] : path,
      where,
      classify: (e) => configVerdict(e, kind, type),
    }),
  );
  return out;
}
