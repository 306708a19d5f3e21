/**
 * Posts outbox rows to GitHub. Each step first prepares the reconciler's new deployment statuses (the preview check
 * each leads to is queued, without a GitHub request), then claims, for each installation (tenant), the head of its
 * most urgent stream (priority.ts: what the author waits for goes first) and sends it; installations at once, one
 * write each per step, which is all GitHub takes anyway (about one write per second per installation). Progress notes,
 * the plan and the comment are held a moment (`holdMs`), so that the slot after a result stays free for the next one.
 *
 * Senders skip a row a later row of the same check run, deployment or comment replaces (one write instead of two);
 * a deployment failure is never skipped. A failure to send is retried with exponential backoff and never dropped;
 * only a request GitHub keeps refusing as malformed (4xx other than rate limits) is given up after a few attempts,
 * with the error kept on the row. When GitHub says to wait (a rate limit, Retry-After), the whole installation
 * waits, not just the row.
 */
import { backoffDelay, type BackoffPolicy, OUTBOX_KINDS, type OutboxKind } from '@wharf/contracts';
import { outbox } from '@wharf/store';
import type { AppDeps } from '../types.js';
import { createPollingLoop, type PollingLoop } from '../polling-loop.js';
import type { GitHubMetrics, SendResult as SentLabel } from '../metrics.js';
import { sendCheckRun } from './send-check-run.js';
import { sendComment, sendReply } from './send-comment.js';
import { prepareDeploymentStatus, sendDeploymentInactive, sendDeploymentStatus } from './send-deployment-status.js';
import { PRIORITIES } from './priority.js';
import { sendRollbackPullRequest } from './send-rollback-pr.js';
import type { Sender } from './types.js';

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
  /** Installations served per step. */
  batchSize?: number;
  pollMs?: number;
  backoff?: { baseSeconds: number; maxSeconds: number };
  /** Attempts after which a request GitHub rejects as malformed is given up. */
  maxClientErrorAttempts?: number;
  metrics: Pick<GitHubMetrics, 'sent' | 'kindLabel'>;
  /**
   * Progress notes, the plan and the comment wait this long after they were queued (default 1500 ms): a later state
   * that comes meanwhile replaces them, and the installation's next write slot stays free for a result on its way.
   */
  holdMs?: number;
  now?: () => number;
}

export type OutboxDrain = PollingLoop;

interface HttpError {
  status?: number;
  message?: string;
  response?: { headers?: Record<string, string | undefined> };
}

/** How GitHub's answer says to go on: retry always (5xx, network, rate limits: after the time it names) or a few times. */
export function classify(err: unknown, nowMs: number): { retry: 'always' | 'limited'; afterSeconds?: number; rateLimited: boolean } {
  const e = err as HttpError;
  const status = e.status;
  const headers = e.response?.headers ?? {};
  const retryAfter = Number(headers['retry-after']);
  const reset = Number(headers['x-ratelimit-reset']);
  const wait = retryAfter > 0 ? retryAfter : headers['x-ratelimit-remaining'] === '0' && reset > 0 ? Math.max(1, reset - Math.floor(nowMs / 1000)) : undefined;
  if (status === 429 || (status === 403 && (headers['x-ratelimit-remaining'] === '0' || retryAfter > 0 || /rate limit/i.test(e.message ?? '')))) {
    // GitHub's advice for a secondary limit without a Retry-After: wait at least a minute.
    return { retry: 'always', afterSeconds: wait ?? 60, rateLimited: true };
  }
  if (status === undefined || status >= 500) return { retry: 'always', afterSeconds: wait, rateLimited: false };
  return { retry: 'limited', rateLimited: false };
}

export function createOutboxDrain(o: OutboxDrainOptions): OutboxDrain {
  const { deps } = o;
  const now = o.now ?? Date.now;
  const kinds = Object.values(OUTBOX_KINDS);
  const { baseSeconds, maxSeconds } = o.backoff ?? { baseSeconds: 2, maxSeconds: 600 };
  const policy: BackoffPolicy = { baseMs: baseSeconds * 1_000, maxMs: maxSeconds * 1_000, jitter: 'equal' };
  /** Installations GitHub asked to wait, until when (this process's view; other processes learn it on their own). */
  const waitUntil = new Map<number, number>();
  const count = (kind: string, result: SentLabel) => o.metrics.sent.inc({ kind: o.metrics.kindLabel(kind), result });

  const sendOne = async (row: outbox.ClaimedOutboxRow) => {
    const log = deps.log.child({ outboxId: row.id, kind: row.kind, attempt: row.attempts });
    const sender = senderOf.get(row.kind);
    if (!sender) return;
    try {
      const result = await sender(deps, row);
      await outbox.markDelivered(deps.pool, row.id, result.note);
      count(row.kind, result.note === 'superseded' ? 'superseded' : result.note ? 'skipped' : 'delivered');
    } catch (err) {
      const c = classify(err, now());
      const message = `${(err as HttpError).status ?? ''} ${(err as Error).message ?? String(err)}`.trim().slice(0, 2000);
      if (c.retry === 'limited' && row.attempts >= (o.maxClientErrorAttempts ?? 5)) {
        log.error({ err, attempts: row.attempts }, 'GitHub keeps refusing this request; giving up');
        await outbox.markDelivered(deps.pool, row.id, `gave up: ${message}`);
        count(row.kind, 'gave_up');
        return;
      }
      const delay = Math.max(c.afterSeconds ?? 0, backoffDelay(row.attempts, Math.random, policy) / 1_000);
      if (c.rateLimited) waitUntil.set(row.tenant_id, now() + delay * 1_000);
      log.warn({ err, retryInSeconds: Math.round(delay * 10) / 10, rateLimited: c.rateLimited }, 'GitHub request failed; will retry');
      await outbox.retryOutbox(deps.pool, row.id, delay, message);
      count(row.kind, 'retry');
    }
  };

  /** The reconciler's new deployment statuses: their priority, and the preview checks they lead to. */
  const prepare = async (): Promise<number> => {
    const rows = await outbox.listUnprepared(deps.pool, OUTBOX_KINDS.deploymentStatus, 50);
    let prepared = 0;
    for (const row of rows) {
      try {
        if (await deps.pool.transaction((tx) => prepareDeploymentStatus(tx, row))) prepared += 1;
      } catch (err) {
        // Left unprepared, it is tried again next step; other rows go on.
        deps.log.error({ err, outboxId: row.id }, 'deployment status not prepared');
      }
    }
    if (prepared > 0) deps.wakeDrain();
    return prepared;
  };

  const step = async (): Promise<number> => {
    const prepared = await prepare();
    const t = now();
    for (const [tenant, until] of waitUntil) if (until <= t) waitUntil.delete(tenant);
    const rows = await outbox.claimOutbox(deps.pool, {
      kinds,
      limit: o.batchSize ?? 16,
      leaseSeconds: 120,
      skipTenants: [...waitUntil.keys()],
      requirePrepared: [OUTBOX_KINDS.deploymentStatus],
      hold: { fromPriority: PRIORITIES.progress, ms: o.holdMs ?? 1_500 },
    });
    await Promise.all(rows.map((row) => sendOne(row)));
    return rows.length + prepared;
  };
  return createPollingLoop({ name: 'outbox drain', log: deps.log, pollMs: o.pollMs, step });
}
