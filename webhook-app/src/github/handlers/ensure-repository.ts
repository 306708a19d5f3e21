/** The tenant (installation) and repository a delivery is about, created on first sight. */
import { repositories, scopeOf, tenants } from '@wharf/store';
import type { DeliveryContext } from '../types.js';

export async function ensureTenant(ctx: DeliveryContext): Promise<tenants.Tenant | null> {
  const inst = ctx.payload.installation as { id?: number; account?: { login?: string } } | undefined;
  if (!inst?.id) return null;
  const name = inst.account?.login ?? ctx.payload.repository?.owner?.login ?? `installation-${inst.id}`;
  const existing = await tenants.findTenant(ctx.deps.pool, 'github', String(inst.id));
  if (existing && (!inst.account?.login || existing.name === name)) return existing;
  return tenants.upsertTenant(ctx.deps.pool, { kind: 'github', externalId: String(inst.id), name });
}

export async function upsertGithubRepository(
  ctx: DeliveryContext,
  tenantId: number,
  repo: { full_name: string; default_branch?: string; id?: number },
): Promise<void> {
  await repositories.upsertRepository(ctx.deps.pool, {
    tenantId,
    provider: 'github',
    fullName: repo.full_name,
    url: ctx.deps.repositoryUrl(repo.full_name),
    defaultBranch: repo.default_branch ?? 'main',
    externalId: repo.id !== undefined ? String(repo.id) : undefined,
  });
}

export async function ensureRepository(ctx: DeliveryContext): Promise<repositories.GithubRepository | null> {
  const r = ctx.payload.repository as { full_name?: string; default_branch?: string; id?: number } | undefined;
  const installationId = ctx.payload.installation?.id as number | undefined;
  if (!r?.full_name || installationId === undefined) return null;
  const found = await repositories.findGithubRepository(ctx.deps.pool, String(installationId), r.full_name);
  if (found) {
    if (r.default_branch && r.default_branch !== found.default_branch) {
      await repositories.setDefaultBranch(ctx.deps.pool, scopeOf(found), r.default_branch);
      return { ...found, default_branch: r.default_branch };
    }
    return found;
  }
  const tenant = await ensureTenant(ctx);
  if (!tenant) return null;
  await upsertGithubRepository(ctx, tenant.id, { full_name: r.full_name, default_branch: r.default_branch, id: r.id });
  return repositories.findGithubRepository(ctx.deps.pool, String(installationId), r.full_name);
}

const WRITE = new Set(['admin', 'maintain', 'write']);

/** Write access or more, asked of GitHub (never inferred from the payload). */
export async function hasWriteAccess(ctx: DeliveryContext, repo: repositories.GithubRepository, username: string): Promise<boolean> {
  const octokit = await ctx.deps.client.installation(repo.installation_id);
  const [owner, name] = repo.full_name.split('/') as [string, string];
  const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({ owner, repo: name, username });
  return WRITE.has(data.permission) || WRITE.has((data as { role_name?: string }).role_name ?? '');
}
