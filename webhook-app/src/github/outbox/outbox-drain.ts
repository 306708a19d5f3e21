/**
 * Posts outbox rows to GitHub: claims due rows (the head of each stream or environment only, so order holds), sends
 * each through its sender (a tenant's rows in the order they were queued), and marks it delivered. A failure is
 * retried with exponential backoff and never dropped; only a request GitHub keeps refusing as malformed (4xx other
 * than rate limits) is given up after a few attempts, with the error kept on the row.
 */
import { backoffDelay, type BackoffPolicy, OUTBOX_KINDS, type OutboxKind } from '@wharf/contracts';
import { outbox } from '@wharf/store';
import type { Counter } from 'prom-client';
import type { AppDeps } from '../types.js';
import { sendCheckRun } from './send-check-run.js';
import { sendComment, sendReply } from './send-comment.js';
import { sendDeploymentInactive, sendDeploymentStatus } from './send-deployment-status.js';
import { sendRollbackPullRequest } from './send-rollback-pr.js';
import type { Sender } from './types.js';
import { createPollingLoop, type PollingLoop } from '../polling-loop.js';

export const senders = {
  [OUTBOX_KINDS.checkRun]: sendCheckRun,
  [OUTBOX_KINDS.comment]: sendComment,
  [OUTBOX_KINDS.reply]: sendReply,
  [OUTBOX_KINDS.deploymentStatus]: sendDeploymentStatus,
  [OUTBOX_KINDS.deploymentInactive]: sendDeploymentInactive,
  [OUTBOX_KINDS.rollbackPullRequest]: sendRollbackPullRequest,
} as const satisfies Record<OutboxKind, Sender>;
const senderOf: ReadonlyMap<string, Sender> = new Map(Object.entries(senders));

export interface OutboxDrainOptions {
  deps: AppDeps;
  batchSize?: number;
  pollMs?: number;
  backoff?: { baseSeconds: number; maxSeconds: number };
  /** Attempts after which a request GitHub rejects as malformed is given up. */
  maxClientErrorAttempts?: number;
  sent: Counter<'kind' | 'result'>;
}

export type OutboxDrain = PollingLoop;

interface HttpError {
  status?: number;
  message?: string;
  response?: { headers?: Record<string, string | undefined> };
}

function classify(err: unknown): { retry: 'always' | 'limited'; afterSeconds?: number } {
  const e = err as HttpError;
  const status = e.status;
  if (status === undefined || status >= 500 || status === 429) return { retry: 'always' };
  const headers = e.response?.headers ?? {};
  if (status === 403 && (headers['x-ratelimit-remaining'] === '0' || /rate limit/i.test(e.message ?? ''))) {
    const reset = Number(headers['x-ratelimit-reset']);
    const after = Number(headers['retry-after']);
    return { retry: 'always', afterSeconds: after > 0 ? after : reset > 0 ? Math.max(1, reset - Math.floor(Date.now() / 1000)) : undefined };
  }
  return { retry: 'limited' };
}

export function createOutboxDrain(o: OutboxDrainOptions): OutboxDrain {
  const { deps } = o;
  const kinds = Object.values(OUTBOX_KINDS);
  const { baseSeconds, maxSeconds } = o.backoff ?? { baseSeconds: 2, maxSeconds: 600 };
  const policy: BackoffPolicy = { baseMs: baseSeconds * 1_000, maxMs: maxSeconds * 1_000, jitter: 'equal' };

  const sendOne = async (row: outbox.ClaimedOutboxRow) => {
    const log = deps.log.child({ outboxId: row.id, kind: row.kind, attempt: row.attempts });
    const sender = senderOf.get(row.kind);
    if (!sender) return;
    try {
      const result = await sender(deps, row);
      await outbox.markDelivered(deps.pool, row.id, result.note);
      o.sent.inc({ kind: row.kind, result: result.note ? 'skipped' : 'delivered' });
    } catch (err) {
      const c = classify(err);
      const message = `${(err as HttpError).status ?? ''} ${(err as Error).message ?? String(err)}`.trim().slice(0, 2000);
      if (c.retry === 'limited' && row.attempts >= (o.maxClientErrorAttempts ?? 5)) {
        log.error({ err, attempts: row.attempts }, 'GitHub keeps refusing this request; giving up');
        await outbox.markDelivered(deps.pool, row.id, `gave up: ${message}`);
        o.sent.inc({ kind: row.kind, result: 'gave_up' });
        return;
      }
      const delay = Math.max(c.afterSeconds ?? 0, backoffDelay(row.attempts, Math.random, policy) / 1_000);
      log.warn({ err, retryInSeconds: Math.round(delay * 10) / 10 }, 'GitHub request failed; will retry');
      await outbox.retryOutbox(deps.pool, row.id, delay, message);
      o.sent.inc({ kind: row.kind, result: 'retry' });
    }
  };

  /**
   * One batch: each tenant's rows in the order they were queued (GitHub spaces one installation's writes anyway, and
   * what was decided first, such as a check before the deployment it led to, is posted first); tenants at once.
   */
  const step = async (): Promise<number> => {
    const rows = await outbox.claimOutbox(deps.pool, { kinds, limit: o.batchSize ?? 16, leaseSeconds: 120 });
    const byTenant = new Map<number, outbox.ClaimedOutboxRow[]>();
    for (const row of rows) byTenant.set(row.tenant_id, [...(byTenant.get(row.tenant_id) ?? []), row]);
    await Promise.all(
      [...byTenant.values()].map(async (own) => {
        for (const row of own) await sendOne(row);
      }),
    );
    return rows.length;
  };
  return createPollingLoop({ name: 'outbox drain', log: deps.log, pollMs: o.pollMs, step });
}
