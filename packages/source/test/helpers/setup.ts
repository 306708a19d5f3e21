import { repositories, tenants } from '@wharf/store';
import { capturingLog, type CapturedLine, createTestDatabase, tempDir } from '@wharf/testkit';
import type { Logger } from 'pino';
import { createSource, type Source, type SourceOptions } from '../../src/index.js';

type T = Parameters<typeof createTestDatabase>[0];

export interface Fixture {
  db: Awaited<ReturnType<typeof createTestDatabase>>;
  tenantId: number;
  source: Source;
  cacheDir: string;
  logs: CapturedLine[];
  log: Logger;
  repository(input: { url: string; provider?: 'local' | 'git' | 'github'; name?: string; defaultBranch?: string }): Promise<repositories.Repository>;
}

/** A database, a tenant, a Source with a captured log. */
export async function setup(t: T, options: Partial<SourceOptions> = {}): Promise<Fixture> {
  const db = await createTestDatabase(t);
  const tenant = await tenants.upsertTenant(db.pool, { kind: 'local', externalId: 'local', name: 'local' });
  const cacheDir = await tempDir(t, 'wharf-cache-');
  const { log, lines: logs } = capturingLog();
  const source = createSource({ pool: db.pool, cacheDir, log, ...options });
  return {
    db,
    tenantId: tenant.id,
    source,
    cacheDir,
    logs,
    log,
    repository: (input) =>
      repositories.upsertRepository(db.pool, {
        tenantId: tenant.id,
        provider: input.provider ?? 'local',
        fullName: input.name ?? input.url,
        url: input.url,
        defaultBranch: input.defaultBranch ?? 'main',
      }),
  };
}
