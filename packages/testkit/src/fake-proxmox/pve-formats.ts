/**
 * PVE's parameter formats, as pve-common's JSONSchema.pm checks them: named formats (`pve-vmid`, `urlencoded`, …),
 * `-list` formats (each item checked) and property-string formats (`key=value,…` with a default key). Error texts
 * are PVE's. Named formats the agent never sends are not checked (UNCHECKED lists them by kind, for honesty).
 */

const DNS_LABEL = '[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?';
const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

function ipv6(v: string): boolean {
  return /^[0-9a-fA-F:.]+$/.test(v) && v.includes(':') && v.split('::').length <= 2;
}

function cidr(v: string, ip: (s: string) => boolean, max: number): boolean {
  const [addr, len, ...rest] = v.split('/');
  return rest.length === 0 && addr !== undefined && ip(addr) && len !== undefined && /^\d+$/.test(len) && Number(len) <= max;
}

const v4 = (s: string) => IPV4.test(s);

/** Named formats: a checker that throws PVE's message, or returns normally. */
const NAMED: Record<string, (value: string) => void> = {
  'pve-vmid': (v) => {
    if (!/^[1-9][0-9]{2,8}$/.test(v)) throw new Error('value does not look like a valid VM ID');
  },
  'pve-node': (v) => {
    if (!new RegExp(`^${DNS_LABEL}$`).test(v)) throw new Error('value does not look like a valid node name');
  },
  'pve-storage-id': (v) => {
    if (!/^[a-z][a-z0-9\-_.]*[a-z0-9]$/i.test(v)) throw new Error(`storage ID '${v}' contains illegal characters`);
  },
  'pve-configid': (v) => {
    if (!/^[a-z][a-z0-9_-]+$/i.test(v)) throw new Error(`invalid configuration ID '${v}'`);
  },
  'pve-poolid': (v) => {
    if (!/^[A-Za-z0-9_\-.]+$/.test(v)) throw new Error(`invalid pool ID '${v}'`);
  },
  'pve-tag': (v) => {
    if (!/^[a-z0-9_][a-z0-9_\-+.]*$/i.test(v)) throw new Error('invalid characters in tag');
  },
  'dns-name': (v) => {
    if (!new RegExp(`^${DNS_LABEL}(\\.${DNS_LABEL})*$`).test(v)) throw new Error('value does not look like a valid DNS name');
  },
  urlencoded: (v) => {
    if (!/^[-%a-zA-Z0-9_.!~*'()]*$/.test(v)) throw new Error(`invalid urlencoded string: ${v}`);
  },
  ipv4: (v) => {
    if (!v4(v)) throw new Error(`value does not look like a valid IPv4 address`);
  },
  ipv6: (v) => {
    if (!ipv6(v)) throw new Error(`value does not look like a valid IPv6 address`);
  },
  'pve-ipv4-config': (v) => {
    if (v !== 'dhcp' && v !== 'manual' && !cidr(v, v4, 32)) throw new Error('value does not look like a valid ipv4 network configuration');
  },
  'pve-ipv6-config': (v) => {
    if (!['dhcp', 'auto', 'manual'].includes(v) && !cidr(v, ipv6, 128)) throw new Error('value does not look like a valid ipv6 network configuration');
  },
  'pve-upid': (v) => {
    if (!/^UPID:[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?:[0-9A-Fa-f]{8}:[0-9A-Fa-f]{8,9}:[0-9A-Fa-f]{8}:[^:\s]+:[^:\s]*:[^:\s]+:$/.test(v)) {
      throw new Error('unable to parse worker upid');
    }
  },
};

/** Property-string formats PVE registers by name; restated from qemu-server so the keys are checked. */
const NAMED_OBJECTS: Record<string, Record<string, PropertySchema>> = {
  'pve-qm-ipconfig': {
    ip: { type: 'string', format: 'pve-ipv4-config', optional: 1 },
    gw: { type: 'string', format: 'ipv4', optional: 1 },
    ip6: { type: 'string', format: 'pve-ipv6-config', optional: 1 },
    gw6: { type: 'string', format: 'ipv6', optional: 1 },
  },
};

/** Named formats accepted without a check (the agent never sends them). */
export const UNCHECKED = 'every other named format (pve-qm-ide, pve-vm-cpu-conf, pve-volume-id, …)';

export interface PropertySchema {
  type?: string;
  format?: string | Record<string, unknown>;
  optional?: number | boolean;
  default_key?: number | boolean;
  alias?: string;
  enum?: string[];
  pattern?: string;
  minimum?: number | string;
  maximum?: number | string;
  maxLength?: number;
  minLength?: number;
}

/** Perl's stringified qr// (`(?^:…)`, `(?^i:…)`) to a JavaScript pattern. */
export function perlPattern(pattern: string): RegExp {
  let flags = '';
  const js = pattern.replace(/\(\?\^([a-z]*):/g, (_m, f: string) => {
    if (f.includes('i')) flags = 'i';
    return '(?:';
  });
  return new RegExp(`^(?:${js})$`, flags);
}

const BOOLEAN_WORDS = /^(1|0|on|off|yes|no|true|false)$/i;

/** Checks one value against a property schema (used for property-string members); returns PVE's message or null. */
export function checkScalar(schema: PropertySchema, value: string): string | null {
  if (schema.type === 'boolean' && !BOOLEAN_WORDS.test(value)) return `type check ('boolean') failed - got '${value}'`;
  if (schema.type === 'integer' && !/^[+-]?\d+$/.test(value)) return `type check ('integer') failed - got '${value}'`;
  if (schema.type === 'number' && !/^[+-]?(\d+\.\d+|\d+\.|\.\d+|\d+)([eE][+-]?\d+)?$/.test(value)) {
    return `type check ('number') failed - got '${value}'`;
  }
  if (schema.format) {
    const problem = formatProblem(schema.format, value);
    if (problem) return `invalid format - ${problem}`;
  }
  if (schema.pattern && !perlPattern(schema.pattern).test(value)) return 'value does not match the regex pattern';
  if (schema.maxLength !== undefined && value.length > schema.maxLength) return `value may only be ${schema.maxLength} characters long`;
  if (schema.minLength !== undefined && value.length < schema.minLength) return `value must be at least ${schema.minLength} characters long`;
  if (/^[+-]?\d+(\.\d+)?$/.test(value)) {
    if (schema.maximum !== undefined && Number(value) > Number(schema.maximum)) return `value must have a maximum value of ${schema.maximum}`;
    if (schema.minimum !== undefined && Number(value) < Number(schema.minimum)) return `value must have a minimum value of ${schema.minimum}`;
  }
  if (schema.enum && !schema.enum.includes(value)) return `value '${value}' does not have a value in the enumeration '${schema.enum.join(', ')}'`;
  return null;
}

function propertyStringProblem(format: Record<string, PropertySchema>, value: string): string | null {
  const parsed: Record<string, string> = {};
  let defaultKey: string | undefined;
  for (const part of value.split(',')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq > 0) {
      let key = part.slice(0, eq);
      const v = part.slice(eq + 1);
      if (parsed[key] !== undefined) return `duplicate key in comma-separated list property: ${key}`;
      const alias = format[key]?.alias;
      if (alias) key = alias;
      if (!format[key]) return `invalid key in comma-separated list property: ${key}`;
      parsed[key] = v;
    } else if (eq < 0) {
      if (defaultKey) return `duplicate key in comma-separated list property: ${defaultKey}`;
      defaultKey = Object.keys(format).find((k) => format[k]!.default_key);
      if (!defaultKey) return 'value without key, but schema does not define a default key';
      parsed[defaultKey] = part;
    } else {
      return 'missing key in comma-separated list property';
    }
  }
  const errors: string[] = [];
  for (const [key, schema] of Object.entries(format)) {
    const v = parsed[key];
    if (v === undefined) {
      if (!schema.optional && !schema.alias) errors.push(`${key}: property is missing and it is not optional`);
      continue;
    }
    const problem = checkScalar(schema, v);
    if (problem) errors.push(`${key}: ${problem}`);
  }
  return errors.length ? `format error\n${errors.join('\n')}` : null;
}

/** PVE's complaint about `value` in `format`, or null when it is fine (or the format is not checked here). */
export function formatProblem(format: string | Record<string, unknown>, value: string): string | null {
  try {
    if (typeof format === 'object') return propertyStringProblem(format as Record<string, PropertySchema>, value);
    const object = NAMED_OBJECTS[format];
    if (object) return propertyStringProblem(object, value);
    const list = /^(.*)-list$/.exec(format);
    if (list && NAMED[list[1]!]) {
      for (const item of value.split(/[\0;,\s]+/).filter(Boolean)) NAMED[list[1]!]!(item);
      return null;
    }
    NAMED[format]?.(value);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}
