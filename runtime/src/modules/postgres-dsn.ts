/**
 * Reads a Postgres DSN (URL form `postgres://user:pass@host:5432/db?sslmode=require`, or keyword form
 * `host=… port=… dbname=…`) into explicit connection settings. Parameters that make the client read local files
 * (sslcert, sslkey, sslrootcert, sslcrl, passfile, service files) or pick a host from elsewhere (unix sockets,
 * several hosts, hostaddr) are refused, and so is anything not listed here: pg's own DSN parser would read those
 * files on the runtime's machine.
 */
export type PgSettings = {
  host: string;
  port: number;
  user?: string;
  password: string;
  database?: string;
  ssl?: boolean | { rejectUnauthorized: boolean };
  application_name?: string;
};

const ALLOWED = new Set(['host', 'port', 'user', 'password', 'dbname', 'database', 'sslmode', 'application_name', 'connect_timeout']);

export function parsePgDsn(dsn: string): PgSettings {
  const params = new Map<string, string>();
  if (/^postgres(ql)?:\/\//i.test(dsn)) {
    let u: URL;
    try {
      u = new URL(dsn);
    } catch {
      throw new Error('the DSN is not a valid URL');
    }
    if (u.hostname.includes(',')) throw new Error('several hosts in one DSN are not supported');
    params.set('host', decodeURIComponent(u.hostname));
    if (u.port) params.set('port', u.port);
    if (u.username) params.set('user', decodeURIComponent(u.username));
    if (u.password) params.set('password', decodeURIComponent(u.password));
    const db = decodeURIComponent(u.pathname.replace(/^\//, ''));
    if (db) params.set('dbname', db);
    for (const [k, v] of u.searchParams) params.set(k, v);
  } else {
    for (const m of dsn.matchAll(/([A-Za-z_]+)\s*=\s*('((?:\\'|[^'])*)'|\S*)/g)) params.set(m[1], m[3] ?? m[2]);
    if (!params.size) throw new Error('the DSN is neither a postgres:// URL nor key=value pairs');
  }
  const refused = [...params.keys()].filter((k) => !ALLOWED.has(k));
  if (refused.length) throw new Error(`DSN parameters ${refused.join(', ')} are not allowed (they read local files or choose other hosts)`);
  const host = params.get('host') ?? '';
  if (!host) throw new Error('the DSN names no host');
  if (host.startsWith('/') || host.includes(',')) throw new Error(`host "${host}" is not allowed (unix sockets and host lists are not supported)`);
  const port = Number(params.get('port') ?? 5432);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`bad port "${params.get('port')}"`);
  const sslmode = params.get('sslmode');
  const ssl = sslmode === undefined || sslmode === 'disable' || sslmode === 'allow' || sslmode === 'prefer' ? undefined : sslmode === 'require' ? { rejectUnauthorized: false } : true;
  return {
    host,
    port,
    user: params.get('user'),
    // An explicit password (empty when none) keeps pg from reading ~/.pgpass or PGPASSFILE.
    password: params.get('password') ?? '',
    database: params.get('dbname') ?? params.get('database'),
    ...(ssl === undefined ? {} : { ssl }),
    ...(params.has('application_name') ? { application_name: params.get('application_name') } : {}),
  };
}
