import path from 'node:path';
import { commonSettings, loadSettings, redactSecrets, StartupError } from '@wharf/contracts';
import { createStorePool, type DatabasePool, ping, runningEmbeddedUrl, storeSettings } from '@wharf/store';

const connectSettings = { WHARF_DATA_DIR: commonSettings.WHARF_DATA_DIR, ...storeSettings };

/**
 * A relative WHARF_DATA_DIR is looked for in `cwd` and then in each parent, so commands work from inside the
 * example repository (`.wharf/repos/hello-api`) as well as from where `wharf up` runs.
 */
async function findRunningEmbedded(cwd: string, dataDir: string): Promise<string | undefined> {
  if (path.isAbsolute(dataDir)) return runningEmbeddedUrl(path.join(dataDir, 'pg'));
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    const url = await runningEmbeddedUrl(path.join(dir, dataDir, 'pg'));
    if (url) return url;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/**
 * The store of the Wharf this command talks to: DATABASE_URL when set, otherwise the embedded server of a
 * `wharf up` running from the same directory.
 */
export async function openStore(env: Record<string, string | undefined>, cwd: string): Promise<DatabasePool> {
  const settings = loadSettings(connectSettings, env);
  const dataDir = path.resolve(cwd, settings.WHARF_DATA_DIR, 'pg');
  const url = settings.DATABASE_URL ?? (await findRunningEmbedded(cwd, settings.WHARF_DATA_DIR));
  if (!url) {
    throw new StartupError(
      `no running Wharf here: nothing serves the embedded database in ${path.relative(cwd, dataDir) || dataDir}. ` +
        'Start it with `npm start` (wharf up) in this directory, or set DATABASE_URL.',
    );
  }
  const pool = await createStorePool(url, { maximumPoolSize: 2 });
  try {
    await ping(pool);
  } catch (err) {
    await pool.end();
    throw new StartupError(`cannot read Wharf's database at ${redactSecrets(url)}: ${redactSecrets((err as Error).message)}`);
  }
  return pool;
}
