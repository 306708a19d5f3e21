/**
 * github_check_runs: one row per check run Wharf created, (head commit, name, run) → GitHub's id, and how many
 * annotation batches of the current output went out, so that a retried update does not post annotations twice.
 */
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { int8, parseRow } from './rows.js';
import { repositoryFilter, type RepositoryScope } from './scope.js';

export const CheckRunRecord = z.object({
  check_run_id: int8,
  output_key: z.string().nullable(),
  batches_sent: int8,
  status: z.string().nullable(),
  conclusion: z.string().nullable(),
});
export type CheckRunRecord = z.infer<typeof CheckRunRecord>;

export interface CheckRunKey {
  headSha: string;
  name: string;
  runKey: string;
}

export async function getCheckRun(db: CommonQueryMethods, scope: RepositoryScope, k: CheckRunKey): Promise<CheckRunRecord | null> {
  return db
    .maybeOne(sql.type(CheckRunRecord)`
    SELECT check_run_id, output_key, batches_sent, status, conclusion FROM github_check_runs
    WHERE ${repositoryFilter(scope)} AND head_sha = ${k.headSha} AND name = ${k.name} AND run_key = ${k.runKey}`)
    .then(parseRow(CheckRunRecord));
}

export async function saveCheckRun(
  db: CommonQueryMethods,
  scope: RepositoryScope,
  k: CheckRunKey & { checkRunId: number; outputKey: string | null; batchesSent: number; status: string; conclusion: string | null },
): Promise<void> {
  await db.query(sql.unsafe`
    INSERT INTO github_check_runs (repository_id, tenant_id, head_sha, name, run_key, check_run_id, output_key, batches_sent, status, conclusion)
    VALUES (${scope.repositoryId}, ${scope.tenantId}, ${k.headSha}, ${k.name}, ${k.runKey}, ${k.checkRunId}, ${k.outputKey}, ${k.batchesSent},
      ${k.status}, ${k.conclusion})
    ON CONFLICT (repository_id, head_sha, name, run_key) DO UPDATE SET check_run_id = EXCLUDED.check_run_id,
      output_key = EXCLUDED.output_key, batches_sent = EXCLUDED.batches_sent, status = EXCLUDED.status,
      conclusion = EXCLUDED.conclusion, updated_at = now()
    WHERE github_check_runs.tenant_id = EXCLUDED.tenant_id`);
}

/** The run key of the newest run of this check on this commit (a re-run makes a new one). */
export async function latestRunKey(db: CommonQueryMethods, scope: RepositoryScope, headSha: string, name: string): Promise<string | null> {
  return db.maybeOneFirst(sql.type(z.object({ run_key: z.string() }))`
    SELECT run_key FROM github_check_runs WHERE ${repositoryFilter(scope)} AND head_sha = ${headSha} AND name = ${name}
    ORDER BY updated_at DESC LIMIT 1`);
}
