/**
 * Live updates: `GET /api/v1/events` (Server-Sent Events) read with fetch, so that the organization header and the
 * session go with it. A lost stream is opened again after a growing, jittered delay (contracts' backoff: 1 s, 2 s,
 * 4 s … at most 30 s) and the page shows "reconnecting" meanwhile; once back, everything on the page is read again,
 * since events sent while away are not replayed.
 */
import { backoffDelay, type BackoffPolicy } from '@wharf/contracts/browser';
import { ApiError, requestHeaders } from './api.js';

export type LiveStatus = { kind: 'connecting' } | { kind: 'live' } | { kind: 'reconnecting'; attempt: number; retryAt: number; why: string } | { kind: 'stopped'; why: string };

export interface LiveEvent {
  event: string;
  data: unknown;
}

export const LIVE_BACKOFF: BackoffPolicy = { baseMs: 1_000, maxMs: 30_000, jitter: 'equal' };

export interface LiveConnection {
  status(): LiveStatus;
  onStatus(fn: (s: LiveStatus) => void): () => void;
  onEvent(fn: (e: LiveEvent) => void): () => void;
  /** Called after the stream came back (and on `resync`): read everything again. */
  onResync(fn: () => void): () => void;
  stop(): void;
}

/** Parses an SSE byte stream into events (the subset the API sends: event, data, id, retry, comments). */
export function createSseParser(emit: (e: LiveEvent) => void): (chunk: string) => void {
  let buffer = '';
  return (chunk) => {
    buffer += chunk.replace(/\r\n?/g, '\n');
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event = value;
        else if (field === 'data') data.push(value);
      }
      if (data.length > 0) {
        try {
          emit({ event, data: JSON.parse(data.join('\n')) });
        } catch {
          // Not JSON: ignored (the API sends JSON only).
        }
      }
      end = buffer.indexOf('\n\n');
    }
  };
}

export function connectLive(options: { path?: string; onUnauthenticated: (err: ApiError) => void; random?: () => number }): LiveConnection {
  const statusListeners = new Set<(s: LiveStatus) => void>();
  const eventListeners = new Set<(e: LiveEvent) => void>();
  const resyncListeners = new Set<() => void>();
  let status: LiveStatus = { kind: 'connecting' };
  let attempt = 0;
  let stopped = false;
  let abort: AbortController | null = null;
  let timer: number | undefined;
  let everLive = false;

  const setStatus = (s: LiveStatus) => {
    status = s;
    for (const fn of statusListeners) fn(s);
  };
  const emit = (e: LiveEvent) => {
    if (e.event === 'ready') {
      attempt = 0;
      setStatus({ kind: 'live' });
      if (everLive) for (const fn of resyncListeners) fn();
      everLive = true;
      return;
    }
    if (e.event === 'resync') {
      for (const fn of resyncListeners) fn();
      return;
    }
    for (const fn of eventListeners) fn(e);
  };

  const retry = (why: string) => {
    if (stopped) return;
    attempt += 1;
    const delay = backoffDelay(attempt, options.random ?? Math.random, LIVE_BACKOFF);
    setStatus({ kind: 'reconnecting', attempt, retryAt: Date.now() + delay, why });
    timer = window.setTimeout(open, delay);
  };

  async function open() {
    if (stopped) return;
    abort = new AbortController();
    if (status.kind !== 'reconnecting') setStatus({ kind: 'connecting' });
    let res: Response;
    try {
      res = await fetch(options.path ?? '/api/v1/events', { headers: requestHeaders('GET', { accept: 'text/event-stream' }), credentials: 'same-origin', signal: abort.signal, cache: 'no-store' });
    } catch (err) {
      if ((err as Error).name !== 'AbortError') retry('Wharf did not answer');
      return;
    }
    if (res.status === 401) {
      const err = new ApiError(401, 'unauthenticated', 'Signed out', 'the session ended', res.headers.get('x-request-id'));
      stopped = true;
      setStatus({ kind: 'stopped', why: 'signed out' });
      options.onUnauthenticated(err);
      return;
    }
    if (!res.ok || !res.body) {
      retry(`Wharf answered ${res.status}`);
      return;
    }
    const parse = createSseParser(emit);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parse(value);
      }
      retry('the stream ended');
    } catch (err) {
      if ((err as Error).name !== 'AbortError') retry('the connection was lost');
    }
  }

  void open();
  return {
    status: () => status,
    onStatus(fn) {
      statusListeners.add(fn);
      return () => statusListeners.delete(fn);
    },
    onEvent(fn) {
      eventListeners.add(fn);
      return () => eventListeners.delete(fn);
    },
    onResync(fn) {
      resyncListeners.add(fn);
      return () => resyncListeners.delete(fn);
    },
    stop() {
      stopped = true;
      if (timer !== undefined) window.clearTimeout(timer);
      abort?.abort();
    },
  };
}
