/**
 * A runtime that runs as another user must be able to pass through the directories above its state dir and above
 * the files of its command (node, the runtime bundle, its node_modules). A checkout in a private directory (a mode
 * 700 temp dir, /root) blocks it: grant only the traverse bit (o+x, never read) on the blocking ancestors, and say so,
 * as the embedded Postgres start does for its binaries.
 */
import { stat, chmod } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';

/** The absolute file paths among a command's arguments (`/…` or `file://…`). */
export function pathsIn(argv: readonly string[]): string[] {
  return argv.flatMap((a) => {
    if (a.startsWith('file://')) return [fileURLToPath(a)];
    return path.isAbsolute(a) ? [a] : [];
  });
}

export async function grantTraverse(paths: readonly string[], log: Logger): Promise<void> {
  const seen = new Set<string>();
  for (const p of paths) {
    for (let dir = path.dirname(path.resolve(p)); !seen.has(dir); dir = path.dirname(dir)) {
      seen.add(dir);
      const info = await stat(dir).catch(() => undefined);
      if (info && (info.mode & 0o001) === 0) {
        await chmod(dir, (info.mode & 0o7777) | 0o001);
        log.warn({ dir }, 'granted traverse permission (o+x) so that runtimes, which run as another user, can reach their files');
      }
      if (path.dirname(dir) === dir) break;
    }
  }
}
