/**
 * Pull agents: registration tokens (an owner's, per pool, multi-use until they expire), agents, their credentials
 * (at most two active, for rotation), revocation, and liveness (`last_seen_at`, written in batches).
 *
 * Both secrets are 32 random bytes (base64url) behind a recognisable prefix (AGENT_SECRET_PREFIXES); only their
 * SHA-256 is stored. A token or credential is shown once, when it is made. The agent API authenticates every call by
 * its credential's hash (one index probe), which is why those two lookups work for every tenant by design; every
 * other read names the tenant.
 *
 * Changes the agent API caches must hear about are sent on AGENTS_CHANNEL: `r<agentId>` (credentials or revocation
 * changed: drop what is cached of that agent), `d<agentId>` (its desired documents changed).
 */
import { createHash, randomBytes } from 'node:crypto';
import { AGENT_POOL_PATTERN, AGENT_SECRET_PREFIXES, REGISTRATION_TOKEN_MAX_TTL_MS } from '@wharf/contracts';
import { sql, type CommonQueryMethods, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { agentQuota } from './billing.js';
import { AGENTS_CHANNEL, ENVIRONMENTS_CHANNEL } from './channels.js';
import { int8, parseOne, parseRow, parseRows } from './rows.js';
import type { TenantScope } from './scope.js';

export const hashSecret = (secret: string): string => createHash('sha256').update(secret, 'utf8').digest('hex');
const newSecret = (prefix: string): string => `${prefix}${randomBytes(32).toString('base64url')}`;

export const RegistrationToken = z.object({
  id: int8,
  tenant_id: int8,
  pool: z.string(),
  created_by: z.string(),
  created_at: z.string(),
  expires_at: z.string(),
  revoked_at: z.string().nullable(),
  uses: int8,
  last_used_at: z.string().nullable(),
});
export type RegistrationToken = z.infer<typeof RegistrationToken>;

const tokenColumns = sql.fragment`id, tenant_id, pool, created_by, created_at, expires_at, revoked_at, uses, last_used_at`;

function checkPool(pool: string): void {
  if (pool.length > 63 || !AGENT_POOL_PATTERN.test(pool)) {
    throw new Error(`"${pool}" is not a pool name: lower-case letters, digits and '-', at most 63, as in agent:<pool>`);
  }
}

/** Creates a registration token for `pool`; the token itself is returned once and only its hash is kept. */
export async function createRegistrationToken(
  db: CommonQueryMethods,
  scope: TenantScope,
  input: { pool: string; ttlMs: number; createdBy: string },
): Promise<{ token: string; row: RegistrationToken }> {
  checkPool(input.pool);
  if (!(input.ttlMs > 0 && input.ttlMs <= REGISTRATION_TOKEN_MAX_TTL_MS)) {
    throw new Error(`a registration token lives between 1 ms and 30 days (asked for ${input.ttlMs} ms)`);
  }
  const token = newSecret(AGENT_SECRET_PREFIXES.registration);
  const row = await db
    .one(sql.type(RegistrationToken)`
    INSERT INTO agent_registration_tokens (tenant_id, pool, token_hash, created_by, expires_at)
    VALUES (${scope.tenantId}, ${input.pool}, ${hashSecret(token)}, ${input.createdBy}, now() + ${input.ttlMs} * interval '1 millisecond')
    RETURNING ${tokenColumns}`)
    .then(parseOne(RegistrationToken));
  return { token, row };
}

/** The tenant's registration tokens, newest first; a page of them with `beforeId` (exclusive) and `limit`. */
export async function listRegistrationTokens(db: CommonQueryMethods, scope: TenantScope, page: { beforeId?: number; limit?: number } = {}): Promise<readonly RegistrationToken[]> {
  return db
    .any(sql.type(RegistrationToken)`
    SELECT ${tokenColumns} FROM agent_registration_tokens
    WHERE tenant_id = ${scope.tenantId} ${page.beforeId !== undefined ? sql.fragment`AND id < ${page.beforeId}` : sql.fragment``}
    ORDER BY id DESC ${page.limit !== undefined ? sql.fragment`LIMIT ${page.limit}` : sql.fragment``}`)
    .then(parseRows(RegistrationToken));
}

export async function getRegistrationToken(db: CommonQueryMethods, scope: TenantScope, id: number): Promise<RegistrationToken | null> {
  return db
    .maybeOne(sql.type(RegistrationToken)`SELECT ${tokenColumns} FROM agent_registration_tokens WHERE tenant_id = ${scope.tenantId} AND id = ${id}`)
    .then(parseRow(RegistrationToken));
}

/** Revokes a token at once; false when there is no such active token of the tenant. */
export async function revokeRegistrationToken(db: CommonQueryMethods, scope: TenantScope, id: number): Promise<boolean> {
  const row = await db.maybeOne(sql.unsafe`
    UPDATE agent_registration_tokens SET revoked_at = now()
    WHERE tenant_id = ${scope.tenantId} AND id = ${id} AND revoked_at IS NULL RETURNING id`);
  return row !== null;
}

export const Agent = z.object({
  id: int8,
  tenant_id: int8,
  pool: z.string(),
  name: z.string(),
  hostname: z.string().nullable(),
  version: z.string().nullable(),
  created_at: z.string(),
  last_seen_at: z.string().nullable(),
  revoked_at: z.string().nullable(),
  active_credentials: int8,
  environments: int8,
});
export type Agent = z.infer<typeof Agent>;

const agentColumns = sql.fragment`a.id, a.tenant_id, a.pool, a.name, a.hostname, a.version, a.created_at, a.last_seen_at, a.revoked_at,
  (SELECT count(*) FROM agent_credentials c WHERE c.agent_id = a.id AND c.revoked_at IS NULL) AS active_credentials,
  (SELECT count(*) FROM agent_documents d WHERE d.agent_id = a.id) AS environments`;

/** What an authenticated call knows about its agent. */
export interface AgentIdentity {
  agentId: number;
  tenantId: number;
  pool: string;
  name: string;
  credentialId: number;
}

export type RegistrationResult =
  | { ok: true; agent: AgentIdentity; credential: string; tokenId: number }
  | { ok: false; problem: 'unknown' | 'expired' | 'revoked' }
  | { ok: false; problem: 'agent-limit'; limit: number; plan: string };

/**
 * Exchanges a registration token for a new agent of the token's tenant and pool and its first credential. Works for
 * every tenant by design: the token says whose agent it is.
 */
export async function registerAgentWithToken(
  pool: DatabasePool,
  input: { token: string; name: string; hostname?: string; version?: string },
): Promise<RegistrationResult> {
  return pool.transaction(async (tx) => {
    const Row = z.object({ id: int8, tenant_id: int8, pool: z.string(), expired: z.boolean(), revoked: z.boolean() });
    const token = await tx
      .maybeOne(sql.type(Row)`
      SELECT id, tenant_id, pool, expires_at <= now() AS expired, revoked_at IS NOT NULL AS revoked
      FROM agent_registration_tokens WHERE token_hash = ${hashSecret(input.token)} FOR UPDATE`)
      .then(parseRow(Row));
    if (!token) return { ok: false, problem: 'unknown' } as const;
    if (token.revoked) return { ok: false, problem: 'revoked' } as const;
    if (token.expired) return { ok: false, problem: 'expired' } as const;
    // The plan's agent limit, counted under a lock on the organization's row: two registrations cannot both take
    // the last slot.
    const quota = await agentQuota(tx, { tenantId: token.tenant_id });
    if (!quota.allowed) return { ok: false, problem: 'agent-limit', limit: quota.limit ?? 0, plan: quota.plan } as const;
    await tx.query(sql.unsafe`UPDATE agent_registration_tokens SET uses = uses + 1, last_used_at = now() WHERE id = ${token.id}`);
    const agent = await tx
      .one(sql.type(z.object({ id: int8 }))`
      INSERT INTO agents (tenant_id, pool, name, hostname, version, registration_token_id, last_seen_at)
      VALUES (${token.tenant_id}, ${token.pool}, ${input.name}, ${input.hostname ?? null}, ${input.version ?? null}, ${token.id}, now())
      RETURNING id`)
      .then(parseOne(z.object({ id: int8 })));
    const credential = newSecret(AGENT_SECRET_PREFIXES.credential);
    const cred = await tx
      .one(sql.type(z.object({ id: int8 }))`
      INSERT INTO agent_credentials (agent_id, tenant_id, secret_hash) VALUES (${agent.id}, ${token.tenant_id}, ${hashSecret(credential)}) RETURNING id`)
      .then(parseOne(z.object({ id: int8 })));
    return {
      ok: true,
      tokenId: token.id,
      credential,
      agent: { agentId: agent.id, tenantId: token.tenant_id, pool: token.pool, name: input.name, credentialId: cred.id },
    } as const;
  });
}

/**
 * The agent a credential belongs to, or null when the credential is unknown or revoked, or its agent is. Works for
 * every tenant by design (the credential says whose agent it is). The first use of a rotated credential retires the
 * older ones: the agent has shown it holds the new one.
 */
export async function authenticateAgentByCredential(pool: DatabasePool, credential: string): Promise<AgentIdentity | null> {
  const Row = z.object({ credential_id: int8, first_used: z.boolean(), agent_id: int8, tenant_id: int8, pool: z.string(), name: z.string() });
  const row = await pool
    .maybeOne(sql.type(Row)`
    SELECT c.id AS credential_id, c.first_used_at IS NOT NULL AS first_used, a.id AS agent_id, a.tenant_id, a.pool, a.name
    FROM agent_credentials c JOIN agents a ON a.id = c.agent_id
    WHERE c.secret_hash = ${hashSecret(credential)} AND c.revoked_at IS NULL AND a.revoked_at IS NULL`)
    .then(parseRow(Row));
  if (!row) return null;
  if (!row.first_used) {
    await pool.query(sql.unsafe`
      WITH used AS (UPDATE agent_credentials SET first_used_at = now() WHERE id = ${row.credential_id} AND first_used_at IS NULL RETURNING id),
      retired AS (
        UPDATE agent_credentials SET revoked_at = now()
        WHERE agent_id = ${row.agent_id} AND id < ${row.credential_id} AND revoked_at IS NULL AND EXISTS (SELECT 1 FROM used)
        RETURNING id)
      SELECT pg_notify(${AGENTS_CHANNEL}, ${`r${row.agent_id}`}) WHERE EXISTS (SELECT 1 FROM retired)`);
  }
  return { agentId: row.agent_id, tenantId: row.tenant_id, pool: row.pool, name: row.name, credentialId: row.credential_id };
}

/**
 * A second credential for the agent. Credentials other than the one that asked are revoked first, so that at most
 * two are active: the caller's, until the new one is first used, and the new one.
 */
export async function rotateAgentCredential(pool: DatabasePool, agent: AgentIdentity): Promise<string> {
  const credential = newSecret(AGENT_SECRET_PREFIXES.credential);
  await pool.transaction(async (tx) => {
    await tx.query(sql.unsafe`SELECT id FROM agents WHERE id = ${agent.agentId} AND tenant_id = ${agent.tenantId} FOR UPDATE`);
    await tx.query(sql.unsafe`
      UPDATE agent_credentials SET revoked_at = now()
      WHERE agent_id = ${agent.agentId} AND id <> ${agent.credentialId} AND revoked_at IS NULL`);
    await tx.query(sql.unsafe`
      INSERT INTO agent_credentials (agent_id, tenant_id, secret_hash) VALUES (${agent.agentId}, ${agent.tenantId}, ${hashSecret(credential)})`);
    await tx.query(sql.unsafe`SELECT pg_notify(${AGENTS_CHANNEL}, ${`r${agent.agentId}`})`);
  });
  return credential;
}

/**
 * Revokes an agent and all its credentials, at once: every control-plane process drops it from its caches and ends
 * its long-polls. Its environments are due now, so that the reconciler places them on another agent of the pool.
 */
export async function revokeAgent(db: CommonQueryMethods, scope: TenantScope, agentId: number): Promise<boolean> {
  const row = await db.maybeOne(sql.unsafe`
    WITH a AS (
      UPDATE agents SET revoked_at = now() WHERE tenant_id = ${scope.tenantId} AND id = ${agentId} AND revoked_at IS NULL RETURNING id
    ), c AS (
      UPDATE agent_credentials SET revoked_at = now() WHERE agent_id IN (SELECT id FROM a) AND revoked_at IS NULL RETURNING id
    ), e AS (
      UPDATE environments SET next_attempt_at = now()
      WHERE id IN (SELECT environment_id FROM agent_documents WHERE agent_id IN (SELECT id FROM a)) AND lease_owner IS NULL
      RETURNING id
    )
    SELECT a.id, pg_notify(${AGENTS_CHANNEL}, 'r' || a.id), pg_notify(${ENVIRONMENTS_CHANNEL}, '*'), (SELECT count(*) FROM c) AS credentials
    FROM a`);
  return row !== null;
}

/** The tenant's agents (of one pool when given), with their active credentials and environments. */
export async function listAgents(db: CommonQueryMethods, scope: TenantScope, input: { pool?: string; includeRevoked?: boolean } = {}): Promise<readonly Agent[]> {
  return db
    .any(sql.type(Agent)`
    SELECT ${agentColumns} FROM agents a
    WHERE a.tenant_id = ${scope.tenantId}
      ${input.pool !== undefined ? sql.fragment`AND a.pool = ${input.pool}` : sql.fragment``}
      ${input.includeRevoked ? sql.fragment`` : sql.fragment`AND a.revoked_at IS NULL`}
    ORDER BY a.pool, a.id`)
    .then(parseRows(Agent));
}

/** A page of the tenant's agents, newest first (revoked ones too when asked): `beforeId` (exclusive) and `limit`. */
export async function pageAgents(
  db: CommonQueryMethods,
  scope: TenantScope,
  page: { beforeId?: number; limit: number; pool?: string; includeRevoked?: boolean },
): Promise<readonly Agent[]> {
  return db
    .any(sql.type(Agent)`
    SELECT ${agentColumns} FROM agents a
    WHERE a.tenant_id = ${scope.tenantId}
      ${page.beforeId !== undefined ? sql.fragment`AND a.id < ${page.beforeId}` : sql.fragment``}
      ${page.pool !== undefined ? sql.fragment`AND a.pool = ${page.pool}` : sql.fragment``}
      ${page.includeRevoked ? sql.fragment`` : sql.fragment`AND a.revoked_at IS NULL`}
    ORDER BY a.id DESC LIMIT ${page.limit}`)
    .then(parseRows(Agent));
}

export const PlacedEnvironment = z.object({ agent_id: int8, environment_id: int8, app: z.string(), name: z.string(), reported_hash: z.string().nullable(), document_hash: z.string() });
export type PlacedEnvironment = z.infer<typeof PlacedEnvironment>;

/** The environments placed on these agents of the tenant (by app and name), for listing agents. */
export async function listPlacedEnvironments(db: CommonQueryMethods, scope: TenantScope, agentIds: readonly number[]): Promise<readonly PlacedEnvironment[]> {
  if (agentIds.length === 0) return [];
  return db
    .any(sql.type(PlacedEnvironment)`
    SELECT d.agent_id, d.environment_id, e.app, e.name, d.reported_hash, d.document_hash
    FROM agent_documents d JOIN environments e ON e.id = d.environment_id AND e.tenant_id = d.tenant_id
    WHERE d.tenant_id = ${scope.tenantId} AND d.agent_id = ANY(${sql.array(agentIds, 'int8')})
    ORDER BY d.agent_id, e.app, e.name`)
    .then(parseRows(PlacedEnvironment));
}

export async function getAgent(db: CommonQueryMethods, scope: TenantScope, agentId: number): Promise<Agent | null> {
  return db
    .maybeOne(sql.type(Agent)`SELECT ${agentColumns} FROM agents a WHERE a.tenant_id = ${scope.tenantId} AND a.id = ${agentId}`)
    .then(parseRow(Agent));
}

/**
 * Records when agents were last seen (one statement for a batch; the agent API keeps the times in memory between
 * flushes). An agent that the liveness sweep had found Offline is back: its environments are due now. Returns the
 * ids of agents that came back. Works for every tenant by design (ids come from authenticated calls).
 */
export async function recordAgentsSeen(db: CommonQueryMethods, seen: ReadonlyMap<number, Date>): Promise<number[]> {
  if (seen.size === 0) return [];
  const input = [...seen].map(([id, at]) => ({ id, at: at.toISOString() }));
  const rows = await db.any(sql.type(z.object({ id: int8 }))`
    WITH x AS (SELECT * FROM jsonb_to_recordset(${sql.jsonb(input as never)}) AS x(id bigint, at timestamptz)),
    up AS (
      UPDATE agents a SET last_seen_at = GREATEST(a.last_seen_at, x.at), offline_noted_at = NULL
      FROM x WHERE a.id = x.id AND a.revoked_at IS NULL
      RETURNING a.id, a.tenant_id, a.pool, (SELECT o.offline_noted_at IS NOT NULL FROM agents o WHERE o.id = a.id) AS was_offline
    ), back AS (SELECT id, tenant_id, pool FROM up WHERE was_offline),
    woken AS (
      UPDATE environments e SET next_attempt_at = now()
      FROM agent_documents d
      WHERE d.environment_id = e.id AND e.lease_owner IS NULL
        AND (d.agent_id IN (SELECT id FROM back) OR (d.agent_id IS NULL AND (d.tenant_id, d.pool) IN (SELECT tenant_id, pool FROM back)))
      RETURNING e.id
    )
    SELECT id FROM back, LATERAL (SELECT pg_notify(${ENVIRONMENTS_CHANNEL}, '*') WHERE EXISTS (SELECT 1 FROM woken)) n`);
  return rows.map((r) => Number(r.id));
}

/**
 * The liveness sweep: agents Offline (not seen for `offlineAfterMs`) that it has not noted yet are noted, and their
 * environments made due, so that they show `AgentOffline` now rather than at their next resync. Returns the ids noted.
 * Works for every tenant by design.
 */
export async function noteOfflineAgents(db: CommonQueryMethods, offlineAfterMs: number): Promise<number[]> {
  const rows = await db.any(sql.type(z.object({ id: int8 }))`
    WITH noted AS (
      UPDATE agents SET offline_noted_at = now()
      WHERE revoked_at IS NULL AND offline_noted_at IS NULL
        AND coalesce(last_seen_at, created_at) < now() - ${offlineAfterMs} * interval '1 millisecond'
      RETURNING id
    ), woken AS (
      UPDATE environments e SET next_attempt_at = now()
      FROM agent_documents d WHERE d.environment_id = e.id AND d.agent_id IN (SELECT id FROM noted) AND e.lease_owner IS NULL
      RETURNING e.id
    )
    SELECT id FROM noted, LATERAL (SELECT pg_notify(${ENVIRONMENTS_CHANNEL}, '*') WHERE EXISTS (SELECT 1 FROM woken)) n`);
  return rows.map((r) => Number(r.id));
}

/** Environments placed on nobody in a pool (no live agent when they were published) are due now: an agent is back. */
export async function wakeUnplacedEnvironments(db: CommonQueryMethods, scope: TenantScope, pool: string): Promise<number> {
  const rows = await db.any(sql.unsafe`
    WITH woken AS (
      UPDATE environments e SET next_attempt_at = now()
      FROM agent_documents d
      WHERE d.environment_id = e.id AND d.agent_id IS NULL AND d.tenant_id = ${scope.tenantId} AND d.pool = ${pool} AND e.lease_owner IS NULL
      RETURNING e.id
    )
    SELECT id, pg_notify(${ENVIRONMENTS_CHANNEL}, id::text) FROM woken`);
  return rows.length;
}
