import { randomUUID } from 'node:crypto';
import { formatValue, isTruthy } from './format-value.js';
import { collectionFunctions } from './collection-functions.js';
import { sprintf } from './printf.js';

export class TemplateExecError extends Error {
  override readonly name = 'TemplateExecError';
}

export type TemplateFunction = (...args: unknown[]) => unknown;
export type FunctionEnv = {
  env: Readonly<Record<string, string | undefined>>;
  now?: () => Date;
  /** Largest string a function may build (repeat, replace, printf widths); default 4 MiB characters. */
  maxOutput?: number;
};

const str = (v: unknown): string => formatValue(v);
const num = (v: unknown): number => {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  const n = Number.parseFloat(str(v));
  return Number.isNaN(n) ? 0 : n;
};
const int = (v: unknown): number => Math.trunc(num(v));

function goTimeFormat(d: Date, layout: string): string {
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const months = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
  const days = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
  const table: [string, () => string][] = [
    ['2006', () => String(d.getUTCFullYear())],
    ['January', () => months[d.getUTCMonth()]],
    ['Jan', () => months[d.getUTCMonth()].slice(0, 3)],
    ['Monday', () => days[d.getUTCDay()]],
    ['Mon', () => days[d.getUTCDay()].slice(0, 3)],
    ['MST', () => 'UTC'],
    ['Z07:00', () => 'Z'],
    ['-07:00', () => '+00:00'],
    ['-0700', () => '+0000'],
    ['.000000000', () => `.${pad(d.getUTCMilliseconds(), 3)}000000`],
    ['.000000', () => `.${pad(d.getUTCMilliseconds(), 3)}000`],
    ['.000', () => `.${pad(d.getUTCMilliseconds(), 3)}`],
    ['.999999999', () => (d.getUTCMilliseconds() ? `.${pad(d.getUTCMilliseconds(), 3)}`.replace(/0+$/, '') : '')],
    ['01', () => pad(d.getUTCMonth() + 1)],
    ['02', () => pad(d.getUTCDate())],
    ['15', () => pad(d.getUTCHours())],
    ['03', () => pad(d.getUTCHours() % 12 || 12)],
    ['04', () => pad(d.getUTCMinutes())],
    ['05', () => pad(d.getUTCSeconds())],
    ['06', () => pad(d.getUTCFullYear() % 100)],
    ['PM', () => (d.getUTCHours() >= 12 ? 'PM' : 'AM')],
    ['_2', () => String(d.getUTCDate()).padStart(2, ' ')],
    ['1', () => String(d.getUTCMonth() + 1)],
    ['2', () => String(d.getUTCDate())],
    ['3', () => String(d.getUTCHours() % 12 || 12)],
    ['4', () => String(d.getUTCMinutes())],
    ['5', () => String(d.getUTCSeconds())],
  ];
  let out = '';
  let i = 0;
  outer: while (i < layout.length) {
    for (const [token, fn] of table) {
      if (layout.startsWith(token, i)) {
        out += fn();
        i += token.length;
        continue outer;
      }
    }
    out += layout[i++];
  }
  return out;
}

const TIME_LAYOUTS: Record<string, string> = {
  ANSIC: 'Mon Jan _2 15:04:05 2006',
  UnixDate: 'Mon Jan _2 15:04:05 MST 2006',
  RFC822: '02 Jan 06 15:04 MST',
  RFC822Z: '02 Jan 06 15:04 -0700',
  RFC850: 'Monday, 02-Jan-06 15:04:05 MST',
  RFC1123: 'Mon, 02 Jan 2006 15:04:05 MST',
  RFC1123Z: 'Mon, 02 Jan 2006 15:04:05 -0700',
  RFC3339: '2006-01-02T15:04:05Z07:00',
  RFC3339Nano: '2006-01-02T15:04:05.999999999Z07:00',
  Kitchen: '3:04PM',
  DateTime: '2006-01-02 15:04:05',
  DateOnly: '2006-01-02',
  TimeOnly: '15:04:05',
};

function indexInto(container: unknown, key: unknown): unknown {
  if (container === null || container === undefined) return undefined;
  if (Array.isArray(container) || typeof container === 'string') {
    const i = int(key);
    if (i < 0 || i >= container.length) throw new TemplateExecError(`index out of range: ${i}`);
    return container[i];
  }
  if (typeof container === 'object') return (container as Record<string, unknown>)[str(key)];
  throw new TemplateExecError(`can't index item of type ${typeof container}`);
}

function compare(op: string, a: unknown, b: unknown): boolean {
  const an = typeof a === 'number' || typeof a === 'bigint';
  const bn = typeof b === 'number' || typeof b === 'bigint';
  if (an && bn) {
    const x = Number(a);
    const y = Number(b);
    return op === 'lt' ? x < y : op === 'le' ? x <= y : op === 'gt' ? x > y : x >= y;
  }
  if (typeof a === 'string' && typeof b === 'string') return op === 'lt' ? a < b : op === 'le' ? a <= b : op === 'gt' ? a > b : a >= b;
  throw new TemplateExecError(`incompatible types for comparison: ${op} ${formatValue(a)} ${formatValue(b)}`);
}

function equal(a: unknown, b: unknown): boolean {
  if ((a === null || a === undefined) && (b === null || b === undefined)) return true;
  if (typeof a === 'bigint' || typeof b === 'bigint') return Number(a) === Number(b);
  if (typeof a === 'object' || typeof b === 'object') return JSON.stringify(a) === JSON.stringify(b);
  return a === b;
}

const toJson = (v: unknown): string => {
  try {
    return JSON.stringify(v ?? null, (_k, x) => (typeof x === 'bigint' ? Number(x) : x)) ?? 'null';
  } catch {
    return '{}';
  }
};

/** The function table pipeline templates can call. `and`/`or` are evaluated lazily by the evaluator. */
export function createFunctions(fenv: FunctionEnv): Record<string, TemplateFunction> {
  const clock = fenv.now ?? (() => new Date());
  const maxOutput = fenv.maxOutput ?? 4 * 1024 * 1024;
  const tooLarge = (size: number) => {
    if (size > maxOutput) throw new TemplateExecError(`the result would be ${size} characters, more than ${maxOutput}`);
  };
  const fns: Record<string, TemplateFunction> = {
    // Go builtins
    and: (...a) => a.find((x) => !isTruthy(x)) ?? a[a.length - 1],
    or: (...a) => a.find((x) => isTruthy(x)) ?? a[a.length - 1],
    not: (a) => !isTruthy(a),
    eq: (a, ...rest) => {
      if (!rest.length) throw new TemplateExecError('missing argument for comparison');
      return rest.some((b) => equal(a, b));
    },
    ne: (a, b) => !equal(a, b),
    lt: (a, b) => compare('lt', a, b),
    le: (a, b) => compare('le', a, b),
    gt: (a, b) => compare('gt', a, b),
    ge: (a, b) => compare('ge', a, b),
    index: (container, ...keys) => keys.reduce((acc, k) => indexInto(acc, k), container),
    len: (v) => {
      if (typeof v === 'string') return Buffer.byteLength(v);
      if (Array.isArray(v)) return v.length;
      if (v && typeof v === 'object') return Object.keys(v).length;
      if (v === null || v === undefined) return 0;
      throw new TemplateExecError(`len of type ${typeof v}`);
    },
    slice: (v, ...idx) => {
      if (typeof v !== 'string' && !Array.isArray(v)) throw new TemplateExecError('can\'t slice item');
      const [from, to] = idx.map(int);
      return v.slice(from ?? 0, to);
    },
    print: (...a) => a.map((x, i) => (i > 0 && typeof x !== 'string' && typeof a[i - 1] !== 'string' ? ' ' : '') + str(x)).join(''),
    println: (...a) => `${a.map(str).join(' ')}\n`,
    printf: (format, ...a) => sprintf(str(format), a, maxOutput),
    urlquery: (...a) => encodeURIComponent(a.map(str).join('')).replace(/%20/g, '+'),
    html: (...a) => a.map(str).join('').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`),
    js: (...a) => JSON.stringify(a.map(str).join('')).slice(1, -1),
    call: () => {
      throw new TemplateExecError('call is not supported');
    },
    // Workflow engine functions
    uuid: () => randomUUID(),
    uuidv4: () => randomUUID(),
    now: (layout) => {
      const d = clock();
      const l = layout === undefined || layout === '' ? TIME_LAYOUTS.RFC3339 : (TIME_LAYOUTS[str(layout)] ?? str(layout));
      return goTimeFormat(d, l);
    },
    default: (fallback, ...rest) => {
      const v = rest.length ? rest[rest.length - 1] : undefined;
      return v === null || v === undefined || v === '' ? fallback : v;
    },
    json: toJson,
    toJson: toJson,
    toJSON: toJson,
    fromJson: (s) => {
      try {
        return JSON.parse(str(s));
      } catch {
        return {};
      }
    },
    lower: (s) => str(s).toLowerCase(),
    upper: (s) => str(s).toUpperCase(),
    title: (s) => str(s).replace(/\b\w/g, (c) => c.toUpperCase()),
    trim: (s) => str(s).trim(),
    trimSpace: (s) => str(s).trim(),
    trimPrefix: (prefix, s) => (str(s).startsWith(str(prefix)) ? str(s).slice(str(prefix).length) : str(s)),
    trimSuffix: (suffix, s) => (str(suffix) && str(s).endsWith(str(suffix)) ? str(s).slice(0, -str(suffix).length) : str(s)),
    hasPrefix: (prefix, s) => str(s).startsWith(str(prefix)),
    hasSuffix: (suffix, s) => str(s).endsWith(str(suffix)),
    contains: (sub, s) => str(s).includes(str(sub)),
    replace: (oldS, newS, s) => {
      const parts = str(s).split(str(oldS));
      tooLarge(str(s).length + (parts.length - 1) * str(newS).length);
      return parts.join(str(newS));
    },
    split: (sep, s) => str(s).split(str(sep)),
    splitList: (sep, s) => str(s).split(str(sep)),
    join: (sep, list) => {
      if (!Array.isArray(list)) return str(list);
      tooLarge(list.length * str(sep).length);
      return list.map(str).join(str(sep));
    },
    repeat: (n, s) => {
      const count = Math.max(0, int(n));
      tooLarge(count * str(s).length);
      return str(s).repeat(count);
    },
    substr: (start, end, s) => str(s).slice(int(start), int(end) < 0 ? undefined : int(end)),
    trunc: (n, s) => str(s).slice(0, int(n)),
    quote: (...a) => a.map((x) => JSON.stringify(str(x))).join(' '),
    squote: (...a) => a.map((x) => `'${str(x)}'`).join(' '),
    urlEncode: (s) => encodeURIComponent(str(s)),
    urlDecode: (s) => decodeURIComponent(str(s)),
    b64: (s) => Buffer.from(str(s)).toString('base64'),
    b64enc: (s) => Buffer.from(str(s)).toString('base64'),
    b64dec: (s) => Buffer.from(str(s), 'base64').toString('utf8'),
    env: (name) => fenv.env[str(name)] ?? '',
    toString: (v: unknown) => str(v),
    toInt: (v) => int(v),
    int: (v) => int(v),
    atoi: (v) => int(v),
    toFloat: (v) => num(v),
    float64: (v) => num(v),
    add: (...a) => a.reduce<number>((s, x) => s + num(x), 0),
    add1: (a) => num(a) + 1,
    sub: (a, b) => num(a) - num(b),
    mul: (...a) => a.reduce<number>((s, x) => s * num(x), 1),
    div: (a, b) => {
      if (num(b) === 0) throw new TemplateExecError('integer divide by zero');
      return Math.trunc(num(a) / num(b));
    },
    mod: (a, b) => {
      if (num(b) === 0) throw new TemplateExecError('integer divide by zero');
      return num(a) % num(b);
    },
    max: (...a) => Math.max(...a.map(num)),
    min: (...a) => Math.min(...a.map(num)),
    empty: (v) => !isTruthy(v),
    coalesce: (...a) => a.find((x) => isTruthy(x)),
    ternary: (yes, no, cond) => (isTruthy(cond) ? yes : no),
    list: (...a) => a,
    dict: (...a) => {
      const out: Record<string, unknown> = {};
      for (let i = 0; i + 1 < a.length; i += 2) out[str(a[i])] = a[i + 1];
      return out;
    },
    keys: (m) => (m && typeof m === 'object' ? Object.keys(m).sort() : []),
    hasKey: (m, k) => !!m && typeof m === 'object' && Object.hasOwn(m, str(k)),
    first: (l) => (Array.isArray(l) ? l[0] : undefined),
    last: (l) => (Array.isArray(l) ? l[l.length - 1] : undefined),
  };
  Object.assign(fns, collectionFunctions({ min: fns.min as TemplateFunction, max: fns.max as TemplateFunction }));
  return fns;
}

/** Names known at parse time; templates calling anything else fail to parse, as in Go. */
export const FUNCTION_NAMES: ReadonlySet<string> = new Set(Object.keys(createFunctions({ env: {} })));
