/** Waiting for a new runtime to report the digest it was started with, and saying why it did not. */
import { REASONS, type TargetEnvironment } from '@wharf/contracts';
import { GenericError } from '../../errors.js';
import type { EnvState } from './env-state.js';
import { probeHealth, type RuntimeInstance } from './runtime-instance.js';

/** Why a version is not serving, with the previous version's state and the runtime's last output lines. */
function unhealthyMessage(s: EnvState, env: TargetEnvironment, why: string): string {
  const tail = s.ring
    .last(8)
    .filter((l) => l.stream !== 'system')
    .map((l) => l.line)
    .join(' | ');
  const serving = s.current && !s.current.hasExited() ? `; previous version ${s.current.record.digest.slice(0, 19)} still serving` : '';
  return `runtime for ${env.digest.slice(0, 19)} ${why}${serving}${tail ? `; last output: ${tail}` : ''}`;
}

/** Polls the health path until it reports `env.digest`; throws RuntimeUnhealthy when the process exits or time runs out. */
export async function waitUntilHealthy(s: EnvState, instance: RuntimeInstance, env: TargetEnvironment, signal: AbortSignal, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  let delay = 25;
  while (Date.now() < deadline) {
    if (signal.aborted) throw signal.reason ?? new Error('aborted');
    if (instance.hasExited()) {
      const code = await instance.exited;
      throw new GenericError(unhealthyMessage(s, env, `exited with code ${code} before it became healthy`), { reason: REASONS.RuntimeUnhealthy });
    }
    const probe = await probeHealth(instance.record.port, signal, 1_000);
    if (probe.ok && probe.digest === env.digest) return;
    last = probe.ok ? `reports digest ${probe.digest}` : probe.message;
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 50);
  }
  throw new GenericError(unhealthyMessage(s, env, `did not become healthy within ${Math.round(timeoutMs / 1000)}s (${last})`), { reason: REASONS.RuntimeUnhealthy });
}
