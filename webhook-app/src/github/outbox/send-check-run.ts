/**
 * Creates or updates a check run, posting annotations 50 per request. Progress is saved after every request, so a
 * retry after a failure continues where it stopped and never posts an annotation twice.
 */
import { createHash } from 'node:crypto';
import { checkRuns, outbox, repositories } from '@wharf/store';
import { GITHUB_LIMITS } from '../render/limits.js';
import type { CheckRunOutput, CheckRunTarget } from '../reporter.js';
import { ownerRepo, type Sender } from './types.js';

export const sendCheckRun: Sender = async (deps, row) => {
  const { output, ...target } = row.payload as unknown as CheckRunTarget & { output: CheckRunOutput };
  // A later state of the same run already waiting replaces this one whole (its output, its conclusion): one write
  // instead of two, within GitHub's budget of about one write per second per installation.
  if (row.stream && (await outbox.hasLaterRowInStream(deps.pool, row.id, row.stream))) {
    return { delivered: true, note: 'superseded' };
  }
  const scope = { tenantId: row.tenant_id, repositoryId: target.repositoryId };
  const repo = await repositories.getGithubRepository(deps.pool, scope);
  if (!repo) return { delivered: true, note: 'repository gone' };
  const octokit = await deps.client.installation(repo.installation_id);
  const { owner, repo: name } = ownerRepo(repo.full_name);
  const key = { headSha: target.headSha, name: target.name, runKey: target.runKey };
  const annotations = output.annotations ?? [];
  const outputKey = createHash('sha256').update(JSON.stringify(output)).digest('hex').slice(0, 24);
  const batches: (typeof annotations)[] = [];
  for (let i = 0; i < annotations.length; i += GITHUB_LIMITS.annotationsPerRequest) batches.push(annotations.slice(i, i + GITHUB_LIMITS.annotationsPerRequest));
  if (batches.length === 0) batches.push([]);
  const record = await checkRuns.getCheckRun(deps.pool, scope, key);
  let sent = record && record.output_key === outputKey ? record.batches_sent : 0;
  let checkRunId = record?.check_run_id ?? null;
  const completed = output.status === 'completed';
  const body = (batch: typeof annotations) => ({
    status: output.status,
    ...(completed ? { conclusion: output.conclusion ?? 'neutral', completed_at: new Date().toISOString() } : {}),
    ...(output.status === 'in_progress' ? { started_at: new Date().toISOString() } : {}),
    ...(output.detailsUrl ? { details_url: output.detailsUrl } : {}),
    ...(output.actions ? { actions: output.actions } : {}),
    output: { title: output.title, summary: output.summary, ...(output.text ? { text: output.text } : {}), ...(batch.length ? { annotations: batch } : {}) },
  });
  while (sent < batches.length) {
    const batch = batches[sent] ?? [];
    if (checkRunId === null) {
      const { data } = await octokit.rest.checks.create({ owner, repo: name, name: target.name, head_sha: target.headSha, external_id: target.runKey, ...body(batch) });
      checkRunId = data.id;
    } else {
      await octokit.rest.checks.update({ owner, repo: name, check_run_id: checkRunId, ...body(batch) });
    }
    sent += 1;
    await checkRuns.saveCheckRun(deps.pool, scope, { ...key, checkRunId, outputKey, batchesSent: sent, status: output.status, conclusion: output.conclusion ?? null });
  }
  return { delivered: true };
};
