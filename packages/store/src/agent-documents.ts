/**
 * The desired-state documents of `agent:<pool>` environments, and what agents report back.
 *
 * The agent target publishes one document per environment (a whole WorkflowApp with its content hash, never a
 * command) and places it on a live agent of the environment's tenant and pool: the one with the fewest documents
 * (spread by load), then sticky. It moves only when its agent is revoked, leaves the pool, or has been Offline longer
 * than the reassignment setting while another agent of the pool is live. Every change that an agent must see sends
 * `d<agentId>` on AGENTS_CHANNEL in the same transaction.
 *
 * An agent reads only the documents placed on it (its tenant and pool too), and reports are fenced by the document
 * hash: a report for a document the agent no longer holds is `stale` and changes nothing; the same report twice is
 * `unchanged`. A report that changes anything makes the environment due, so the reconciler observes it at once.
 */
import { createHash } from 'node:crypto';
import type { AgentStatusReport, WorkflowApp } from '@wharf/contracts';
import { sql, type CommonQueryMethods, type DatabasePool } from 'slonik';
import { z } from 'zod';
import type { AgentIdentity } from './agents.js';
import { AGENTS_CHANNEL, ENVIRONMENTS_CHANNEL } from './channels.js';
import { int8, Json, jsonb, parseRow, parseRows } from './rows.js';
import type { TenantScope } from './scope.js';

export interface PlacementPolicy {
  /** Agents not seen for this long get no new documents. */
  staleAfterMs: number;
  /** Agents Offline for this long lose their documents to a live agent of the pool; null: never. */
  reassignAfterMs: number | null;
}

export interface PublishInput {
  tenantId: number;
  pool: string;
  environmentId: number;
  generation: number;
  document: WorkflowApp;
  hash: string;
  placement: PlacementPolicy;
}

export interface PublishResult {
  agentId: number | null;
  agentName: string | null;
  /** False when the same document was already published to the same agent (nothing written). */
  changed: boolean;
  /** The agent it was taken from, when it moved. */
  movedFrom: number | null;
}

const Current = z.object({
  environment_id: int8,
  agent_id: int8.nullable(),
  document_hash: z.string(),
  deleting: z.boolean(),
  agent_name: z.string().nullable(),
  agent_pool: z.string().nullable(),
  agent_revoked: z.boolean().nullable(),
  agent_unseen_ms: z.number().nullable(),
});

const Candidate = z.object({ id: int8, name: z.string(), load: int8 });
type Candidate = z.infer<typeof Candidate>;

/** The live agents of a pool with their loads, taking the pool's turn to place (until the transaction ends). */
async function candidates(tx: CommonQueryMethods, input: { tenantId: number; pool: string; staleAfterMs: number }): Promise<Candidate[]> {
  // Placements in one pool take turns, so that a burst of new environments spreads instead of piling on one agent.
  await tx.query(sql.unsafe`SELECT pg_advisory_xact_lock(7424616, hashtext(${`${input.tenantId}/${input.pool}`}))`);
  return tx
    .any(sql.type(Candidate)`
    SELECT a.id, a.name, (SELECT count(*) FROM agent_documents d WHERE d.agent_id = a.id) AS load FROM agents a
    WHERE a.tenant_id = ${input.tenantId} AND a.pool = ${input.pool} AND a.revoked_at IS NULL
      AND a.last_seen_at > now() - ${input.staleAfterMs} * interval '1 millisecond'`)
    .then(parseRows(Candidate));
}

/** The least loaded candidate (lowest id on a tie), counted as one more. */
function pickFrom(list: Candidate[], exclude: number | null): Candidate | null {
  let best: Candidate | null = null;
  for (const c of list) if (c.id !== exclude && (!best || c.load < best.load || (c.load === best.load && c.id < best.id))) best = c;
  if (best) best.load += 1;
  return best;
}

/** Publishes an environment's document, placing it when it has no agent (or must move); see the module doc. */
export async function publishDocument(pool: DatabasePool, input: PublishInput): Promise<PublishResult> {
  const [result] = await publishDocuments(pool, [input]);
  return result!;
}

/**
 * Publishes many documents in one transaction (the agent target coalesces concurrent applies): documents that stay
 * with their agent are written in one statement; only those that need placing take a turn in their pool.
 */
export async function publishDocuments(pool: DatabasePool, inputs: readonly PublishInput[]): Promise<PublishResult[]> {
  if (inputs.length === 0) return [];
  const byEnv = new Map<number, PublishInput>();
  for (const i of inputs) byEnv.set(i.environmentId, i);
  return pool.transaction(async (tx) => {
    const keys = [...byEnv.values()].map((i) => ({ id: i.environmentId, tenant: i.tenantId }));
    const rows = await tx
      .any(sql.type(Current)`
      SELECT d.environment_id, d.agent_id, d.document_hash, d.deleting, a.name AS agent_name, a.pool AS agent_pool,
        a.revoked_at IS NOT NULL AS agent_revoked,
        (extract(epoch FROM now() - coalesce(a.last_seen_at, a.created_at)) * 1000)::float8 AS agent_unseen_ms
      FROM agent_documents d
      JOIN jsonb_to_recordset(${jsonb(keys)}) AS k(id bigint, tenant bigint) ON k.id = d.environment_id AND k.tenant = d.tenant_id
      LEFT JOIN agents a ON a.id = d.agent_id
      ORDER BY d.environment_id
      FOR UPDATE OF d`)
      .then(parseRows(Current));
    const current = new Map(rows.map((r) => [r.environment_id, r]));
    const results = new Map<number, PublishResult>();
    const pools = new Map<string, Candidate[]>();
    const writes: { input: PublishInput; agentId: number | null; previous: number | null }[] = [];
    for (const input of byEnv.values()) {
      const c = current.get(input.environmentId);
      const { reassignAfterMs, staleAfterMs } = input.placement;
      const usable = c?.agent_id != null && c.agent_revoked === false && c.agent_pool === input.pool;
      let agent: { id: number; name: string } | null = usable ? { id: c.agent_id!, name: c.agent_name! } : null;
      const offlineTooLong = usable && reassignAfterMs !== null && (c.agent_unseen_ms ?? 0) > reassignAfterMs;
      if (!agent || offlineTooLong) {
        const key = `${input.tenantId}/${input.pool}`;
        if (!pools.has(key)) pools.set(key, await candidates(tx, { tenantId: input.tenantId, pool: input.pool, staleAfterMs }));
        const picked = pickFrom(pools.get(key)!, agent?.id ?? null);
        if (picked) {
          const leaving = pools.get(key)!.find((x) => x.id === agent?.id);
          if (leaving) leaving.load -= 1;
          agent = picked;
        }
      }
      const agentId = agent?.id ?? null;
      const previous = c?.agent_id ?? null;
      if (c && previous === agentId && c.document_hash === input.hash && !c.deleting) {
        results.set(input.environmentId, { agentId, agentName: agent?.name ?? null, changed: false, movedFrom: null });
        continue;
      }
      writes.push({ input, agentId, previous });
      results.set(input.environmentId, { agentId, agentName: agent?.name ?? null, changed: true, movedFrom: previous !== null && previous !== agentId ? previous : null });
    }
    if (writes.length > 0) {
      const values = writes.map((w) => ({
        id: w.input.environmentId,
        tenant: w.input.tenantId,
        pool: w.input.pool,
        agent: w.agentId,
        generation: w.input.generation,
        document: w.input.document,
        hash: w.input.hash,
      }));
      await tx.query(sql.unsafe`
        INSERT INTO agent_documents (environment_id, tenant_id, pool, agent_id, generation, document, document_hash, deleting, assigned_at)
        SELECT x.id, x.tenant, x.pool, x.agent, x.generation, x.document, x.hash, false, CASE WHEN x.agent IS NULL THEN NULL ELSE now() END
        FROM jsonb_to_recordset(${jsonb(values)}) AS x(id bigint, tenant bigint, pool text, agent bigint, generation bigint, document jsonb, hash text)
        ORDER BY x.id
        ON CONFLICT (environment_id) DO UPDATE SET
          pool = EXCLUDED.pool, agent_id = EXCLUDED.agent_id, generation = EXCLUDED.generation, document = EXCLUDED.document,
          document_hash = EXCLUDED.document_hash, deleting = false, published_at = now(),
          assigned_at = CASE WHEN agent_documents.agent_id IS NOT DISTINCT FROM EXCLUDED.agent_id THEN agent_documents.assigned_at ELSE EXCLUDED.assigned_at END,
          reported_hash = CASE WHEN agent_documents.agent_id IS NOT DISTINCT FROM EXCLUDED.agent_id THEN agent_documents.reported_hash END,
          report = CASE WHEN agent_documents.agent_id IS NOT DISTINCT FROM EXCLUDED.agent_id THEN agent_documents.report END,
          reported_at = CASE WHEN agent_documents.agent_id IS NOT DISTINCT FROM EXCLUDED.agent_id THEN agent_documents.reported_at END`);
      await notifyAgents(tx, writes.flatMap((w) => [w.agentId, w.previous]));
    }
    return inputs.map((i) => results.get(i.environmentId)!);
  });
}

async function notifyAgents(tx: CommonQueryMethods, ids: readonly (number | null)[]): Promise<void> {
  const agentIds = [...new Set(ids)].filter((id): id is number => id !== null);
  if (agentIds.length === 0) return;
  await tx.query(sql.unsafe`SELECT pg_notify(${AGENTS_CHANNEL}, 'd' || id) FROM unnest(${sql.array(agentIds, 'int8')}::bigint[]) AS id`);
}

export type DeletionState =
  | { status: 'deleted'; orphanedOn: string | null }
  | { status: 'pending'; agentId: number; agentName: string };

/**
 * Asks the environment's agent to tear it down (the document becomes a deletion with hash `hash`), or finishes when
 * the agent has reported it gone. A document on nobody, or on a revoked agent (which can no longer be reached), is
 * simply removed: `orphanedOn` names the revoked agent whose guest may be left.
 */
export async function requestDocumentDeletion(
  pool: DatabasePool,
  scope: TenantScope,
  input: { environmentId: number; hash: string },
): Promise<DeletionState> {
  const Row = z.object({
    agent_id: int8.nullable(),
    agent_name: z.string().nullable(),
    agent_revoked: z.boolean().nullable(),
    document_hash: z.string(),
    deleting: z.boolean(),
    reported_hash: z.string().nullable(),
    report: Json,
  });
  return pool.transaction(async (tx) => {
    const row = await tx
      .maybeOne(sql.type(Row)`
      SELECT d.agent_id, a.name AS agent_name, a.revoked_at IS NOT NULL AS agent_revoked, d.document_hash, d.deleting, d.reported_hash, d.report
      FROM agent_documents d LEFT JOIN agents a ON a.id = d.agent_id
      WHERE d.environment_id = ${input.environmentId} AND d.tenant_id = ${scope.tenantId}
      FOR UPDATE OF d`)
      .then(parseRow(Row));
    if (!row) return { status: 'deleted', orphanedOn: null };
    const remove = async () => {
      await tx.query(sql.unsafe`DELETE FROM agent_documents WHERE environment_id = ${input.environmentId} AND tenant_id = ${scope.tenantId}`);
      await notifyAgents(tx, [row.agent_id]);
    };
    if (row.agent_id === null || row.agent_revoked) {
      await remove();
      return { status: 'deleted', orphanedOn: row.agent_revoked ? row.agent_name : null };
    }
    const report = row.report as { deleted?: boolean } | null;
    if (row.deleting && row.reported_hash === row.document_hash && report?.deleted === true) {
      await remove();
      return { status: 'deleted', orphanedOn: null };
    }
    if (!row.deleting) {
      await tx.query(sql.unsafe`
        UPDATE agent_documents SET deleting = true, document = NULL, document_hash = ${input.hash}, published_at = now()
        WHERE environment_id = ${input.environmentId}`);
      await notifyAgents(tx, [row.agent_id]);
    }
    return { status: 'pending', agentId: row.agent_id, agentName: row.agent_name ?? String(row.agent_id) };
  });
}

export const ObservedDocument = z.object({
  environment_id: int8,
  pool: z.string(),
  agent_id: int8.nullable(),
  agent_name: z.string().nullable(),
  agent_last_seen_at: z.string().nullable(),
  agent_revoked: z.boolean().nullable(),
  agent_pool: z.string().nullable(),
  generation: int8,
  document_hash: z.string(),
  deleting: z.boolean(),
  published_at: z.string(),
  reported_hash: z.string().nullable(),
  report: z.custom<AgentStatusReport | null>(() => true).transform((v) => v ?? null),
  reported_at: z.string().nullable(),
});
export type ObservedDocument = z.infer<typeof ObservedDocument>;

const observedColumns = sql.fragment`
  d.environment_id, d.pool, d.agent_id, a.name AS agent_name, a.last_seen_at AS agent_last_seen_at,
  a.revoked_at IS NOT NULL AS agent_revoked, a.pool AS agent_pool, d.generation, d.document_hash, d.deleting, d.published_at,
  d.reported_hash, d.report, d.reported_at`;

/** An environment's document with its agent and the agent's last report (for the agent target's observe). */
export async function readDocument(db: CommonQueryMethods, scope: TenantScope, environmentId: number): Promise<ObservedDocument | null> {
  const [doc] = await readDocuments(db, [{ tenantId: scope.tenantId, environmentId }]);
  return doc ?? null;
}

/** Many environments' documents at once (the agent target coalesces concurrent observes); each read names its tenant. */
export async function readDocuments(
  db: CommonQueryMethods,
  keys: readonly { tenantId: number; environmentId: number }[],
): Promise<(ObservedDocument | null)[]> {
  if (keys.length === 0) return [];
  const rows = await db
    .any(sql.type(ObservedDocument)`
    SELECT ${observedColumns}
    FROM agent_documents d
    JOIN jsonb_to_recordset(${jsonb(keys.map((k) => ({ id: k.environmentId, tenant: k.tenantId })))}) AS k(id bigint, tenant bigint)
      ON k.id = d.environment_id AND k.tenant = d.tenant_id
    LEFT JOIN agents a ON a.id = d.agent_id`)
    .then(parseRows(ObservedDocument));
  const byId = new Map(rows.map((r) => [r.environment_id, r]));
  return keys.map((k) => byId.get(k.environmentId) ?? null);
}

/** How many agents of a pool are registered (not revoked), and how many of them were seen within `liveWithinMs`. */
export async function poolAgents(
  db: CommonQueryMethods,
  scope: TenantScope,
  input: { pool: string; liveWithinMs: number; exclude?: number | null },
): Promise<{ registered: number; live: number }> {
  const Row = z.object({ registered: int8, live: int8 });
  return db
    .one(sql.type(Row)`
    SELECT count(*) AS registered, count(*) FILTER (WHERE last_seen_at > now() - ${input.liveWithinMs} * interval '1 millisecond') AS live
    FROM agents WHERE tenant_id = ${scope.tenantId} AND pool = ${input.pool} AND revoked_at IS NULL
      ${input.exclude != null ? sql.fragment`AND id <> ${input.exclude}` : sql.fragment``}`)
    .then((r) => Row.parse(r));
}

export const AssignedDocument = z.object({
  environment_id: int8,
  generation: int8,
  document: z.custom<WorkflowApp | null>(() => true).transform((v) => v ?? null),
  document_hash: z.string(),
  deleting: z.boolean(),
});
export type AssignedDocument = z.infer<typeof AssignedDocument>;

/** Hash of a set of documents: what `?since=` compares. */
export function documentSetHash(docs: readonly { environment_id: number; document_hash: string }[]): string {
  const h = createHash('sha256');
  for (const d of [...docs].sort((a, b) => a.environment_id - b.environment_id)) h.update(`${d.environment_id}:${d.document_hash}\n`);
  return `sha256:${h.digest('hex')}`;
}

/** Every document placed on the agent (of its own tenant and pool only), with the hash of the set. */
export async function documentsForAgent(db: CommonQueryMethods, agent: AgentIdentity): Promise<{ hash: string; documents: readonly AssignedDocument[] }> {
  const [set] = await documentsForAgents(db, [agent]);
  return set!;
}

/** The documents of many agents in one statement (the agent API coalesces the loads of agents woken together). */
export async function documentsForAgents(db: CommonQueryMethods, list: readonly AgentIdentity[]): Promise<{ hash: string; documents: readonly AssignedDocument[] }[]> {
  if (list.length === 0) return [];
  const Row = AssignedDocument.extend({ agent_id: int8 });
  const keys = list.map((a) => ({ agent: a.agentId, tenant: a.tenantId, pool: a.pool }));
  const rows = await db
    .any(sql.type(Row)`
    SELECT d.agent_id, d.environment_id, d.generation, d.document, d.document_hash, d.deleting
    FROM agent_documents d
    JOIN jsonb_to_recordset(${jsonb(keys)}) AS k(agent bigint, tenant bigint, pool text)
      ON d.agent_id = k.agent AND d.tenant_id = k.tenant AND d.pool = k.pool
    ORDER BY d.environment_id`)
    .then(parseRows(Row));
  const byAgent = new Map<number, AssignedDocument[]>();
  for (const { agent_id, ...doc } of rows) byAgent.set(agent_id, [...(byAgent.get(agent_id) ?? []), doc]);
  return list.map((a) => {
    const documents = byAgent.get(a.agentId) ?? [];
    return { hash: documentSetHash(documents), documents };
  });
}

export type ReportResult = 'recorded' | 'unchanged' | 'stale';

/**
 * Records agents' reports in one statement, fenced: a report counts only for a document placed on the agent that
 * sent it (its tenant) whose current hash it names. Reports that change anything make their environments due (unless
 * a reconciler holds them: it will look again when it is done).
 */
export async function recordReports(
  db: CommonQueryMethods,
  agent: AgentIdentity,
  reports: readonly AgentStatusReport[],
): Promise<{ environmentId: number; result: ReportResult }[]> {
  return recordReportsOfAgents(db, reports.map((report) => ({ agent, report })));
}

/** Reports of many agents at once (the agent API coalesces concurrent report calls). */
export async function recordReportsOfAgents(
  db: CommonQueryMethods,
  items: readonly { agent: AgentIdentity; report: AgentStatusReport }[],
): Promise<{ environmentId: number; result: ReportResult }[]> {
  if (items.length === 0) return [];
  const input = items.map(({ agent, report }, ord) => ({ ord, id: report.environmentId, hash: report.documentHash, agent: agent.agentId, tenant: agent.tenantId, report }));
  const Row = z.object({ ord: int8, id: int8, result: z.enum(['recorded', 'unchanged', 'stale']) });
  const rows = await db.any(sql.type(Row)`
    WITH x AS (SELECT * FROM jsonb_to_recordset(${jsonb(input)}) AS x(ord int, id bigint, hash text, agent bigint, tenant bigint, report jsonb)),
    mine AS (
      SELECT x.ord FROM agent_documents d JOIN x ON x.id = d.environment_id AND x.hash = d.document_hash AND d.agent_id = x.agent AND d.tenant_id = x.tenant
    ),
    up AS (
      UPDATE agent_documents d SET reported_hash = x.hash, report = x.report, reported_at = now()
      FROM x WHERE d.environment_id = x.id AND d.document_hash = x.hash AND d.agent_id = x.agent AND d.tenant_id = x.tenant
        AND (d.reported_hash IS DISTINCT FROM x.hash OR d.report IS DISTINCT FROM x.report)
      RETURNING d.environment_id, d.tenant_id
    ),
    woken AS (
      UPDATE environments e SET next_attempt_at = now()
      FROM up WHERE e.id = up.environment_id AND e.tenant_id = up.tenant_id AND e.lease_owner IS NULL AND e.next_attempt_at > now()
      RETURNING e.id
    ),
    n AS (SELECT pg_notify(${ENVIRONMENTS_CHANNEL}, '*') WHERE EXISTS (SELECT 1 FROM up))
    SELECT x.ord, x.id,
      CASE WHEN (x.id, x.tenant) IN (SELECT environment_id, tenant_id FROM up) AND x.ord IN (SELECT ord FROM mine) THEN 'recorded'
           WHEN x.ord IN (SELECT ord FROM mine) THEN 'unchanged'
           ELSE 'stale' END AS result
    FROM x LEFT JOIN (SELECT count(*) AS c FROM woken) w ON true LEFT JOIN (SELECT count(*) AS c FROM n) nn ON true
    ORDER BY x.ord`);
  return parseRows(Row)(rows).map((r) => ({ environmentId: r.id, result: r.result }));
}
