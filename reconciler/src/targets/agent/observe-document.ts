/**
 * What the agent target sees of an environment, from its document and the last report of its agent. Pure: the
 * target reads the row, this decides. The outcomes:
 *   - `observed`: an Observation for the reconcile steps. A report for an older document shows what still runs, with
 *     `Progressing` (the agent is applying the new one); a failure for this document shows as the target's own
 *     `Stalled` (needs a user change) or `Degraded` (the agent retries with backoff) condition with the agent's reason.
 *   - `place`: the document has no usable agent (none was live, it was revoked, or it has been Offline past the
 *     reassignment setting while another is live): apply will place it.
 *   - `offline`: its agent is Offline (or no agent of the pool is live): `Ready=Unknown`, reason `AgentOffline`.
 */
import {
  agentLiveness,
  AGENT_FAILURES,
  type AgentLivenessPolicy,
  type Condition,
  isAgentFailureReason,
  type Observation,
  REASONS,
} from '@wharf/contracts';
import type { agentDocuments } from '@wharf/store';

export type DocumentView =
  | { kind: 'observed'; observation: Observation }
  | { kind: 'place'; message: string }
  | { kind: 'offline'; message: string };

export interface ObservePolicy extends AgentLivenessPolicy {
  reassignAfterMs: number | null;
}

const ago = (ms: number) => (ms >= 120_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`);

const condition = (type: Condition['type'], reason: Condition['reason'], message: string, at: Date): Condition => ({
  type,
  status: 'True',
  reason,
  message,
  lastTransitionTime: at.toISOString(),
});

export function viewDocument(
  doc: agentDocuments.ObservedDocument,
  pool: { live: number; registered: number } | null,
  now: Date,
  policy: ObservePolicy,
): DocumentView {
  const agent = doc.agent_name ?? `#${doc.agent_id}`;
  if (doc.agent_id === null || doc.agent_revoked || doc.agent_pool !== doc.pool) {
    if (pool && pool.live > 0) return { kind: 'place', message: `placing on an agent of pool ${doc.pool}` };
    const why =
      pool?.registered === 0 || !pool
        ? `no agent is registered in pool ${doc.pool}: create a registration token (wharf agent token create --pool ${doc.pool}) and register one`
        : `none of the ${pool.registered} agent(s) of pool ${doc.pool} is connected`;
    return { kind: 'offline', message: why };
  }
  const liveness = agentLiveness(doc.agent_last_seen_at, now, policy);
  if (liveness === 'Offline') {
    const unseen = doc.agent_last_seen_at ? now.getTime() - new Date(doc.agent_last_seen_at).getTime() : Number.POSITIVE_INFINITY;
    if (policy.reassignAfterMs !== null && unseen > policy.reassignAfterMs && pool && pool.live > 0) {
      return { kind: 'place', message: `agent ${agent} has been offline for ${ago(unseen)}: moving to another agent of pool ${doc.pool}` };
    }
    return {
      kind: 'offline',
      message: `agent ${agent} of pool ${doc.pool} has not been seen for ${Number.isFinite(unseen) ? ago(unseen) : 'ever'}: what it runs keeps running, and Wharf cannot see it`,
    };
  }
  const current = doc.reported_hash === doc.document_hash ? doc.report : null;
  const shown = current ?? doc.report;
  const instances = shown?.guest
    ? [
        {
          name: `${shown.guest.kind === 'qemu' ? 'vm' : 'ct'} ${shown.guest.vmid}`,
          host: shown.guest.node,
          digest: shown.digest,
          healthy: shown.healthy,
          ...(shown.error ? { message: shown.error.message } : {}),
        },
      ]
    : [];
  const stale = liveness === 'Stale' ? ` (agent ${agent} is stale: no poll lately)` : '';
  if (doc.deleting) {
    const gone = current?.deleted === true;
    return {
      kind: 'observed',
      observation: {
        exists: !gone,
        digest: null,
        healthy: false,
        url: null,
        observedGeneration: doc.generation,
        conditions: gone ? [] : [condition('Progressing', REASONS.TearingDown, `agent ${agent} is tearing it down${stale}`, now)],
        instances,
      },
    };
  }
  if (!current) {
    return {
      kind: 'observed',
      observation: {
        exists: shown?.exists ?? false,
        digest: shown?.digest ?? null,
        healthy: false,
        url: shown?.url ?? null,
        observedGeneration: doc.generation,
        conditions: [condition('Progressing', REASONS.Waiting, `agent ${agent} is applying generation ${doc.generation}${stale}`, now)],
        instances,
      },
    };
  }
  const conditions: Condition[] = [];
  if (current.error) {
    const reason = isAgentFailureReason(current.error.reason) ? current.error.reason : REASONS.ApplyFailed;
    const stalls = (isAgentFailureReason(current.error.reason) ? AGENT_FAILURES[current.error.reason] : current.error.retry) === 'user-change';
    conditions.push(condition(stalls ? 'Stalled' : 'Degraded', reason, `agent ${agent}: ${current.error.message}`, now));
  } else if (!current.healthy) {
    conditions.push(condition('Progressing', REASONS.Waiting, `agent ${agent} reports the runtime not healthy yet${stale}`, now));
  }
  return {
    kind: 'observed',
    observation: {
      exists: current.exists,
      digest: current.digest,
      healthy: current.healthy && !current.error,
      url: current.url,
      observedGeneration: doc.generation,
      conditions,
      instances,
      ...(stale ? { message: stale.trim() } : {}),
    },
  };
}
