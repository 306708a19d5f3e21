/**
 * What a step's factory refuses when the engine builds the pipeline (an error: the config does not
 * load), and what the engine refuses of a module's required keys beyond their presence. Each message
 * names the engine source line it follows.
 */
import { CODES } from '../../codes.js';
import type { Diagnostic } from '../../diagnostic.js';
import { ENGINE_BEHAVIOUR } from '../../generated/engine-behaviour.js';
import { moduleConfigSchemas } from '../../generated/module-catalogue.js';
import { diagnosticAt } from '../../yaml/diagnostic-at.js';
import type { PathSegment } from '../../yaml/locate.js';
import { type ConfigDocument, isRecord } from '../config-document.js';
import { GO_DURATION_PATTERN } from '../go-duration.js';
import type { StepFacts, ValueKind } from './engine-facts.js';

const GO_DURATION = new RegExp(GO_DURATION_PATTERN);
/** `{{ template }}` and `${ENV}` values are resolved by the engine later. */
const isDynamic = (value: string): boolean => value.includes('{{') || value.includes('${');

const KIND_WORDS: Record<ValueKind, string> = {
  text: 'non-empty text',
  map: 'a non-empty mapping',
  list: 'a non-empty list',
  number: 'a number',
  boolean: 'true or false',
  any: 'a value',
};

/** Does the factory's `x, _ := config["k"].(T)` followed by an emptiness check accept this value? */
function satisfies(value: unknown, kind: ValueKind): boolean {
  switch (kind) {
    case 'text':
      return typeof value === 'string' && value !== '';
    case 'map':
      return isRecord(value) && Object.keys(value).length > 0;
    case 'list':
      return Array.isArray(value) && value.length > 0;
    case 'number':
      return typeof value === 'number';
    case 'boolean':
      return typeof value === 'boolean';
    default:
      return value !== undefined && value !== null;
  }
}

export function checkStepFactory(
  source: ConfigDocument,
  step: Record<string, unknown>,
  path: readonly PathSegment[],
  facts: StepFacts,
  /** e.g. `step "load" (step.db_query) of pipeline "orders"` */
  label: string,
): Diagnostic[] {
  const Label = label.charAt(0).toUpperCase() + label.slice(1);
  const catalogue = catalogueOf(step.type);
  const out: Diagnostic[] = [];
  const config = isRecord(step.config) ? step.config : {};
  const configPath = isRecord(step.config) ? [...path, 'config'] : [...path];
  const { positions } = source;
  const at = (key: string | undefined) =>
    key !== undefined && key in config
      ? positions.valueRange([...configPath, key])
      : isRecord(step.config)
        ? positions.entryRange(configPath)
        : positions.headRange(path);
  const push = (key: string | undefined, code: (typeof CODES)[keyof typeof CODES], message: string, severity: 'error' | 'warning' = 'error') =>
    out.push(diagnosticAt(source.file, positions, at(key), code, message, severity));
  const known = new Set(Object.keys(catalogue.fields));
  const aliasesOf = (key: string) => facts.aliases.filter((a) => a.key === key).map((a) => a.alias);
  const valueOf = (key: string) => [key, ...aliasesOf(key)].map((k) => config[k]).find((v) => v !== undefined);
  const defaultOf = (key: string) => facts.defaults?.find((d) => d.key === key)?.value;
  for (const requirement of facts.required) {
    if (requirement.when) {
      const chosen = config[requirement.when.key] ?? defaultOf(requirement.when.key);
      if (typeof chosen !== 'string' || !requirement.when.values.includes(chosen)) continue;
    }
    const value = valueOf(requirement.key);
    if (satisfies(value, requirement.kind)) continue;
    // The factory read may be older than the engine Wharf targets: its requirement is an error only
    // where the engine's catalogue agrees (marks the key required, or, for a requirement that depends
    // on another key, lists both keys and that key's value); otherwise a warning that cites the factory.
    const agreed = requirement.when
      ? known.has(requirement.key) && requirement.when.values.every((v) => (catalogue.options[requirement.when?.key ?? ''] ?? []).includes(v))
      : catalogue.required.includes(requirement.key);
    const empty = value === '' || (requirement.kind === 'map' && isRecord(value)) || (requirement.kind === 'list' && Array.isArray(value));
    const condition = requirement.when ? ` when "${requirement.when.key}" is "${String(config[requirement.when.key] ?? defaultOf(requirement.when.key))}"${config[requirement.when.key] === undefined ? ' (its default)' : ''}` : '';
    const alias = aliasesOf(requirement.key).length > 0 ? ` (or ${aliasesOf(requirement.key).map((a) => `"${a}"`).join(', ')})` : '';
    push(
      value === undefined ? undefined : requirement.key,
      value === undefined ? CODES.MissingRequired : empty ? CODES.InvalidValue : CODES.WrongType,
      agreed
        ? `${Label} needs "${requirement.key}"${alias} as ${KIND_WORDS[requirement.kind]}${condition}: the engine refuses to load the step without it (${requirement.source}).`
        : `${Label} has no "${requirement.key}"${alias}: the engine's factory refuses the step without it (${requirement.source}, ${commitOf(facts)}), though the engine's catalogue does not mark it required; a newer engine may accept it.`,
      agreed ? 'error' : 'warning',
    );
  }
  for (const rule of facts.oneOf ?? []) {
    if (rule.keys.some((k) => { const v = config[k]; return v !== undefined && v !== null && v !== '' && !(Array.isArray(v) && v.length === 0); })) continue;
    const agreed = rule.keys.every((k) => known.has(k));
    push(
      undefined,
      CODES.MissingRequired,
      `${Label} needs one of ${rule.keys.map((k) => `"${k}"`).join(' or ')}: the engine refuses to load the step without any of them (${rule.source}).`,
      agreed ? 'error' : 'warning',
    );
  }
  for (const rule of facts.positive ?? []) {
    const value = config[rule.key];
    if (typeof value !== 'number' || value > 0) continue;
    push(rule.key, CODES.InvalidValue, `"${rule.key}" of ${label} is ${value}: the engine refuses zero or less (${rule.source}).`);
  }
  for (const rule of facts.durations ?? []) {
    const value = config[rule.key];
    if (typeof value !== 'string' || value === '' || isDynamic(value) || GO_DURATION.test(value)) continue;
    push(rule.key, CODES.InvalidValue, `"${rule.key}" of ${label} is "${value}", which Go cannot parse as a duration: the engine refuses the step (${rule.source}). Write it as 500ms, 30s, 5m or 1h30m.`);
  }
  for (const option of facts.options) {
    const value = config[option.key];
    // Values the engine's catalogue lists are accepted by the engine Wharf targets, even where the factory read is older.
    const accepted = [...new Set([...option.values, ...(catalogue.options[option.key] ?? [])])];
    if (typeof value !== 'string' || value === '' || accepted.includes(value)) continue;
    push(
      option.key,
      CODES.NotAnOption,
      `"${option.key}" of ${label} is "${value}", not one of: ${accepted.join(', ')}. The engine refuses other values, and compares them exactly (${option.source}).`,
    );
  }
  for (const rule of facts.noTemplates) {
    const value = config[rule.key];
    // Engines whose catalogue has allow_dynamic_sql accept templates in SQL when it is true.
    if (typeof value !== 'string' || !value.includes('{{') || config[DYNAMIC_SQL] === true) continue;
    push(
      rule.key,
      CODES.InvalidValue,
      `"${rule.key}" of ${label} holds a {{ template }}: the engine refuses templates in SQL (${rule.source}). Pass values as params instead.`,
    );
  }
  for (const rule of facts.exclusive) {
    if (!(rule.keys[0] in config && rule.keys[1] in config)) continue;
    push(rule.keys[1], CODES.InvalidValue, `${Label} sets both "${rule.keys[0]}" and "${rule.keys[1]}": the engine refuses them together (${rule.source}). Keep one.`);
  }
  return out;
}

/** The catalogue switch that lets newer engines accept templates in SQL. */
const DYNAMIC_SQL = 'allow_dynamic_sql';

/** The commit a step's factory was read at. */
const commitOf = (facts: StepFacts): string => `read at ${(ENGINE_BEHAVIOUR.files[facts.file]?.commit ?? 'an unknown commit').slice(0, 12)}`;

interface CatalogueEntry {
  required: string[];
  options: Record<string, string[]>;
  fields: Record<string, unknown>;
}
const catalogueCache = new Map<string, CatalogueEntry>();

/** The engine catalogue's required keys, option lists and fields of a type. */
export function catalogueOf(type: unknown): CatalogueEntry {
  const cached = typeof type === 'string' ? catalogueCache.get(type) : undefined;
  if (cached) return cached;
  const schema = (typeof type === 'string' ? moduleConfigSchemas[type] : undefined) as
    | { required?: string[]; properties?: Record<string, { enum?: unknown[] }> }
    | undefined;
  const options: Record<string, string[]> = {};
  for (const [key, field] of Object.entries(schema?.properties ?? {})) {
    if (Array.isArray(field.enum)) options[key] = field.enum.map(String);
  }
  const found = { required: schema?.required ?? [], options, fields: schema?.properties ?? {} };
  if (typeof type === 'string') catalogueCache.set(type, found);
  return found;
}

const TEXT_FIELDS = new Set(['string', 'duration', 'select', 'filepath', 'sql']);

/** A catalogue-required text key written as "": the engine refuses it like a missing one (schema/validate.go). */
export function checkModuleRequiredNotEmpty(
  source: ConfigDocument,
  module: Record<string, unknown>,
  path: readonly PathSegment[],
  type: string,
  where: string,
): Diagnostic[] {
  const schema = moduleConfigSchemas[type] as { required?: string[]; properties?: Record<string, { 'x-field-type'?: string }> } | undefined;
  if (!schema?.required || !isRecord(module.config)) return [];
  const out: Diagnostic[] = [];
  for (const key of schema.required) {
    if (module.config[key] !== '' || !TEXT_FIELDS.has(schema.properties?.[key]?.['x-field-type'] ?? '')) continue;
    out.push(
      diagnosticAt(
        source.file,
        source.positions,
        source.positions.valueRange([...path, 'config', key]),
        CODES.InvalidValue,
        `"${key}" ${where} is empty: the engine refuses a required key written as empty text (${ENGINE_BEHAVIOUR.modules.requiredNotEmpty ?? 'schema/validate.go'}).`,
        'error',
      ),
    );
  }
  return out;
}
