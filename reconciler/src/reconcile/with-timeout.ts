import { REASONS } from '@wharf/contracts';
import { GenericError } from '../errors.js';

/** Runs `fn` with a signal aborted after `ms` (or with `parent`); rejects with ApplyTimeout when it does not settle in time. */
export async function withTimeout<T>(ms: number, parent: AbortSignal, what: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onParentAbort = () => controller.abort(parent.reason);
  parent.addEventListener('abort', onParentAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new GenericError(`${what} did not finish within ${Math.round(ms / 1000)}s`, { reason: REASONS.ApplyTimeout });
      controller.abort(err);
      reject(err);
    }, ms);
  });
  try {
    return await Promise.race([fn(controller.signal), timeout]);
  } finally {
    clearTimeout(timer);
    parent.removeEventListener('abort', onParentAbort);
  }
}
