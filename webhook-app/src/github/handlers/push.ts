/** push: fetch and sync the repository; the production branch moves production (rollbacks recognised by source). */
import { repositories, scopeOf } from '@wharf/store';
import type { Handler } from '../types.js';
import { ensureRepository } from './ensure-repository.js';

export const onPush: Handler = async (ctx) => {
  const ref = ctx.payload.ref as string | undefined;
  if (!ref?.startsWith('refs/heads/')) return 'ignored';
  const repo = await ensureRepository(ctx);
  if (!repo || repo.suspended) return 'ignored';
  const repository = await repositories.getRepository(ctx.deps.pool, scopeOf(repo));
  if (!repository) return 'ignored';
  // Branch heads become versions; the production branch's head becomes production's desired version. Pull request
  // previews are driven by pull_request events, not by branch pushes.
  const result = await ctx.deps.source.syncRemoteRepository(repository, { branchPreviews: false });
  ctx.log.info({ repo: repo.full_name, ref, after: ctx.payload.after, changes: result.changes.length, ingested: result.ingested.length }, 'push synced');
  return 'done';
};
