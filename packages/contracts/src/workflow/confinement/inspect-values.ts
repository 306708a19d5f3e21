/**
 * Pure readings of one option value: does a path leave the environment's directories, which host does a
 * URL, address or DSN reach and is it the machine's own or a private network, does SQL reach outside
 * its database. Each returns why (a phrase for a message) or undefined when the value is fine.
 */
import { posix } from 'node:path';

/** The part of a value before the first `{{ template }}` or `${ENV}`: what is known before run time. */
export const staticPrefix = (value: string): string => {
  const cut = [value.indexOf('{{'), value.indexOf('${')].filter((i) => i >= 0);
  return cut.length === 0 ? value : value.slice(0, Math.min(...cut));
};

/** Percent-decoding, repeated so that `%252e%252e` is seen as `..`; stops on malformed input. */
export function decodeRepeatedly(value: string, rounds = 3): string {
  let current = value;
  for (let i = 0; i < rounds && /%[0-9a-f]{2}/i.test(current); i++) {
    try {
      current = decodeURIComponent(current);
    } catch {
      break;
    }
  }
  return current;
}

/**
 * Why a path leaves the environment's copy of the app's files, or undefined when it stays inside.
 * Relative paths resolve against `baseDir`, the directory of the config file that names them
 * (repository-relative, POSIX); `..` may climb within the files but not above their root.
 */
export function pathEscape(raw: string, baseDir = '.'): string | undefined {
  const complete = staticPrefix(raw) === raw;
  let value = decodeRepeatedly(staticPrefix(raw).trim());
  if (value.includes('\0')) return 'holds a NUL character';
  value = value.replace(/^file:(\/\/)?/i, '').replace(/\\/g, '/');
  if (value.startsWith('/')) return 'is an absolute path';
  if (value.startsWith('~')) return 'starts in a home directory (~)';
  if (/^[a-z]:/i.test(value)) return 'is an absolute (drive) path';
  // With a template later in the value, only whole segments before it are known.
  const known = complete ? value : value.slice(0, value.lastIndexOf('/') + 1);
  if (known === '') return undefined;
  const normal = posix.normalize(posix.join(baseDir, known));
  if (normal === '..' || normal.startsWith('../')) return 'climbs out of the app\'s files with ".."';
  return undefined;
}

/** A SQLite DSN (`file:x.db?mode=rwc`, `x.db`, `:memory:`) as the path it opens, or undefined for memory. */
export function sqliteDsnPath(dsn: string): string | undefined {
  const withoutQuery = dsn.replace(/\?.*$/s, '');
  if (withoutQuery === '' || withoutQuery === ':memory:' || /^file::memory:/i.test(dsn)) return undefined;
  return withoutQuery;
}

const HOSTISH = /^[a-z0-9.-]+$|^\[?[0-9a-f:.]+\]?$/i;

/** The host a URL names (IPv4 forms normalised by the WHATWG parser), or undefined when not knowable. */
export function hostOfUrl(raw: string): string | undefined {
  const value = raw.trim();
  const match = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(\[[^\]]*\]|[^/:?#{$]*)/i.exec(value);
  if (!match?.[1]) return undefined;
  const next = value.charAt(match[0].length);
  // A host that is (partly) a {{ template }} or ${ENV} is only known at run time.
  if (next !== '' && !'/:?#'.includes(next)) return undefined;
  return normaliseHost(match[1]);
}

/** `host:port`, `host`, or `scheme://host:port`, possibly comma-separated: the hosts. */
export function hostsOfAddress(raw: string): string[] {
  return raw
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '' && staticPrefix(part) === part)
    .flatMap((part) => {
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(part)) return [hostOfUrl(part)].filter((h): h is string => h !== undefined);
      const host = part.startsWith('[') ? part.slice(0, part.indexOf(']') + 1) : part.replace(/:\d*$/, '');
      return host === '' ? ['0.0.0.0'] : [normaliseHost(host)];
    });
}

/** Hosts of a postgres/mysql DSN in URL form, key=value form (`host=db port=5432`) or Go MySQL form. */
export function hostsOfDsn(dsn: string): string[] {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(dsn)) return [hostOfUrl(dsn)].filter((h): h is string => h !== undefined);
  const keyValue = /(?:^|\s)host\s*=\s*'?([^'\s]+)/i.exec(dsn);
  if (keyValue?.[1]) return keyValue[1].split(',').map(normaliseHost);
  const mysql = /@(?:tcp|unix)?\(([^)]*)\)/i.exec(dsn);
  if (mysql?.[1] !== undefined) return hostsOfAddress(mysql[1]);
  return [];
}

export function normaliseHost(host: string): string {
  const bare = decodeRepeatedly(host).toLowerCase().replace(/\.$/, '');
  if (!HOSTISH.test(bare)) return bare;
  try {
    return new URL(`http://${bare.includes(':') && !bare.startsWith('[') ? `[${bare}]` : bare}/`).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return bare;
  }
}

const ipv4 = (host: string): number[] | undefined => {
  const parts = host.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p))) return undefined;
  const numbers = parts.map(Number);
  return numbers.every((n) => n <= 255) ? numbers : undefined;
};

/** Why a host is the machine Wharf runs on or a private network, or undefined for other hosts. */
export function internalHost(host: string): string | undefined {
  if (host === 'localhost' || host.endsWith('.localhost')) return 'is this machine (localhost)';
  if (host.endsWith('.internal') || host.endsWith('.local')) return 'is a name on the private network';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(host)?.[1];
  const v4 = ipv4(mapped ?? host);
  if (v4) {
    const [a, b] = v4 as [number, number, number, number];
    if (a === 127) return 'is this machine (loopback)';
    if (a === 0) return 'is this machine (0.0.0.0)';
    if (a === 169 && b === 254) return 'is a link-local address (cloud metadata services live there)';
    if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return 'is a private network address';
    if (a === 100 && b >= 64 && b <= 127) return 'is a shared (carrier-grade NAT) address';
    return undefined;
  }
  if (host === '::1' || host === '::') return 'is this machine (IPv6 loopback)';
  if (/^f[cd][0-9a-f]{2}:/.test(host)) return 'is a private IPv6 address';
  if (/^fe[89ab][0-9a-f]:/.test(host)) return 'is a link-local IPv6 address';
  return undefined;
}

/** Does an allow-list entry (`api.example.com`, `*.example.com`) admit the host? */
export const hostAllowed = (host: string, allowed: readonly string[]): boolean =>
  allowed.some((entry) => {
    const e = entry.toLowerCase();
    return e.startsWith('*.') ? host.endsWith(e.slice(1)) && host.length > e.length - 1 : host === e;
  });

/** SQL with the comments removed, so `ATTACH/**\/DATABASE` cannot hide. */
const withoutComments = (sql: string): string => sql.replace(/\/\*[\s\S]*?(\*\/|$)/g, ' ').replace(/--[^\n]*/g, ' ');

const SQL_REACHES_OUT: readonly [RegExp, string][] = [
  [/\bATTACH\b/i, 'ATTACH opens another database file'],
  [/\bVACUUM\b[\s\S]*\bINTO\b/i, 'VACUUM INTO writes the database to another file'],
  [/\bload_extension\s*\(/i, 'load_extension() loads native code'],
];

/** Why SQL reaches outside its own database, or undefined. */
export function sqlReachesOutside(sql: string): string | undefined {
  const text = withoutComments(sql);
  return SQL_REACHES_OUT.find(([pattern]) => pattern.test(text))?.[1];
}
