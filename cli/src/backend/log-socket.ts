/**
 * The Unix socket on which the local target of a `wharf up` (or reconciler) on this machine serves `wharf logs`:
 * WHARF_DATA_DIR/local/logs.sock (see reconciler/src/targets/local/log-socket.ts), looked for in `cwd` and each
 * parent as the embedded database is, so the command works from inside the example repository too.
 */
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import { commonSettings, loadSettings } from '@wharf/contracts';
import { logSocketPath } from '@wharf/reconciler';

export async function findLogSocket(env: Record<string, string | undefined>, cwd: string): Promise<string | undefined> {
  const { WHARF_DATA_DIR: dataDir } = loadSettings({ WHARF_DATA_DIR: commonSettings.WHARF_DATA_DIR }, env);
  const candidates: string[] = [];
  if (path.isAbsolute(dataDir)) candidates.push(dataDir);
  else {
    for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
      candidates.push(path.join(dir, dataDir));
      if (path.dirname(dir) === dir) break;
    }
  }
  for (const d of candidates) {
    const socket = logSocketPath(path.join(d, 'local'));
    if ((await lstat(socket).catch(() => undefined))?.isSocket()) return socket;
  }
  return undefined;
}
