import { Ajv, type ErrorObject } from 'ajv';

/**
 * Settings are environment variables described by a JSON Schema per deployable (types, defaults,
 * descriptions). `loadSettings` validates them all at once and returns every problem, so boot can list them
 * together and exit. The README's settings table is generated from the same schemas.
 */
export interface SettingSchema {
  type: 'string' | 'integer' | 'boolean' | 'number';
  description: string;
  default?: string | number | boolean;
  minimum?: number;
  maximum?: number;
  enum?: readonly string[];
  pattern?: string;
  /** Secret values are never echoed in errors or logs. */
  secret?: boolean;
  /** Checked after the schema: returns a message when the value is wrong. */
  check?: (value: string) => string | undefined;
}

export type SettingsSchema = Record<string, SettingSchema>;

export type SettingsOf<S extends SettingsSchema> = {
  [K in keyof S]: S[K]['type'] extends 'integer' | 'number'
    ? S[K] extends { default: number } ? number : number | undefined
    : S[K]['type'] extends 'boolean'
      ? boolean
      : S[K] extends { default: string } ? string : string | undefined;
};

export class SettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid settings:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'SettingsError';
  }
}

const ajv = new Ajv({ allErrors: true, coerceTypes: true, useDefaults: true, strict: false });

function describe(name: string, spec: SettingSchema, err: ErrorObject, raw: string | undefined): string {
  const shown = spec.secret || raw === undefined ? '' : ` (got ${JSON.stringify(raw)})`;
  switch (err.keyword) {
    case 'type':
      return `${name} must be ${spec.type === 'integer' ? 'a whole number' : `a ${spec.type}`}${shown}`;
    case 'minimum':
    case 'maximum':
      return `${name} must be between ${spec.minimum ?? '-∞'} and ${spec.maximum ?? '∞'}${shown}`;
    case 'enum':
      return `${name} must be one of ${spec.enum?.join(', ')}${shown}`;
    case 'pattern':
      return `${name} has the wrong form${shown}: expected ${spec.pattern}`;
    default:
      return `${name} ${err.message ?? 'is invalid'}${shown}`;
  }
}

export function loadSettings<S extends SettingsSchema>(schema: S, env: Record<string, string | undefined>): SettingsOf<S> {
  const properties: Record<string, object> = {};
  for (const [name, spec] of Object.entries(schema)) {
    const { description, type, minimum, maximum, pattern } = spec;
    properties[name] = {
      type,
      description,
      ...(spec.default !== undefined ? { default: spec.default } : {}),
      ...(minimum !== undefined ? { minimum } : {}),
      ...(maximum !== undefined ? { maximum } : {}),
      ...(pattern !== undefined ? { pattern } : {}),
      ...(spec.enum ? { enum: spec.enum } : {}),
    };
  }
  const data: Record<string, unknown> = {};
  for (const name of Object.keys(schema)) {
    const raw = env[name];
    if (raw !== undefined && raw !== '') data[name] = raw;
  }
  const validate = ajv.compile({ type: 'object', properties });
  const problems: string[] = [];
  if (!validate(data)) {
    for (const err of validate.errors ?? []) {
      const name = err.instancePath.slice(1);
      const spec = schema[name];
      if (spec) problems.push(describe(name, spec, err, env[name]));
    }
  }
  for (const [name, spec] of Object.entries(schema)) {
    const raw = env[name];
    if (raw === undefined || raw === '' || !spec.check) continue;
    const message = spec.check(raw);
    if (message) problems.push(`${name} ${message}`);
  }
  if (problems.length > 0) throw new SettingsError(problems);
  return data as SettingsOf<S>;
}

/** Markdown table of a settings schema, for the README. */
export function settingsTable(schema: SettingsSchema): string {
  const rows = Object.entries(schema).map(([name, s]) => {
    const def = s.default === undefined ? '' : `\`${String(s.default)}\``;
    return `| \`${name}\` | ${s.type}${s.enum ? ` (${s.enum.join(' \\| ')})` : ''} | ${def} | ${s.description} |`;
  });
  return ['| setting | type | default | what it does |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/** A PostgreSQL connection string check that never echoes the password. */
export function checkPostgresUrl(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'is not a URL: expected postgres://user:password@host:port/database';
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    return `must start with postgres:// or postgresql:// (got ${url.protocol}//)`;
  }
  if (!url.hostname) return 'has no host: expected postgres://user:password@host:port/database';
  return undefined;
}

/** Settings every deployable reads (wharf up, the control-plane server, the reconciler). */
export const commonSettings = {
  WHARF_DATA_DIR: {
    type: 'string',
    description: 'Where `wharf up` keeps its state: the embedded database (`pg/`), example repositories, runtime work dirs, logs.',
    default: '.wharf',
  },
  WHARF_LOG_LEVEL: {
    type: 'string',
    description: 'Log level.',
    default: 'info',
    enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
  },
} as const satisfies SettingsSchema;
