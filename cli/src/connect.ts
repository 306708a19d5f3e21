import path from 'node:path';
import { loadSettings, redactSecrets } from '@wharf/contracts';
import { createStorePool, type DatabasePool, runningEmbeddedUrl, sql } from '@wharf/store';
import { StartupError } from './control-plane.js';
import { processSettings } from './settings.js';
import { storeSettings } from '@wharf/store';

const connectSettings = { WHARF_DATA_DIR: processSettings.WHARF_DATA_DIR, ...storeSettings };

/**
 * The store of the Wharf this command talks to: DATABASE_URL when set, otherwise the embedded server of a
 * `wharf up` running from the same directory.
 */
export async function openStore(env: Record<string, string | undefined>, cwd: string): Promise<DatabasePool> {
  const settings = loadSettings(connectSettings, env);
  const dataDir = path.resolve(cwd, settings.WHARF_DATA_DIR, 'pg');
  const url = settings.DATABASE_URL ?? (await runningEmbeddedUrl(dataDir));
  if (!url) {
    throw new StartupError(
      `no running Wharf here: nothing serves the embedded database in ${path.relative(cwd, dataDir) || dataDir}. ` +
        'Start it with `npm start` (wharf up) in this directory, or set DATABASE_URL.',
    );
  }
  const pool = await createStorePool(url, { maximumPoolSize: 2 });
  try {
    await pool.query(sql.unsafe`SELECT 1 FROM environments LIMIT 1`);
  } catch (err) {
    await pool.end();
    throw new StartupError(`cannot read Wharf's database at ${redactSecrets(url)}: ${redactSecrets((err as Error).message)}`);
  }
  return pool;
}
