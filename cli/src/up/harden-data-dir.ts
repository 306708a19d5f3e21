/**
 * Wharf's own files are Wharf's alone. `wharf up` keeps the GitHub App's private key, the embedded database (its
 * password file and cluster), logs, example repositories and Git caches in WHARF_DATA_DIR; runtimes, which run
 * YAML that strangers commit (as another user when Wharf is root), must not read any of it. After start-up:
 *
 *   WHARF_DATA_DIR        0711  others may pass through to `local/` (the local target's state), never list
 *   every file in it      0600  (wharf-password, github-app.pem, github-app.env, wharf.log, the owner pid file)
 *   every directory       0700  (pg/, repos/, cache/) except `local/`, which the local target keeps (0711 and below)
 *   WHARF_LOG_FILE        0600  wherever it is
 *
 * A data dir that is not this user's own (a shared directory such as /tmp) is left as it is, with a warning.
 */
import { chmod, lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';

/** The local target's state dir inside WHARF_DATA_DIR: it sets its own modes (runtimes pass through it). */
const TARGET_STATE_DIR = 'local';

export async function hardenDataDir(dataDir: string, options: { log: Logger; logFile?: string }): Promise<void> {
  const { log } = options;
  const root = await lstat(dataDir).catch(() => undefined);
  const uid = process.getuid?.();
  if (!root?.isDirectory() || (uid !== undefined && root.uid !== uid) || (root.mode & 0o1000) !== 0) {
    log.warn({ dataDir }, 'WHARF_DATA_DIR is not a directory of this user: its modes are left as they are');
    return;
  }
  await chmod(dataDir, 0o711);
  for (const entry of await readdir(dataDir, { withFileTypes: true })) {
    if (entry.name === TARGET_STATE_DIR || entry.isSymbolicLink()) continue;
    const p = path.join(dataDir, entry.name);
    // A socket or fifo is left alone; files and directories become Wharf's alone.
    if (entry.isDirectory()) await chmod(p, 0o700);
    else if (entry.isFile()) await chmod(p, 0o600);
  }
  if (options.logFile && options.logFile !== '-') await chmod(options.logFile, 0o600).catch(() => undefined);
}
