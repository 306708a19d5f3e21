/**
 * issue_comment: `/wharf preview | redeploy | rollback <sha> | help`. Every command but help needs write access,
 * asked of GitHub. Each gets a reaction (👀 taken, 👎 refused, 😕 not understood) and a reply, and is written to the
 * audit log with who asked, what came of it and the comment it came from.
 */
import { AUDIT_ACTIONS } from '@wharf/contracts';
import { audit, pullRequests, repositories, scopeOf, versions } from '@wharf/store';
import { evaluatePullRequest } from '../pull-request/evaluate-pull-request.js';
import { queueReply, queueRollbackPullRequest } from '../reporter.js';
import { type DeliveryContext, githubActor, type Handler } from '../types.js';
import { approvePreview } from './approve-preview.js';
import { ensureRepository, hasWriteAccess } from './ensure-repository.js';
import { type Command, HELP, parseCommand } from './parse-command.js';

type Reaction = '+1' | '-1' | 'eyes' | 'rocket' | 'confused';

async function react(ctx: DeliveryContext, repo: repositories.GithubRepository, content: Reaction): Promise<void> {
  const octokit = await ctx.deps.client.installation(repo.installation_id);
  const [owner, name] = repo.full_name.split('/') as [string, string];
  await octokit.rest.reactions.createForIssueComment({ owner, repo: name, comment_id: ctx.payload.comment.id, content });
}

export const onIssueComment: Handler = async (ctx) => {
  if (ctx.action !== 'created') return 'ignored';
  if (ctx.payload.comment?.user?.type === 'Bot' || ctx.payload.sender?.type === 'Bot') return 'ignored';
  const body = String(ctx.payload.comment?.body ?? '');
  const command = parseCommand(body);
  if (!command) return 'ignored';
  const repo = await ensureRepository(ctx);
  if (!repo) return 'ignored';
  const scope = scopeOf(repo);
  const sender = ctx.payload.sender.login as string;
  const issueNumber = ctx.payload.issue.number as number;
  const onPullRequest = Boolean(ctx.payload.issue.pull_request);
  const log = ctx.log.child({ repo: repo.full_name, issue: issueNumber, command: command.name, sender });
  const commandAudit = (c: Command, outcome: string) => ({
    tenantId: repo.tenant_id,
    actor: githubActor(sender),
    action: AUDIT_ACTIONS.command,
    subject: `${onPullRequest ? 'pull-request' : 'issue'}:${repo.full_name}#${issueNumber}`,
    reason: body.slice(0, 1_000),
    details: { command: c.name, outcome, commentId: ctx.payload.comment.id },
  });
  /** Reacts, and queues the reply with the command's audit entry in one transaction. */
  const finish = async (reaction: Reaction, reply: string, outcome: string) => {
    await react(ctx, repo, reaction);
    await ctx.deps.pool.transaction(async (tx) => {
      await queueReply(tx, { tenantId: repo.tenant_id, repositoryId: repo.id, issueNumber, body: reply, dedupeKey: `reply:${ctx.payload.comment.id}` });
      await audit.recordAudit(tx, [commandAudit(command, outcome)]);
    });
    ctx.deps.wakeDrain();
    return 'done' as const;
  };

  if (command.name === 'help') return finish('eyes', HELP, 'help');
  if (command.name === 'invalid') return finish('confused', `${command.message}\n\n${HELP}`, 'not understood');
  if (!(await hasWriteAccess(ctx, repo, sender))) {
    log.info('command refused: no write access');
    return finish('-1', `@${sender} \`/wharf ${command.name}\` needs write access to ${repo.full_name}.`, 'refused: no write access');
  }
  if (!onPullRequest && command.name !== 'rollback') return finish('confused', `\`/wharf ${command.name}\` works on pull requests only.`, 'not on a pull request');

  const pr = onPullRequest ? await pullRequests.getPullRequest(ctx.deps.pool, scope, issueNumber) : null;
  switch (command.name) {
    case 'preview': {
      if (pr?.state !== 'open') return finish('confused', 'Wharf has not seen this pull request open yet; push a commit or reopen it.', 'no open pull request');
      // The comment approves the head at the comment's time. A head GitHub says arrived at or after it (same second
      // included) is one the commenter may not have seen: it needs its own approval.
      const commentedAt = Date.parse(String(ctx.payload.comment?.created_at ?? ''));
      const headSince = pr.head_since ? Date.parse(pr.head_since) : Number.NaN;
      if (!Number.isNaN(commentedAt) && !Number.isNaN(headSince) && headSince >= commentedAt) {
        log.info({ head: pr.head_sha, headSince: pr.head_since, commentedAt: ctx.payload.comment.created_at }, 'preview approval refused: the head moved after the comment');
        return finish(
          'confused',
          `@${sender} this pull request moved to \`${pr.head_sha.slice(0, 7)}\` after your comment, so it was not approved. Look at the new commit and comment \`/wharf preview\` again to preview it.`,
          `not approved: head ${pr.head_sha.slice(0, 7)} arrived after the comment`,
        );
      }
      const approved = await approvePreview(ctx.deps, repo, pr, pr.head_sha, sender, 'comment');
      if (approved) await evaluatePullRequest(ctx.deps, repo, approved, { runKey: 'auto', log });
      return finish(
        'rocket',
        `Preview of \`${pr.head_sha.slice(0, 7)}\` requested by @${sender}${pr.fork ? ' (fork: no secrets)' : ''}. The **wharf/preview** check and this pull request's Wharf comment show its progress.`,
        `preview of ${pr.head_sha.slice(0, 7)} approved`,
      );
    }
    case 'redeploy': {
      if (pr?.state !== 'open') return finish('confused', 'There is no open preview to redeploy.', 'no open pull request');
      const repository = await repositories.getRepository(ctx.deps.pool, scope);
      const n = repository
        ? await ctx.deps.source.redeployPreview({ repository, prNumber: pr.number, actor: { actor: githubActor(sender), reason: body.slice(0, 1_000) } })
        : 0;
      if (n === 0) return finish('confused', 'This pull request has no preview yet. Use `/wharf preview` first.', 'no preview to redeploy');
      await pullRequests.touchPullRequest(ctx.deps.pool, scope, pr.number);
      return finish(
        'rocket',
        `Reconciling ${n} preview environment${n === 1 ? '' : 's'} again at the same version: a runtime that is missing, unhealthy or drifted is redeployed.`,
        `redeployed ${n}`,
      );
    }
    case 'rollback': {
      const target = await versions.findVersionBySha(ctx.deps.pool, scope, command.sha);
      if (!target) return finish('confused', `Wharf has no recorded version \`${command.sha}\` of ${repo.full_name}.`, 'unknown version');
      if (!target.valid) return finish('confused', `Version \`${target.sha.slice(0, 7)}\` is invalid; Wharf will not roll back to it.`, 'invalid version');
      const version = await versions.findVersion(ctx.deps.pool, scope, target.sha);
      const manifestBranch = (version?.manifest as { productionBranch?: string } | null)?.productionBranch;
      await react(ctx, repo, 'eyes');
      await ctx.deps.pool.transaction(async (tx) => {
        await queueRollbackPullRequest(tx, {
          tenantId: repo.tenant_id,
          repositoryId: repo.id,
          sha: target.sha,
          issueNumber,
          requestedBy: sender,
          baseBranch: manifestBranch ?? repo.default_branch,
          dedupeKey: `rollback:${ctx.payload.comment.id}`,
        });
        await audit.recordAudit(tx, [commandAudit(command, `rollback pull request to ${target.sha.slice(0, 7)} requested`)]);
      });
      ctx.deps.wakeDrain();
      return 'done';
    }
  }
};
