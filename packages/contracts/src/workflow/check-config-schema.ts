/**
 * Schema checks of one workflow config document: the top-level shape, then each module's and step's
 * `config:` against its type's schema generated from the engine's catalogue.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import { CODES } from '../codes.js';
import type { Diagnostic, Severity } from '../diagnostic.js';
import { BUILTIN_TYPES, moduleConfigSchemas, workflowConfigCoreSchema } from '../generated/module-catalogue.js';
import { createAjv, lazy } from '../schema/create-ajv.js';
import { schemaErrorsToDiagnostics } from '../schema/schema-errors-to-diagnostics.js';
import { suggest } from '../suggest.js';
import { diagnosticAt } from '../yaml/diagnostic-at.js';
import { type PathSegment, headRange, valueRange } from '../yaml/locate.js';
import { type ConfigDocument, isRecord } from './config-document.js';

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

/** `${ENV}` and `{{ template }}` values are resolved by the engine at run time: their type is unknown here. */
export const isDynamic = (value: unknown): boolean =>
  typeof value === 'string' && (value.includes('{{') || value.includes('${'));

const TEXT_FIELDS = new Set(['string', 'filepath', 'sql', 'select', 'duration']);

function classifyConfigError(e: ErrorObject): 'skip' | Severity | undefined {
  if (isDynamic(e.data) && ['type', 'enum', 'pattern', 'const'].includes(e.keyword)) return 'skip';
  const fieldType = isRecord(e.parentSchema) ? e.parentSchema['x-field-type'] : undefined;
  // A number where a choice of text is expected is already reported by its type check.
  if (e.keyword === 'enum' && typeof e.data !== 'string') return 'skip';
  // A number or boolean where text is expected: the engine reads it as its default. Worth a look, not fatal.
  if (e.keyword === 'type' && typeof fieldType === 'string' && TEXT_FIELDS.has(fieldType) && ['number', 'boolean'].includes(typeof e.data)) {
    return 'warning';
  }
  return undefined;
}

export function checkConfigSchema(config: ConfigDocument): Diagnostic[] {
  const { file, doc, lineCounter, value } = config;
  if (value === null || value === undefined) {
    return [diagnosticAt(file, lineCounter, headRange(doc.contents ?? undefined), CODES.EmptyDocument, 'This YAML document is empty: remove it or add modules.')];
  }
  if (!isRecord(value)) {
    return [
      diagnosticAt(
        file,
        lineCounter,
        headRange(doc.contents ?? undefined),
        CODES.NotAMapping,
        'A workflow config must be a mapping with keys such as modules:, workflows: and pipelines:.',
      ),
    ];
  }
  const out: Diagnostic[] = [];
  const validate = coreValidator();
  if (!validate(value)) {
    out.push(...schemaErrorsToDiagnostics(validate.errors ?? [], { file, doc, lineCounter }));
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
  const { file, doc, lineCounter } = config;
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
        lineCounter,
        valueRange(doc, [...path, 'type']),
        CODES.UnknownModuleType,
        `"${type}" is not a built-in ${kind} type: provided by a plugin?${hint ? ` Did you mean "${hint}"?` : ' Check that the plugin is listed under requires.plugins.'}`,
      ),
    ];
  }
  const cfg = item.config === undefined || item.config === null ? {} : item.config;
  if (!isRecord(cfg)) return [];
  if (validate(cfg)) return [];
  const hasConfig = item.config !== undefined && item.config !== null;
  return schemaErrorsToDiagnostics(validate.errors ?? [], {
    file,
    doc,
    lineCounter,
    basePath: hasConfig ? [...path, 'config'] : path,
    where,
    classify: classifyConfigError,
  });
}
