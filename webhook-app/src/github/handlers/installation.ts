/** installation and installation_repositories: tenants and their repositories. */
import { desiredState, repositories, scopeOf, tenants } from '@wharf/store';
import type { Handler } from '../types.js';
import { ensureTenant, upsertGithubRepository } from './ensure-repository.js';

async function tearDownRepository(ctx: Parameters<Handler>[0], installationId: number, fullName: string): Promise<void> {
  const repo = await repositories.findGithubRepository(ctx.deps.pool, String(installationId), fullName);
  if (!repo) return;
  const scope = scopeOf(repo);
  for (const env of await desiredState.listRepositoryEnvironments(ctx.deps.pool, scope)) {
    if (!env.deletion_requested_at) await desiredState.requestDeletion(ctx.deps.pool, scope, env.id);
  }
}

export const onInstallation: Handler = async (ctx) => {
  const tenant = await ensureTenant(ctx);
  if (!tenant) return 'ignored';
  const id = ctx.payload.installation.id as number;
  switch (ctx.action) {
    case 'created':
    case 'new_permissions_accepted':
    case 'unsuspend':
      await tenants.setTenantSuspended(ctx.deps.pool, tenant.id, false);
      for (const r of (ctx.payload.repositories ?? []) as { full_name: string }[]) await upsertGithubRepository(ctx, tenant.id, r);
      ctx.log.info({ installation: id, account: tenant.name }, 'installation active');
      return 'done';
    case 'suspend':
      await tenants.setTenantSuspended(ctx.deps.pool, tenant.id, true);
      return 'done';
    case 'deleted': {
      await tenants.setTenantSuspended(ctx.deps.pool, tenant.id, true);
      for (const r of (ctx.payload.repositories ?? []) as { full_name: string }[]) await tearDownRepository(ctx, id, r.full_name);
      ctx.log.info({ installation: id }, 'installation deleted; environments torn down');
      return 'done';
    }
    default:
      return 'ignored';
  }
};

export const onInstallationRepositories: Handler = async (ctx) => {
  const tenant = await ensureTenant(ctx);
  if (!tenant) return 'ignored';
  const id = ctx.payload.installation.id as number;
  for (const r of (ctx.payload.repositories_added ?? []) as { full_name: string }[]) await upsertGithubRepository(ctx, tenant.id, r);
  for (const r of (ctx.payload.repositories_removed ?? []) as { full_name: string }[]) await tearDownRepository(ctx, id, r.full_name);
  return 'done';
};
