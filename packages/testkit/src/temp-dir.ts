/** Temporary directories that tests remove at teardown. */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface TeardownOnly {
  teardown(fn: () => unknown): void;
}

/**
 * A fresh directory under the system temp dir, removed at teardown. Mode 755, so that a postgres user started by
 * embedded Postgres (tests run as root in CI) can reach what is inside.
 */
export async function tempDir(t: TeardownOnly, prefix = 'wharf-test-'): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  await chmod(dir, 0o755);
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}
