/** A tenant and a repository to hang environments on, through the store's own API. */
import { type CommonQueryMethods, repositories, tenants } from '@wharf/store';

export interface SeededRepository {
  tenantId: number;
  repositoryId: number;
}

export async function seedRepository(
  pool: CommonQueryMethods,
  options: { tenant?: string; kind?: 'local' | 'github'; fullName?: string; url?: string; provider?: 'local' | 'git' | 'github'; defaultBranch?: string } = {},
): Promise<SeededRepository> {
  const name = options.tenant ?? 'me';
  const tenant = await tenants.upsertTenant(pool, { kind: options.kind ?? 'local', externalId: name, name });
  const repo = await repositories.upsertRepository(pool, {
    tenantId: tenant.id,
    provider: options.provider ?? 'local',
    fullName: options.fullName ?? `${name}/repo`,
    url: options.url ?? `file:///${name}/repo`,
    defaultBranch: options.defaultBranch ?? 'main',
  });
  return { tenantId: tenant.id, repositoryId: repo.id };
}
