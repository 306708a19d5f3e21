/**
 * `/wharf rollback <sha>`: a pull request whose single commit restores the repository's tree at <sha> on top of the
 * production branch. Git stays the source of truth: production rolls back when someone merges it.
 */
import { repositories } from '@wharf/store';
import { queueReply } from '../reporter.js';
import { ownerRepo, type Sender } from './types.js';

const status = (err: unknown) => (err as { status?: number }).status;

export const sendRollbackPullRequest: Sender = async (deps, row) => {
  // issueNumber is null for a rollback asked through the REST API or the CLI: no comment to answer.
  const p = row.payload as { repositoryId: number; sha: string; issueNumber: number | null; requestedBy: string; baseBranch: string };
  const where = p.issueNumber === null ? 'through the Wharf API' : `in #${p.issueNumber}`;
  const repo = await repositories.getGithubRepository(deps.pool, { tenantId: row.tenant_id, repositoryId: p.repositoryId });
  if (!repo) return { delivered: true, note: 'repository gone' };
  const octokit = await deps.client.installation(repo.installation_id);
  const { owner, repo: name } = ownerRepo(repo.full_name);
  const short = p.sha.slice(0, 7);
  const branch = `wharf/rollback-${short}-${row.id}`;
  let number: number;
  let url: string;
  const open = await octokit.rest.pulls.list({ owner, repo: name, head: `${owner}:${branch}`, state: 'open' });
  if (open.data[0]) {
    number = open.data[0].number;
    url = open.data[0].html_url;
  } else {
    const target = await octokit.rest.git.getCommit({ owner, repo: name, commit_sha: p.sha });
    let head: string;
    try {
      head = (await octokit.rest.git.getRef({ owner, repo: name, ref: `heads/${branch}` })).data.object.sha;
    } catch (err) {
      if (status(err) !== 404) throw err;
      const base = await octokit.rest.git.getRef({ owner, repo: name, ref: `heads/${p.baseBranch}` });
      const commit = await octokit.rest.git.createCommit({
        owner,
        repo: name,
        message: `Roll back to ${short}\n\nRestores the repository as it was at ${p.sha}.\nRequested by ${p.issueNumber === null ? p.requestedBy : `@${p.requestedBy}`} ${where}.`,
        tree: target.data.tree.sha,
        parents: [base.data.object.sha],
      });
      head = commit.data.sha;
      await octokit.rest.git.createRef({ owner, repo: name, ref: `refs/heads/${branch}`, sha: head });
    }
    const created = await octokit.rest.pulls.create({
      owner,
      repo: name,
      title: `Roll back to ${short}`,
      head: branch,
      base: p.baseBranch,
      body: `Restores the repository to ${p.sha}, as requested by ${p.issueNumber === null ? p.requestedBy : `@${p.requestedBy}`} ${where}.\n\nMerging this pull request rolls production back; Wharf recognises the version as a rollback.`,
    });
    number = created.data.number;
    url = created.data.html_url;
  }
  if (p.issueNumber === null) return { delivered: true, note: `opened #${number}` };
  await queueReply(deps.pool, {
    tenantId: repo.tenant_id,
    repositoryId: repo.id,
    issueNumber: p.issueNumber,
    body: `Opened #${number} to roll back to \`${short}\` (${url}). Merge it to roll production back.`,
    dedupeKey: `rollback-reply:${row.id}`,
  });
  deps.wakeDrain();
  return { delivered: true };
};
