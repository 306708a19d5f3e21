/**
 * The audit log: who did what, when and why. Every deploy, rollback, preview approval, suspend/resume, comment
 * command, state-changing API call, key and membership change writes one entry in the transaction that does it.
 * The table is append-only (a trigger refuses UPDATE, DELETE and TRUNCATE; see docs/accounts.md).
 */
export const AUDIT_ACTIONS = {
  /** A new desired version for an environment (a push, a merge, a pull request's head). */
  deploy: 'deploy',
  /** A new desired version that equals an earlier one (a revert). */
  rollback: 'rollback',
  /** A maintainer approved a preview of a pull request's head commit (comment, label or check action). */
  approvePreview: 'approve-preview',
  /** A preview deployed again at the same version (`/wharf redeploy`). */
  redeploy: 'redeploy',
  suspend: 'suspend',
  resume: 'resume',
  /** A `/wharf` command in a comment, whatever came of it. */
  command: 'command',
  /** Pull agents: a registration token created or revoked, an agent registered, a credential rotated, an agent revoked. */
  agentTokenCreate: 'agent-token-create',
  agentTokenRevoke: 'agent-token-revoke',
  agentRegister: 'agent-register',
  agentRotate: 'agent-rotate',
  agentRevoke: 'agent-revoke',
  /** A rollback asked through the API or CLI: a revert commit (local) or a revert pull request (GitHub). */
  rollbackRequest: 'rollback-request',
  organizationUpdate: 'organization.update',
  organizationCreate: 'organization.create',
  memberAdd: 'member.add',
  memberRole: 'member.role',
  memberRemove: 'member.remove',
  invitationCreate: 'invitation.create',
  invitationRevoke: 'invitation.revoke',
  keyCreate: 'api-key.create',
  keyRotate: 'api-key.rotate',
  keyRevoke: 'api-key.revoke',
  signIn: 'session.sign-in',
  sessionRevoke: 'session.revoke',
  /** A Stripe Checkout session or customer portal session started for the organization. */
  billingCheckout: 'billing.checkout',
  billingPortal: 'billing.portal',
  /** The organization's plan or billing status changed (from a Stripe webhook). */
  billingChange: 'billing.change',
} as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[keyof typeof AUDIT_ACTIONS];

/** Who acted: a person signed in (user), an API key, a GitHub user (comments, pushes), Wharf itself, the local owner. */
export const ACTOR_KINDS = ['user', 'key', 'github', 'git', 'cli', 'system', 'local'] as const;
export type ActorKind = (typeof ACTOR_KINDS)[number];

export interface AuditEntry {
  tenantId: number;
  /** Who: `github:octocat`, `git:Ada <ada@example.com>`, `cli:root`, `user:octocat`, `key:wharf_AbCd (ci)`. */
  actor: string;
  action: AuditAction;
  /** What it was done to: `environment:12`, `pull-request:acme/shop#7`, `api-key:3`. */
  subject: string;
  /** Why: a commit subject, the comment's text, what the user typed. */
  reason: string;
  details?: Record<string, unknown>;
  /** Defaults from `actor`'s prefix. */
  actorKind?: ActorKind;
  /** The API request that did it (X-Request-Id). */
  requestId?: string | null;
  sourceIp?: string | null;
  /** State before and after, where meaningful (a role, a suspension). */
  before?: unknown;
  after?: unknown;
}

/** `github:octocat` → github; unknown prefixes are the system's. */
export function actorKindOf(actor: string): ActorKind {
  const prefix = actor.slice(0, actor.indexOf(':'));
  return (ACTOR_KINDS as readonly string[]).includes(prefix) ? (prefix as ActorKind) : 'system';
}
