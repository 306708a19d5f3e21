/**
 * Turns the engine's module catalogue (upstream/module-schemas.json) into:
 * - one JSON Schema per module and step type for its `config:` (keys, types, required, defaults, options),
 * - the workflow config schema (top level, modules, pipelines, steps) that editors use, with per-type
 *   config schemas selected by `type:`,
 * - a TypeScript module with the per-type schemas and the facts the semantic checks need
 *   (which config keys name another module).
 */
type Json = Record<string, unknown>;

interface CatalogueField {
  key: string;
  type: string;
  label?: string;
  description?: string;
  required?: boolean;
  defaultValue?: unknown;
  options?: string[];
  inheritFrom?: string;
  arrayItemType?: string;
}

interface CatalogueEntry {
  type: string;
  label: string;
  category: string;
  description: string;
  configFields: CatalogueField[];
}

const SCHEMA_ID = 'https://wharf.dev/schemas/workflow-config.schema.json';
/** Matches a Go duration ("30s", "1h30m", "0") as time.ParseDuration accepts it. */
export { GO_DURATION_PATTERN } from '../src/workflow/go-duration.js';
import { GO_DURATION_PATTERN } from '../src/workflow/go-duration.js';

function fieldSchema(field: CatalogueField): Json {
  const schema: Json = {};
  if (field.label) schema.title = field.label;
  if (field.description) schema.description = field.description;
  schema['x-field-type'] = field.type;
  switch (field.type) {
    case 'number':
      schema.type = 'number';
      break;
    case 'boolean':
      schema.type = 'boolean';
      break;
    case 'map':
      schema.type = 'object';
      break;
    case 'array':
      schema.type = 'array';
      break;
    case 'duration':
      schema.type = 'string';
      schema.pattern = GO_DURATION_PATTERN;
      schema['x-hint'] = 'write a Go duration such as 500ms, 30s, 5m or 1h30m';
      break;
    case 'select': {
      schema.type = 'string';
      const options = [...(field.options ?? [])];
      // A default outside the options is still a value the engine accepts.
      if (typeof field.defaultValue === 'string' && !options.includes(field.defaultValue)) options.push(field.defaultValue);
      if (options.length > 0) {
        // Options of a field without a default are suggestions (SQL drivers, providers): an open set.
        if (field.defaultValue === undefined) schema.examples = options;
        else schema.enum = options;
      }
      break;
    }
    default:
      schema.type = 'string';
  }
  if (field.defaultValue !== undefined && field.defaultValue !== null && field.defaultValue !== '') schema.default = field.defaultValue;
  if (field.inheritFrom === 'dependency.name') schema['x-module-ref'] = true;
  return schema;
}

export function configSchemaFor(entry: CatalogueEntry): Json {
  const properties: Json = {};
  const required: string[] = [];
  for (const field of entry.configFields) {
    properties[field.key] = fieldSchema(field);
    if (field.required) required.push(field.key);
  }
  return {
    title: `${entry.type} config`,
    description: entry.description,
    type: 'object',
    properties,
    ...(required.length > 0 ? { required } : {}),
    additionalProperties: false,
  };
}

const stringList = { type: 'array', items: { type: 'string' } };

/** The shape of a workflow config file, as the engine's config.WorkflowConfig reads it. */
function coreDefinitions(): Json {
  return {
    module: {
      type: 'object',
      required: ['name', 'type'],
      additionalProperties: false,
      properties: {
        name: { type: 'string', minLength: 1, description: 'Unique module name; other modules and workflows refer to it.' },
        type: { type: 'string', minLength: 1, description: 'Module type, e.g. http.server. Plugin types are allowed.' },
        config: { type: 'object', description: 'Type-specific settings.' },
        dependsOn: { ...stringList, description: 'Modules that must start before this one.' },
        branches: { type: 'object', additionalProperties: { type: 'string' } },
        environments: { type: 'object' },
      },
    },
    step: {
      type: 'object',
      required: ['name', 'type'],
      additionalProperties: false,
      properties: {
        name: { type: 'string', minLength: 1, description: 'Step name, unique within its pipeline; templates read its output as .steps.<name>.' },
        type: { type: 'string', minLength: 1, description: 'Step type, e.g. step.set. Plugin types are allowed.' },
        config: { type: 'object' },
        on_error: { type: 'string' },
        timeout: { type: 'string', pattern: GO_DURATION_PATTERN, 'x-hint': 'write a Go duration such as 30s' },
        retry: { type: 'object' },
        condition: { type: 'string' },
        description: { type: 'string' },
      },
    },
    pipeline: {
      type: 'object',
      additionalProperties: false,
      properties: {
        trigger: {
          type: 'object',
          required: ['type'],
          properties: { type: { type: 'string', minLength: 1 }, config: { type: 'object' } },
        },
        steps: { type: 'array', items: { $ref: '#/$defs/step' } },
        on_error: { type: 'string' },
        timeout: { type: 'string', pattern: GO_DURATION_PATTERN, 'x-hint': 'write a Go duration such as 30s' },
        compensation: { type: 'array', items: { $ref: '#/$defs/step' } },
        description: { type: 'string' },
        input: { type: 'object' },
        output: { type: 'object' },
      },
    },
  };
}

function topLevel(): Json {
  return {
    imports: { ...stringList, description: 'Other config files merged into this one.' },
    modules: { type: 'array', items: { $ref: '#/$defs/module' } },
    workflows: { type: 'object', description: 'Workflow handlers by kind: http, messaging, statemachine, scheduler, …' },
    triggers: { type: 'object' },
    pipelines: { type: 'object', additionalProperties: { $ref: '#/$defs/pipeline' } },
    platform: { type: 'object' },
    requires: {
      type: 'object',
      additionalProperties: false,
      properties: {
        capabilities: stringList,
        plugins: {
          type: 'array',
          items: {
            type: 'object',
            required: ['name'],
            properties: {
              name: { type: 'string', minLength: 1 },
              version: { type: 'string' },
              source: { type: 'string' },
              auth: { type: 'object' },
              verify: { type: 'object' },
            },
          },
        },
      },
    },
    plugins: { type: 'object' },
    sidecars: { type: 'array', items: { type: 'object', required: ['name', 'type'] } },
    infrastructure: { type: 'object' },
    engine: { type: 'object' },
    ci: { type: 'object' },
    environments: { type: 'object' },
    secrets: { type: 'object' },
    infra: { type: 'object' },
    secretStores: { type: 'object' },
    services: { type: 'object' },
    mesh: { type: 'object' },
    networking: { type: 'object' },
    security: { type: 'object' },
    application: { type: 'object' },
    name: { type: 'string' },
    description: { type: 'string' },
    version: { type: ['string', 'number'] },
  };
}

export function buildCatalogue(source: Json): { schema: Json; typescript: string } {
  const entries = Object.values((source.moduleSchemas ?? {}) as Record<string, CatalogueEntry>).sort((a, b) =>
    a.type.localeCompare(b.type),
  );
  const configSchemas: Record<string, Json> = {};
  const moduleRefs: Record<string, Record<string, 'module' | 'service'>> = {};
  for (const entry of entries) {
    configSchemas[entry.type] = configSchemaFor(entry);
    // "Name of the database module" is wired at start-up; "Service name of …" may also be a service a
    // plugin registers, looked up when used.
    const refs = entry.configFields
      .filter((f) => f.inheritFrom === 'dependency.name')
      .map((f) => [f.key, /\bmodule\b/i.test(f.description ?? '') ? 'module' : 'service'] as const);
    if (refs.length > 0) moduleRefs[entry.type] = Object.fromEntries(refs);
  }
  const byType = (kind: 'module' | 'step') =>
    entries
      .filter((e) => e.type.startsWith('step.') === (kind === 'step'))
      .map((e) => ({
        if: { type: 'object', properties: { type: { const: e.type } }, required: ['type'] },
        // JSON Schema's if/then keyword, not a thenable
        then: { type: 'object', properties: { config: { $ref: `#/$defs/config/${e.type}` } } },
      }));
  const defs = coreDefinitions() as Record<string, Json>;
  const editorDefs: Json = {
    ...defs,
    typedModule: { allOf: [{ $ref: '#/$defs/module' }, ...byType('module')] },
    typedStep: { allOf: [{ $ref: '#/$defs/step' }, ...byType('step')] },
    config: configSchemas,
  };
  const editorTop = topLevel() as Record<string, Json>;
  editorTop.modules = { type: 'array', items: { $ref: '#/$defs/typedModule' } };
  const editorPipeline = structuredClone(defs.pipeline) as { properties: Record<string, Json> };
  editorPipeline.properties.steps = { type: 'array', items: { $ref: '#/$defs/typedStep' } };
  editorPipeline.properties.compensation = { type: 'array', items: { $ref: '#/$defs/typedStep' } };
  (editorDefs as Record<string, unknown>).pipeline = editorPipeline;
  const schema: Json = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: SCHEMA_ID,
    title: 'WorkflowConfig',
    description:
      'A Workflow engine config file (GoCodeAlone/workflow), with per-type config schemas generated from the engine\'s module catalogue. Use with `# yaml-language-server: $schema=`.',
    type: 'object',
    additionalProperties: false,
    properties: editorTop,
    $defs: editorDefs,
  };
  const core: Json = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    type: 'object',
    additionalProperties: false,
    properties: topLevel(),
    $defs: defs,
  };
  const typescript = [
    '// Generated by packages/contracts/scripts/generate.ts from upstream/module-schemas.json. Do not edit.',
    '',
    `/** The engine's built-in module and step types (${entries.length}), with their category. */`,
    `export const BUILTIN_TYPES: Readonly<Record<string, string>> = ${JSON.stringify(Object.fromEntries(entries.map((e) => [e.type, e.category])), null, 2)};`,
    '',
    '/**',
    ' * Config keys that name another module (the catalogue marks them inheritFrom: dependency.name), and',
    " * whether the catalogue calls the target a module (wired at start-up) or a service (looked up when used).",
    ' */',
    `export const MODULE_REFERENCE_KEYS: Readonly<Record<string, Readonly<Record<string, 'module' | 'service'>>>> = ${JSON.stringify(moduleRefs, null, 2)};`,
    '',
    '/** The top-level, module, pipeline and step shape, without per-type configs. */',
    `export const workflowConfigCoreSchema: Record<string, unknown> = ${JSON.stringify(core, null, 2)};`,
    '',
    '/** One JSON Schema per built-in type for its `config:` mapping. */',
    `export const moduleConfigSchemas: Readonly<Record<string, Record<string, unknown>>> = ${JSON.stringify(configSchemas, null, 2)};`,
    '',
  ].join('\n');
  return { schema, typescript };
}
