/**
 * The cookies Wharf's control plane sets. Runtimes behind the local router share the browser's cookie jar for
 * `127.0.0.1` and `*.localhost` (cookies ignore ports), so the router removes these before it forwards a request: a
 * tenant's app never sees a Wharf session.
 */
export const WHARF_COOKIES = {
  /** The browser session (HttpOnly), set by signing in with GitHub. */
  session: 'wharf_session',
  /** The signed OAuth `state` while signing in. */
  oauthState: 'wharf_oauth',
} as const;

const NAMES: ReadonlySet<string> = new Set(Object.values(WHARF_COOKIES));

/** A Cookie header without Wharf's own cookies; null when nothing else is left. */
export function withoutWharfCookies(header: string): string | null {
  const kept = header
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part !== '' && !NAMES.has(part.slice(0, part.includes('=') ? part.indexOf('=') : part.length).trim()));
  return kept.length > 0 ? kept.join('; ') : null;
}
