/**
 * The page's HTTP client for `/api/v1` (and the dashboard's own `/dashboard/api`): JSON in and out, the CSRF token
 * on every request that changes something, the organization header, a fresh Idempotency-Key per action, and every
 * failure turned into an ApiError that says what happened and what to do about it.
 */
import { PROBLEMS, type ProblemCode } from '@wharf/contracts/browser';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ProblemCode | 'network' | 'unexpected',
    readonly title: string,
    readonly detail: string,
    readonly requestId: string | null,
    readonly permission: string | null = null,
  ) {
    super(`${title}${detail ? `: ${detail}` : ''}`);
    this.name = 'ApiError';
  }
}

/** What the person can do about an error, in one sentence. */
export function advice(err: ApiError): string {
  switch (err.code) {
    case 'network':
      return 'Wharf did not answer. Check that it is still running (npm start, or the control plane), then try again.';
    case 'unauthenticated':
    case 'invalid-credentials':
    case 'credentials-expired':
      return 'Sign in again; you will come back to this page.';
    case 'permission-denied':
      return `Your role does not allow this${err.permission ? ` (it needs ${err.permission})` : ''}. Ask an owner or admin of the organization.`;
    case 'csrf-failed':
      return 'The page is out of date: reload it and try again.';
    case 'not-found':
      return 'It may have been removed, or the link is wrong. Go back to the overview.';
    case 'rate-limited':
    case 'too-many-streams':
      return 'Too many requests at once: wait a few seconds and try again.';
    case 'organization-required':
    case 'wrong-organization':
      return 'Choose an organization in the header.';
    case 'logs-unavailable':
      return "This control plane cannot read that target's logs; read them where the environment runs.";
    case 'not-implemented':
      return 'This part of Wharf is not available yet on this server.';
    case 'pull-request-moved':
      return 'Someone pushed to the pull request since this page showed it: review the new head, then approve it.';
    case 'working-copy-dirty':
      return 'Commit or stash the changes in the working copy, then try again.';
    case 'validation-failed':
      return 'Correct the fields named above and send again.';
    case 'internal':
    case 'unexpected':
      return `Try again in a moment. If it keeps failing, give your administrator the request id${err.requestId ? ` ${err.requestId}` : ''}.`;
    default:
      return 'Try again; if it keeps failing, reload the page.';
  }
}

interface Session {
  csrfToken: string | null;
  organization: string | null;
}

const session: Session = { csrfToken: null, organization: null };
export const setCsrfToken = (token: string | null) => {
  session.csrfToken = token;
};
export const setOrganization = (slug: string | null) => {
  session.organization = slug;
};

/** Called on 401 anywhere: the app goes to sign-in and back. */
let onUnauthenticated: (err: ApiError) => void = () => undefined;
export const whenUnauthenticated = (fn: (err: ApiError) => void) => {
  onUnauthenticated = fn;
};

const randomKey = () => Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');

export function requestHeaders(method: string, extra: Record<string, string> = {}): Record<string, string> {
  const headers: Record<string, string> = { accept: 'application/json', ...extra };
  if (session.organization) headers['wharf-organization'] = session.organization;
  if (method !== 'GET' && session.csrfToken) headers['x-csrf-token'] = session.csrfToken;
  return headers;
}

async function errorOf(res: Response): Promise<ApiError> {
  const requestId = res.headers.get('x-request-id');
  const type = res.headers.get('content-type') ?? '';
  if (type.includes('json')) {
    const body = (await res.json().catch(() => null)) as { code?: string; title?: string; detail?: string; requestId?: string; permission?: string } | null;
    if (body?.code && body.code in PROBLEMS) {
      return new ApiError(res.status, body.code as ProblemCode, body.title ?? '', body.detail ?? '', body.requestId ?? requestId, body.permission ?? null);
    }
  }
  return new ApiError(res.status, 'unexpected', `Wharf answered ${res.status}`, (await res.text().catch(() => '')).slice(0, 200), requestId);
}

/** Sends a request; answers the JSON body (undefined for 204). Throws ApiError. */
export async function api<T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown, options: { idempotent?: boolean; signal?: AbortSignal } = {}): Promise<T> {
  const headers = requestHeaders(method, body !== undefined ? { 'content-type': 'application/json' } : {});
  if (options.idempotent) headers['idempotency-key'] = randomKey();
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, 'network', 'Wharf did not answer', (err as Error).message, null);
  }
  if (!res.ok) {
    const err = await errorOf(res);
    if (res.status === 401) onUnauthenticated(err);
    throw err;
  }
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** Every page of a cursor-paginated list, `onPage` after each (for progressive rendering). */
export async function apiAll<T>(path: string, onPage?: (items: T[]) => void, limit = 100, max = 20_000): Promise<T[]> {
  const all: T[] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page: { items: T[]; nextCursor: string | null } = await api('GET', `${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    all.push(...page.items);
    onPage?.(page.items);
    cursor = page.nextCursor;
  } while (cursor && all.length < max);
  return all;
}

/** A streamed answer (NDJSON logs): yields each parsed line. */
export async function* streamLines<T>(path: string, signal: AbortSignal): AsyncGenerator<T> {
  let res: Response;
  try {
    res = await fetch(path, { headers: requestHeaders('GET', { accept: 'application/x-ndjson' }), credentials: 'same-origin', signal });
  } catch (err) {
    if ((err as Error).name === 'AbortError') return;
    throw new ApiError(0, 'network', 'Wharf did not answer', (err as Error).message, null);
  }
  if (!res.ok || !res.body) {
    const err = await errorOf(res);
    if (res.status === 401) onUnauthenticated(err);
    throw err;
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let nl = buffer.indexOf('\n');
      while (nl >= 0) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        if (line) yield JSON.parse(line) as T;
        nl = buffer.indexOf('\n');
      }
    }
  } catch (err) {
    if ((err as Error).name !== 'AbortError') throw err;
  } finally {
    reader.releaseLock();
  }
}
