/**
 * Who runtimes run as. When Wharf runs as root, every runtime runs as one unprivileged system user (default
 * `wharf-runtime`, created once with `useradd --system` when missing), never as root: it owns only its environments'
 * data dirs, reads their config dirs through its group, and cannot read Wharf's own files (private key, database,
 * logs: mode 600/700, root's). When Wharf does not run as root, runtimes run as Wharf's own user.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Logger } from 'pino';

const run = promisify(execFile);

export const DEFAULT_RUNTIME_USER = 'wharf-runtime';

export interface RuntimeUser {
  name: string;
  uid: number;
  gid: number;
}

const USER_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;

async function lookup(name: string): Promise<RuntimeUser | undefined> {
  const out = await run('getent', ['passwd', name]).then(
    (r) => r.stdout,
    () => '',
  );
  const [, , uid, gid] = out.trim().split(':');
  const u = Number(uid);
  const g = Number(gid);
  return uid !== undefined && gid !== undefined && Number.isInteger(u) && Number.isInteger(g) ? { name, uid: u, gid: g } : undefined;
}

/**
 * The user runtimes run as, or null when Wharf is not root (runtimes then run as Wharf's user). Creates a missing
 * user as a system user with its own group, no home and no login shell. Refuses root.
 */
export async function ensureRuntimeUser(name: string, log: Logger, isRoot = process.getuid?.() === 0): Promise<RuntimeUser | null> {
  if (!isRoot) return null;
  if (!USER_NAME.test(name)) throw new Error(`runtime user "${name}" is not a valid user name`);
  let user = await lookup(name);
  for (let attempt = 0; !user && attempt < 5; attempt++) {
    // Several Wharf processes may start at once: "already exists" (9) and a busy /etc/passwd lock (10) are retried.
    const created = await run('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', name]).then(
      () => true,
      (err: { code?: number; stderr?: string }) => {
        if (err.code !== 9 && err.code !== 10) throw new Error(`cannot create the runtime user ${name} (useradd: ${(err.stderr ?? '').trim() || err.code})`);
        return false;
      },
    );
    if (created) log.info({ user: name }, 'created the system user runtimes run as');
    user = await lookup(name);
    if (!user) await new Promise((r) => setTimeout(r, 100 * (attempt + 1)));
  }
  if (!user) throw new Error(`runtime user ${name} does not exist and could not be created`);
  if (user.uid === 0 || user.gid === 0) throw new Error(`runtime user ${name} has uid or gid 0: runtimes must not run as root`);
  return user;
}
