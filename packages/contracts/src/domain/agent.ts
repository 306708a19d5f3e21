/**
 * Pull agents, in the words the control plane (agent API), the agent target, the agent itself and the CLI share:
 * liveness, the failures an agent reports (each a condition reason, with whether retrying can help), the shapes of
 * its secrets, the API's path and hold time, and the settings both deployables read.
 */
import { REASONS, type Reason } from '../conditions.js';
import type { SettingsSchema } from '../settings.js';

/** Where the agent API lives on the control-plane server. */
export const AGENT_API_PREFIX = '/agent/v1' as const;

/** A long-poll is held at most this long (under the 30 s idle timeout of common proxies and load balancers). */
export const AGENT_POLL_HOLD_MAX_MS = 30_000;

/**
 * Prefixes of the two secrets of the agent protocol, so that secret scanners and Wharf's log redaction recognise
 * them. The rest is 32 random bytes, base64url.
 */
export const AGENT_SECRET_PREFIXES = { registration: 'wharf_reg_', credential: 'wharf_agent_' } as const;

/** An agent pool: the part after the colon of `agent:<pool>`. */
export const AGENT_POOL_PATTERN = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** Connected while it polls; Stale past `staleAfterMs` without a poll; Offline past `offlineAfterMs`. */
export const AGENT_LIVENESS = ['Connected', 'Stale', 'Offline'] as const;
export type AgentLiveness = (typeof AGENT_LIVENESS)[number];

export interface AgentLivenessPolicy {
  staleAfterMs: number;
  offlineAfterMs: number;
}

export const DEFAULT_AGENT_LIVENESS: AgentLivenessPolicy = { staleAfterMs: 2 * 60_000, offlineAfterMs: 10 * 60_000 };

/** An agent's liveness from the last time it was seen (null: never seen since registration). */
export function agentLiveness(lastSeenAt: string | null, now: Date, policy: AgentLivenessPolicy = DEFAULT_AGENT_LIVENESS): AgentLiveness {
  if (lastSeenAt === null) return 'Offline';
  const age = now.getTime() - new Date(lastSeenAt).getTime();
  if (age > policy.offlineAfterMs) return 'Offline';
  if (age > policy.staleAfterMs) return 'Stale';
  return 'Connected';
}

/** What `wharf agent list` and the REST API show for an agent: its liveness, or Revoked. */
export const AGENT_STATES = [...AGENT_LIVENESS, 'Revoked'] as const;
export type AgentState = (typeof AGENT_STATES)[number];

export const agentState = (agent: { last_seen_at: string | null; revoked_at: string | null }, now: Date, policy: AgentLivenessPolicy = DEFAULT_AGENT_LIVENESS): AgentState =>
  agent.revoked_at !== null ? 'Revoked' : agentLiveness(agent.last_seen_at, now, policy);

/** A registration token is usable (`active`) until it expires or is revoked. */
export const REGISTRATION_TOKEN_STATES = ['active', 'expired', 'revoked'] as const;
export type RegistrationTokenState = (typeof REGISTRATION_TOKEN_STATES)[number];

export const registrationTokenState = (token: { expires_at: string; revoked_at: string | null }, now: Date): RegistrationTokenState =>
  token.revoked_at !== null ? 'revoked' : new Date(token.expires_at).getTime() <= now.getTime() ? 'expired' : 'active';

/** Longest a registration token may live: 30 days. */
export const REGISTRATION_TOKEN_MAX_TTL_MS = 30 * 24 * 3_600_000;

/** Whether retrying can help: `backoff` (it may pass by itself) or `user-change` (a person must act first). */
export const AGENT_RETRY_CLASSES = ['backoff', 'user-change'] as const;
export type AgentRetryClass = (typeof AGENT_RETRY_CLASSES)[number];

/**
 * The failures an agent reports for an environment, each a condition reason (REASONS) with its retry class. A
 * `user-change` failure stalls the environment (Stalled, with the reason); a `backoff` one degrades it while the
 * agent retries with backoff.
 */
export const AGENT_FAILURES = {
  ProxmoxUnreachable: 'backoff',
  ProxmoxAuthFailed: 'user-change',
  ProxmoxCertificateMismatch: 'user-change',
  PermissionDenied: 'user-change',
  InvalidRequest: 'user-change',
  VmidTaken: 'backoff',
  TemplateNotFound: 'user-change',
  GuestNotFound: 'backoff',
  StorageFull: 'user-change',
  NoNodeAvailable: 'backoff',
  TaskFailed: 'backoff',
  GuestNoAddress: 'backoff',
  HostKeyChanged: 'user-change',
  SshFailed: 'backoff',
  DeployFailed: 'backoff',
  RuntimeUnhealthy: 'backoff',
  NotOwned: 'user-change',
  UnsupportedRuntime: 'user-change',
  SecretMissing: 'user-change',
} as const satisfies Partial<Record<Reason, AgentRetryClass>>;
export type AgentFailureReason = keyof typeof AGENT_FAILURES;

export const isAgentFailureReason = (value: unknown): value is AgentFailureReason =>
  typeof value === 'string' && Object.hasOwn(AGENT_FAILURES, value) && Object.hasOwn(REASONS, value);

/** Settings of agent liveness and placement: read by the control plane (agent API) and the reconciler (agent target). */
export const agentSettings = {
  WHARF_AGENT_STALE_AFTER: {
    type: 'integer',
    description: 'Seconds without a poll after which an agent counts as Stale (it gets no new environments).',
    default: 120,
    minimum: 1,
    maximum: 86_400,
  },
  WHARF_AGENT_OFFLINE_AFTER: {
    type: 'integer',
    description: "Seconds without a poll after which an agent counts as Offline: its environments show `Ready=Unknown` (`AgentOffline`) and keep running.",
    default: 600,
    minimum: 1,
    maximum: 604_800,
  },
  WHARF_AGENT_REASSIGN_AFTER: {
    type: 'integer',
    description:
      "Seconds an agent may be Offline before its environments are moved to another live agent of its pool. 0 (default): never; an environment stays with its agent until that agent is revoked.",
    default: 0,
    minimum: 0,
    maximum: 31_536_000,
  },
} as const satisfies SettingsSchema;

/** The liveness policy and reassignment delay from loaded settings. */
export function agentPolicyFrom(settings: { WHARF_AGENT_STALE_AFTER: number; WHARF_AGENT_OFFLINE_AFTER: number; WHARF_AGENT_REASSIGN_AFTER: number }): AgentLivenessPolicy & { reassignAfterMs: number | null } {
  return {
    staleAfterMs: settings.WHARF_AGENT_STALE_AFTER * 1000,
    offlineAfterMs: Math.max(settings.WHARF_AGENT_OFFLINE_AFTER, settings.WHARF_AGENT_STALE_AFTER) * 1000,
    reassignAfterMs: settings.WHARF_AGENT_REASSIGN_AFTER > 0 ? settings.WHARF_AGENT_REASSIGN_AFTER * 1000 : null,
  };
}
