/**
 * Wharf's own files are Wharf's alone. `wharf up` keeps the GitHub App's private key, the embedded database (its
 * password file and cluster), logs, example repositories and Git caches in WHARF_DATA_DIR; runtimes, which run
 * YAML that strangers commit (as another user when Wharf is root), must not read any of it. After start-up:
 *
 *   WHARF_DATA_DIR        0711  others may pass through to `local/` (the local target's state), never list
 *   Wharf's files in it   0600  wharf-password, wharf-owner.pid, github-app.pem, github-app.env, wharf.log
 *   Wharf's dirs in it    0700  pg/, repos/, cache/ (`local/` is the local target's: 0711 and below)
 *   WHARF_LOG_FILE        0600  wherever it is (created so by the logger)
 *
 * A data dir that is not this user's own (a shared directory such as /tmp) is left as it is, with a warning.
 */
import { chmod, lstat, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';

/**
 * What Wharf keeps in WHARF_DATA_DIR, and nothing else: the data dir may be a directory that holds other files too.
 * `local/` (the local target's state) is not here: the target sets its own modes, since runtimes pass through it.
 */
const WHARF_DIRS = ['pg', 'repos', 'cache'] as const;
const WHARF_FILES = ['wharf-password', 'wharf-owner.pid', 'github-app.pem', 'github-app.env', 'wharf.log'] as const;

export async function hardenDataDir(dataDir: string, options: { log: Logger; logFile?: string }): Promise<void> {
  const { log } = options;
  await mkdir(dataDir, { recursive: true, mode: 0o711 });
  const root = await lstat(dataDir).catch(() => undefined);
  const uid = process.getuid?.();
  if (!root?.isDirectory() || (uid !== undefined && root.uid !== uid) || (root.mode & 0o1000) !== 0) {
    log.warn({ dataDir }, 'WHARF_DATA_DIR is not a directory of this user: its modes are left as they are');
    return;
  }
  await chmod(dataDir, 0o711);
  for (const [names, kind, mode] of [
    [WHARF_DIRS, 'dir', 0o700],
    [WHARF_FILES, 'file', 0o600],
  ] as const) {
    for (const name of names) {
      const p = path.join(dataDir, name);
      const info = await lstat(p).catch(() => undefined);
      // A symlink is never followed: it would let the chmod land elsewhere.
      if (info && (kind === 'dir' ? info.isDirectory() : info.isFile())) await chmod(p, mode);
    }
  }
  if (options.logFile && options.logFile !== '-') await chmod(options.logFile, 0o600).catch(() => undefined);
}
