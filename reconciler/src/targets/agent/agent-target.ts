/**
 * The agent target: environments of `agent:<pool>` run on pull agents inside customers' networks. Apply publishes the
 * environment's desired document (a whole WorkflowApp with its content hash) and places it on a live agent of the
 * pool; it answers `progressing`, and readiness shows in observe, which reads what the agent reported for that very
 * document. Nothing here talks to an agent: agents dial out, long-poll their documents from the agent API (webhook-app)
 * and post reports, which make the environment due at once. Delete publishes a teardown document and confirms once
 * the agent reports the guest gone.
 */
import { type AgentLivenessPolicy, createCoalescer, nothingRunning, type Observation, REASONS, type Target, type TargetLog } from '@wharf/contracts';
import { agentDocuments, type DatabasePool } from '@wharf/store';
import { StalledError, UnknownStateError } from '../../errors.js';
import { deletionHash, documentHash, workflowAppOf } from './agent-document.js';
import { viewDocument } from './observe-document.js';

export interface AgentTargetOptions {
  pool: DatabasePool;
  liveness: AgentLivenessPolicy;
  /** Offline agents lose their environments to a live agent of the pool after this long; null: never. */
  reassignAfterMs: number | null;
  log: TargetLog;
  now?: () => Date;
}

/** How soon the reconciler looks again while an agent works (its report makes the environment due sooner). */
const PROGRESS_RETRY_MS = 5_000;
const OFFLINE_RETRY_MS = 60_000;

export type AgentTarget = Target;

export function createAgentTarget(options: AgentTargetOptions): AgentTarget {
  const { pool, liveness } = options;
  const now = options.now ?? (() => new Date());
  const policy = { ...liveness, reassignAfterMs: options.reassignAfterMs };
  const placement = { staleAfterMs: liveness.staleAfterMs, reassignAfterMs: options.reassignAfterMs };
  // Many environments reconciled at once (a commit that changes them all) read and publish in a few statements.
  const readDocument = createCoalescer({ delayMs: 2, maxBatch: 500, run: (keys: { tenantId: number; environmentId: number }[]) => agentDocuments.readDocuments(pool, keys) });
  const publish = createCoalescer({ delayMs: 2, maxBatch: 500, run: (inputs: agentDocuments.PublishInput[]) => agentDocuments.publishDocuments(pool, inputs) });

  const poolOf = (qualifier: string | null): string => {
    if (!qualifier) throw new StalledError('the agent target needs a pool: agent:<pool>', { reason: REASONS.UnknownTarget });
    return qualifier;
  };

  return {
    name: 'agent',
    capabilities: { rollout: 'swap', applyWaitsForHealthy: false, urls: true },

    async apply(env, ctx) {
      const document = workflowAppOf(env);
      const published = await publish({
        tenantId: env.tenantId,
        pool: poolOf(env.qualifier),
        environmentId: env.id,
        generation: env.generation,
        document,
        hash: documentHash(document),
        placement,
      });
      if (published.agentId === null) {
        throw new UnknownStateError(`no agent of pool ${env.qualifier} is connected to run generation ${env.generation}; it is published and waits for one`, {
          reason: REASONS.AgentOffline,
          retryAfterMs: OFFLINE_RETRY_MS,
        });
      }
      if (published.movedFrom !== null) ctx.log.info({ from: published.movedFrom, to: published.agentId }, 'environment moved to another agent');
      return {
        status: 'progressing',
        url: null,
        message: `generation ${env.generation} published to agent ${published.agentName}`,
        retryAfterMs: PROGRESS_RETRY_MS,
      };
    },

    async observe(ref): Promise<Observation> {
      const scope = { tenantId: ref.tenantId };
      const doc = await readDocument({ tenantId: ref.tenantId, environmentId: ref.id });
      if (!doc) return nothingRunning();
      const needsPool = doc.agent_id === null || doc.agent_revoked || doc.agent_pool !== doc.pool || policy.reassignAfterMs !== null;
      const live = needsPool
        ? await agentDocuments.poolAgents(pool, scope, { pool: doc.pool, liveWithinMs: liveness.staleAfterMs, exclude: doc.agent_revoked ? null : doc.agent_id })
        : null;
      const view = viewDocument(doc, live, now(), policy);
      if (view.kind === 'offline') throw new UnknownStateError(view.message, { reason: REASONS.AgentOffline, retryAfterMs: OFFLINE_RETRY_MS });
      if (view.kind === 'place') return { ...nothingRunning(), message: view.message };
      return view.observation;
    },

    async delete(ref) {
      const state = await agentDocuments.requestDocumentDeletion(pool, { tenantId: ref.tenantId }, { environmentId: ref.id, hash: deletionHash(ref.id) });
      if (state.status === 'deleted') {
        if (state.orphanedOn) options.log.warn({ envId: ref.id, agent: state.orphanedOn }, 'environment removed while its agent is revoked: its guest may be left on Proxmox');
        return { status: 'deleted' };
      }
      return { status: 'pending', message: `agent ${state.agentName} is tearing it down`, retryAfterMs: PROGRESS_RETRY_MS };
    },

    async close() {},
  };
}

