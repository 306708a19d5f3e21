/**
 * The audit log: who did what, when and why. Every deploy, rollback, preview approval, suspend/resume and comment
 * command writes one entry in the transaction that does it.
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
} as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[keyof typeof AUDIT_ACTIONS];

export interface AuditEntry {
  tenantId: number;
  /** Who: `github:octocat`, `git:Ada <ada@example.com>`, `cli:root`. */
  actor: string;
  action: AuditAction;
  /** What it was done to: `environment:12`, `pull-request:acme/shop#7`. */
  subject: string;
  /** Why: a commit subject, the comment's text, what the user typed. */
  reason: string;
  details?: Record<string, unknown>;
}
