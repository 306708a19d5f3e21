/** Waits for a PVE worker task (UPID) to stop and turns a failed `exitstatus` into an AgentError. */
import { AgentError, isAgentError } from '../errors.js';
import { backoffDelay } from '@wharf/contracts';
import { sleep } from '../sleep.js';
import type { PveHttp } from './pve-http.js';

export interface TaskStatus {
  upid: string;
  status: 'running' | 'stopped';
  exitstatus?: string;
  type: string;
  id?: string;
}

export interface WaitOptions {
  pollMs?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
  now?: () => number;
}

/** The node a UPID ran on: UPID:node:pid:pstart:starttime:type:id:user: */
export function upidNode(upid: string): string {
  const m = /^UPID:([^:]+):/.exec(upid);
  if (!m) throw new AgentError('InvalidRequest', `not a Proxmox task id: ${upid}`);
  return m[1]!;
}

/** Classifies a task's exit status: storage errors need a person; the rest may pass on a retry. */
export function taskError(status: TaskStatus, what: string): AgentError {
  const exit = status.exitstatus ?? 'unknown';
  if (/insufficient free space|No space left on device|not enough space|out of space/i.test(exit)) {
    return new AgentError('StorageFull', `${what} failed: the storage is full (${exit}). Free space or point the agent at another storage`, { details: { upid: status.upid, exitstatus: exit } });
  }
  if (/already exists/.test(exit)) return new AgentError('VmidTaken', `${what} failed: ${exit}`, { details: { upid: status.upid, exitstatus: exit } });
  return new AgentError('TaskFailed', `${what} failed: ${exit} (task ${status.upid})`, { details: { upid: status.upid, exitstatus: exit } });
}

/**
 * The n-th wait (from 0) between two polls of something that usually finishes soon: 100 ms, then doubling up to
 * `pollMs`. Short tasks (a linked clone, a start) are seen done within ~100 ms of finishing instead of a whole
 * `pollMs` later; long ones are polled every `pollMs`.
 */
export const pollDelay = (n: number, pollMs: number): number => Math.min(pollMs, 100 * 2 ** Math.min(n, 10));

/**
 * Polls /nodes/{node}/tasks/{upid}/status until the task stops. A proxy error (595–599) while polling is retried
 * with backoff until the deadline: the task runs on regardless of our view of it.
 */
export async function waitForTask(http: PveHttp, upid: string, what: string, options: WaitOptions = {}): Promise<TaskStatus> {
  const node = upidNode(upid);
  const pollMs = options.pollMs ?? 500;
  const timeoutMs = options.timeoutMs ?? 600_000;
  const now = options.now ?? Date.now;
  const deadline = now() + timeoutMs;
  let transient = 0;
  for (let polls = 0; ; polls++) {
    let status: TaskStatus | undefined;
    try {
      status = await http.call<TaskStatus>('GET', `/nodes/${encodeURIComponent(node)}/tasks/${encodeURIComponent(upid)}/status`);
      transient = 0;
    } catch (err) {
      if (!isAgentError(err, 'ProxmoxUnreachable') || now() > deadline) throw err;
      transient += 1;
    }
    if (status?.status === 'stopped') {
      if (status.exitstatus === 'OK') return status;
      throw taskError(status, what);
    }
    if (now() > deadline) {
      throw new AgentError('TaskFailed', `${what}: task ${upid} still running after ${Math.round(timeoutMs / 1000)} s`, { details: { upid } });
    }
    await sleep(transient > 0 ? Math.max(pollMs, backoffDelay(transient, Math.random, { baseMs: pollMs, maxMs: 10_000, jitter: 'equal' })) : pollDelay(polls, pollMs), options.signal);
  }
}
