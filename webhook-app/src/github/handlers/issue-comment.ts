/**
 * issue_comment: `/wharf preview | redeploy | rollback <sha> | help`. Every command but help needs write access,
 * asked of GitHub. Each gets a reaction (👀 taken, 👎 refused, 😕 not understood) and a reply.
 */
import { desiredState, github, versions } from '@wharf/store';
import { evaluatePullRequest } from '../evaluate-pull-request.js';
import { queueReply, queueRollbackPullRequest } from '../reporter.js';
import type { DeliveryContext, Handler } from '../types.js';
import { ensureRepository, hasWriteAccess } from './ensure-repository.js';
import { HELP, parseCommand } from './parse-command.js';

type Reaction = '+1' | '-1' | 'eyes' | 'rocket' | 'confused';

async function react(ctx: DeliveryContext, repo: github.GithubRepository, content: Reaction): Promise<void> {
  const octokit = await ctx.deps.client.installation(repo.installation_id);
  const [owner, name] = repo.full_name.split('/') as [string, string];
  await octokit.rest.reactions.createForIssueComment({ owner, repo: name, comment_id: ctx.payload.comment.id, content });
}

/** Bumps the generation of each live preview environment of the pull request, keeping its desired version. */
async function redeploy(ctx: DeliveryContext, repo: github.GithubRepository, prNumber: number): Promise<number> {
  let n = 0;
  await ctx.deps.pool.transaction(async (tx) => {
    for (const env of await github.listPreviewEnvironments(tx, repo.id, prNumber)) {
      if (env.deletion_requested_at) continue;
      const locked = await desiredState.lockEnvironment(tx, repo.id, env.app, env.name);
      if (!locked || locked.desired_version_id === null) continue;
      await desiredState.writeDesired(tx, {
        tenantId: locked.tenant_id,
        repositoryId: locked.repository_id,
        app: locked.app,
        name: locked.name,
        kind: locked.kind,
        branch: locked.branch,
        prNumber: locked.pr_number,
        target: locked.target,
        driftMode: locked.drift_mode,
        versionId: locked.desired_version_id,
        digest: locked.desired_digest,
        spec: locked.desired_spec,
        conditions: (locked.conditions as unknown[]) ?? [],
      });
      n += 1;
    }
    await github.touchPullRequest(tx, repo.id, prNumber);
  });
  return n;
}

export const onIssueComment: Handler = async (ctx) => {
  if (ctx.action !== 'created') return 'ignored';
  if (ctx.payload.comment?.user?.type === 'Bot' || ctx.payload.sender?.type === 'Bot') return 'ignored';
  const command = parseCommand(String(ctx.payload.comment?.body ?? ''));
  if (!command) return 'ignored';
  const repo = await ensureRepository(ctx);
  if (!repo) return 'ignored';
  const sender = ctx.payload.sender.login as string;
  const issueNumber = ctx.payload.issue.number as number;
  const onPullRequest = Boolean(ctx.payload.issue.pull_request);
  const reply = (body: string) =>
    queueReply(ctx.deps.pool, { tenantId: repo.tenant_id, repositoryId: repo.id, issueNumber, body, dedupeKey: `reply:${ctx.payload.comment.id}` });
  const log = ctx.log.child({ repo: repo.full_name, issue: issueNumber, command: command.name, sender });
  const finish = async (reaction: Reaction, body: string) => {
    await react(ctx, repo, reaction);
    await reply(body);
    ctx.deps.wakeDrain();
    return 'done' as const;
  };

  if (command.name === 'help') return finish('eyes', HELP);
  if (command.name === 'invalid') return finish('confused', `${command.message}\n\n${HELP}`);
  if (!(await hasWriteAccess(ctx, repo, sender))) {
    log.info('command refused: no write access');
    return finish('-1', `@${sender} \`/wharf ${command.name}\` needs write access to ${repo.full_name}.`);
  }
  if (!onPullRequest && command.name !== 'rollback') return finish('confused', `\`/wharf ${command.name}\` works on pull requests only.`);

  const pr = onPullRequest ? await github.getPullRequest(ctx.deps.pool, repo.id, issueNumber) : null;
  switch (command.name) {
    case 'preview': {
      if (pr?.state !== 'open') return finish('confused', 'Wharf has not seen this pull request open yet; push a commit or reopen it.');
      await github.approvePreview(ctx.deps.pool, repo.id, pr.number, pr.head_sha, sender);
      const approved = await github.getPullRequest(ctx.deps.pool, repo.id, pr.number);
      if (approved) await evaluatePullRequest(ctx.deps, repo, approved, { runKey: 'auto', log });
      return finish('rocket', `Preview of \`${pr.head_sha.slice(0, 7)}\` requested by @${sender}${pr.fork ? ' (fork: no secrets)' : ''}. The **wharf/preview** check and this pull request's Wharf comment show its progress.`);
    }
    case 'redeploy': {
      if (pr?.state !== 'open') return finish('confused', 'There is no open preview to redeploy.');
      const n = await redeploy(ctx, repo, pr.number);
      if (n === 0) return finish('confused', 'This pull request has no preview yet. Use `/wharf preview` first.');
      return finish('rocket', `Reconciling ${n} preview environment${n === 1 ? '' : 's'} again at the same version: a runtime that is missing, unhealthy or drifted is redeployed.`);
    }
    case 'rollback': {
      const target = await github.findVersionBySha(ctx.deps.pool, repo.id, command.sha);
      if (!target) return finish('confused', `Wharf has no recorded version \`${command.sha}\` of ${repo.full_name}.`);
      if (!target.valid) return finish('confused', `Version \`${target.sha.slice(0, 7)}\` is invalid; Wharf will not roll back to it.`);
      const version = await versions.findVersion(ctx.deps.pool, repo.id, target.sha);
      const manifestBranch = (version?.manifest as { productionBranch?: string } | null)?.productionBranch;
      await react(ctx, repo, 'eyes');
      await queueRollbackPullRequest(ctx.deps.pool, {
        tenantId: repo.tenant_id,
        repositoryId: repo.id,
        sha: target.sha,
        issueNumber,
        requestedBy: sender,
        baseBranch: manifestBranch ?? repo.default_branch,
        dedupeKey: `rollback:${ctx.payload.comment.id}`,
      });
      ctx.deps.wakeDrain();
      return 'done';
    }
  }
};
