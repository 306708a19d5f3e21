/** Store rows as the API shows them (camelCase, the shapes of contracts' API_SCHEMAS). */
import { type AgentLivenessPolicy, agentState, describeRollout, registrationTokenState, environmentState, formatState, type Permission, type Role } from '@wharf/contracts';
import type { agents, apiKeys, audit, environmentViews, history, invitations, memberships, organizations, repositories, sessions, versions } from '@wharf/store';

export const organizationView = (o: organizations.Organization, role: Role | null, permissions: Iterable<Permission>) => ({
  id: o.id,
  slug: o.slug,
  name: o.name,
  plan: o.plan,
  kind: o.kind,
  installations: o.installations,
  role,
  permissions: [...permissions],
  createdAt: o.created_at,
});

export const userView = (u: { id: number; login: string; name: string | null; kind: string }) => ({ id: u.id, login: u.login, name: u.name, kind: u.kind });

export const memberView = (m: memberships.Member) => ({
  user: userView({ id: m.user_id, login: m.login, name: m.name, kind: m.kind }),
  role: m.role,
  createdAt: m.created_at,
});

export const invitationView = (i: invitations.Invitation, token?: string) => ({
  id: i.id,
  role: i.role,
  login: i.login,
  invitedBy: i.invited_by,
  createdAt: i.created_at,
  expiresAt: i.expires_at,
  acceptedAt: i.accepted_at,
  revokedAt: i.revoked_at,
  ...(token ? { token } : {}),
});

export const apiKeyView = (k: apiKeys.ApiKey, secret?: string) => ({
  id: k.id,
  name: k.name,
  prefix: k.prefix,
  scopes: k.scopes,
  permissions: k.permissions,
  repositoryIds: k.repository_ids,
  createdBy: k.created_by,
  createdAt: k.created_at,
  lastUsedAt: k.last_used_at,
  expiresAt: k.expires_at,
  revokedAt: k.revoked_at,
  ...(secret ? { key: secret } : {}),
});

export const repositoryView = (r: repositories.Repository) => ({ id: r.id, provider: r.provider, fullName: r.full_name, defaultBranch: r.default_branch });

/** An environment as the API shows it: from a list row, or from the full summary (which has every list column). */
export function environmentView(e: Omit<environmentViews.EnvironmentListItem, 'tenant_id'>) {
  const s = environmentState({ conditions: e.conditions, suspended: e.suspended, deletionRequested: e.deletion_requested });
  return {
    id: e.id,
    repositoryId: e.repository_id,
    app: e.app,
    name: e.name,
    kind: e.kind,
    target: e.target,
    state: { word: s.state, reason: s.reason, message: s.message, text: formatState(s) },
    version: { running: e.observed_sha, runningDigest: e.observed_digest, desired: e.desired_sha, desiredDigest: e.desired_digest },
    generation: e.generation,
    observedGeneration: e.observed_generation,
    url: e.url,
    suspended: e.suspended,
    deletionRequested: e.deletion_requested,
    driftMode: e.drift_mode,
    conditions: e.conditions,
    createdAt: e.created_at,
    updatedAt: e.updated_at,
    lastReconciledAt: e.last_reconciled_at,
  };
}
export type EnvironmentView = ReturnType<typeof environmentView>;

export const rolloutView = (r: history.RolloutView & { environment_id: number }) => ({
  id: r.id,
  environmentId: r.environment_id,
  generation: r.generation,
  action: r.action,
  result: r.result,
  reason: r.reason,
  message: r.message,
  sha: r.sha,
  subject: r.subject,
  rollbackSha: r.rollback_sha,
  rollbackSubject: r.rollback_subject,
  description: describeRollout({ action: r.action, sha: r.sha, subject: r.subject, rollbackSha: r.rollback_sha, rollbackSubject: r.rollback_subject }),
  startedAt: r.started_at,
  finishedAt: r.finished_at,
});

const list = (v: unknown): object[] => (Array.isArray(v) ? (v as object[]) : []);

export const versionView = (v: versions.Version, apps: readonly versions.VersionApp[]) => ({
  id: v.id,
  repositoryId: v.repository_id,
  sha: v.sha,
  parentSha: v.parent_sha,
  ref: v.ref,
  author: v.author,
  message: v.message,
  committedAt: v.committed_at,
  valid: v.valid,
  reachable: v.reachable,
  createdAt: v.created_at,
  diagnostics: list(v.diagnostics),
  apps: apps.map((a) => ({ app: a.app, digest: a.digest, valid: a.valid, rollbackOfVersionId: a.rollback_of_version_id, diagnostics: list(a.diagnostics) })),
});

export const auditView = (a: audit.AuditRecord) => ({
  id: a.id,
  at: a.at,
  actor: a.actor,
  actorKind: a.actor_kind,
  action: a.action,
  subject: a.subject,
  reason: a.reason,
  details: { ...a.details, ...(a.before !== null && a.before !== undefined ? { before: a.before } : {}), ...(a.after !== null && a.after !== undefined ? { after: a.after } : {}) },
  requestId: a.request_id,
  sourceIp: a.source_ip,
});

export const sessionInfoView = (s: sessions.Session, currentId: number | null) => ({
  id: s.id,
  kind: s.kind,
  createdAt: s.created_at,
  lastSeenAt: s.last_seen_at,
  expiresAt: s.expires_at,
  userAgent: s.user_agent,
  current: s.id === currentId,
});

/** An agent with the environments placed on it (`placed` may hold other agents' too). */
export const agentView = (a: agents.Agent, placed: readonly agents.PlacedEnvironment[], now: Date, liveness: AgentLivenessPolicy) => ({
  id: a.id,
  name: a.name,
  pool: a.pool,
  hostname: a.hostname,
  version: a.version,
  state: agentState(a, now, liveness),
  lastSeenAt: a.last_seen_at,
  createdAt: a.created_at,
  revokedAt: a.revoked_at,
  activeCredentials: a.active_credentials,
  environments: placed.filter((p) => p.agent_id === a.id).map((p) => ({ id: p.environment_id, app: p.app, name: p.name, applied: p.reported_hash === p.document_hash })),
});

/** A registration token; its secret only in the answer that made it. */
export const registrationTokenView = (r: agents.RegistrationToken, now: Date, token?: string) => ({
  id: r.id,
  pool: r.pool,
  state: registrationTokenState(r, now),
  createdBy: r.created_by,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  revokedAt: r.revoked_at,
  uses: r.uses,
  lastUsedAt: r.last_used_at,
  ...(token ? { token } : {}),
});
