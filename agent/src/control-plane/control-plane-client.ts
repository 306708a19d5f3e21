/**
 * The agent's side of the agent API (/agent/v1): register, long-poll desired documents, post reports, rotate. Every
 * answer is checked against the protocol's schema and bounded in size and time before it is used. Errors say whether
 * the agent should try again later (`ControlPlaneError.retryable`) or stop (401: the credential is unknown or revoked).
 */
import { readBodyAtMost } from '@wharf/contracts/bounded-body';
import {
  AGENT_API_PREFIX,
  type AgentDesiredResponse,
  type AgentMessageKind,
  type AgentMessages,
  type AgentRegisterRequest,
  type AgentStatusReport,
  validateAgentMessage,
} from '@wharf/contracts';

export class ControlPlaneError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ControlPlaneError';
  }
}

export interface ControlPlaneClientOptions {
  url: string;
  credential?: string;
  /** Longest answer accepted (default 64 MiB). */
  maxResponseBytes?: number;
  /** Per request, on top of a long-poll's hold (default 20 s). */
  timeoutMs?: number;
  userAgent?: string;
}

export function createControlPlaneClient(options: ControlPlaneClientOptions) {
  const base = `${options.url.replace(/\/+$/, '')}${AGENT_API_PREFIX}`;
  const max = options.maxResponseBytes ?? 64 * 1024 * 1024;
  let credential = options.credential;

  async function call<K extends AgentMessageKind>(kind: K, method: 'GET' | 'POST', path: string, body: unknown, init: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<AgentMessages[K]> {
    const timeout = AbortSignal.timeout(init.timeoutMs ?? options.timeoutMs ?? 20_000);
    const signal = init.signal ? AbortSignal.any([timeout, init.signal]) : timeout;
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        method,
        signal,
        headers: {
          accept: 'application/json',
          'user-agent': options.userAgent ?? 'wharf-agent',
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(credential ? { authorization: `Bearer ${credential}` } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (err) {
      if (init.signal?.aborted) throw err;
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new ControlPlaneError(`cannot reach the control plane at ${options.url}: ${cause?.code ?? cause?.message ?? (err as Error).message}`, 0, true);
    }
    const text = await readBodyAtMost(res, max);
    if (text === null) throw new ControlPlaneError(`the control plane's answer is more than ${max} bytes`, res.status, true);
    if (res.status === 401 || res.status === 403) {
      let error = 'unauthorized';
      try {
        error = (JSON.parse(text) as { error?: string }).error ?? error;
      } catch {
        // keep the default
      }
      throw new ControlPlaneError(`the control plane refused the agent (${res.status} ${error})`, res.status, false);
    }
    if (res.status === 429) {
      const after = Number(res.headers.get('retry-after') ?? '60') * 1000;
      throw new ControlPlaneError('rate limited by the control plane', 429, true, Number.isFinite(after) ? after : 60_000);
    }
    if (res.status >= 400) throw new ControlPlaneError(`the control plane answered ${res.status}: ${text.slice(0, 500)}`, res.status, res.status >= 500);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ControlPlaneError(`the control plane's answer to ${method} ${path} is not JSON`, res.status, true);
    }
    const checked = validateAgentMessage(kind, json);
    if (!checked.ok) throw new ControlPlaneError(`the control plane's answer to ${method} ${path} does not fit the protocol: ${checked.errors.join('; ')}`, res.status, true);
    return checked.value;
  }

  return {
    setCredential(next: string): void {
      credential = next;
    },
    register: (input: AgentRegisterRequest) => call('AgentRegisterResponse', 'POST', '/register', input),
    /** Held by the control plane until the documents change (or its hold time passes) when `since` is the current hash. */
    desired: (since: string | undefined, signal?: AbortSignal): Promise<AgentDesiredResponse> =>
      call('AgentDesiredResponse', 'GET', `/desired${since ? `?since=${encodeURIComponent(since)}` : ''}`, undefined, { timeoutMs: 45_000, signal }),
    report: (reports: readonly AgentStatusReport[]) => call('AgentStatusAnswer', 'POST', '/status', { reports }),
    rotate: () => call('AgentRotateResponse', 'POST', '/credentials', {}),
  };
}

export type ControlPlaneClient = ReturnType<typeof createControlPlaneClient>;
