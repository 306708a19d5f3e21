/**
 * The agent's small error vocabulary. Every failure is an AgentError with a `reason` (a condition reason the agent
 * reports) and a `retry` class that decides what the poll loop does next:
 *   - 'backoff'     transient (unreachable node, task failed for a passing cause): retry with exponential backoff;
 *   - 'user-change' nothing will change until a person acts (wrong token, missing privilege, missing template,
 *                   full storage, changed host key): report it, retry only slowly or when the desired state changes.
 * Messages say what failed, where, and what to do.
 */
export const AGENT_REASONS = {
  ProxmoxUnreachable: 'ProxmoxUnreachable',
  ProxmoxAuthFailed: 'ProxmoxAuthFailed',
  ProxmoxCertificateMismatch: 'ProxmoxCertificateMismatch',
  PermissionDenied: 'PermissionDenied',
  InvalidRequest: 'InvalidRequest',
  VmidTaken: 'VmidTaken',
  TemplateNotFound: 'TemplateNotFound',
  GuestNotFound: 'GuestNotFound',
  StorageFull: 'StorageFull',
  NoNodeAvailable: 'NoNodeAvailable',
  TaskFailed: 'TaskFailed',
  GuestNoAddress: 'GuestNoAddress',
  HostKeyChanged: 'HostKeyChanged',
  SshFailed: 'SshFailed',
  DeployFailed: 'DeployFailed',
  RuntimeUnhealthy: 'RuntimeUnhealthy',
  NotOwned: 'NotOwned',
} as const;
export type AgentReason = (typeof AGENT_REASONS)[keyof typeof AGENT_REASONS];

export const RETRY_CLASSES = ['backoff', 'user-change'] as const;
export type RetryClass = (typeof RETRY_CLASSES)[number];

const RETRY: Record<AgentReason, RetryClass> = {
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
};

export class AgentError extends Error {
  readonly retry: RetryClass;
  constructor(
    readonly reason: AgentReason,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AgentError';
    this.retry = RETRY[reason];
    this.details = options.details ?? {};
  }
  readonly details: Record<string, unknown>;
}

export function isAgentError(err: unknown, reason?: AgentReason): err is AgentError {
  return err instanceof AgentError && (reason === undefined || err.reason === reason);
}
