/**
 * Signing in with GitHub: the GitHub App's OAuth web flow (browser) and device flow (`wharf login`), then who the
 * person is and which installations they administer. GitHub's documented answers only; against the real service
 * nothing changes but GITHUB_OAUTH_URL and GITHUB_API_URL (tests point both at the strict fake in testkit).
 */
import { ProblemError } from '../http/problem-error.js';

export interface GitHubUser {
  id: number;
  login: string;
  name: string | null;
}

export interface GitHubInstallation {
  id: number;
  account: { login: string; type: string };
}

export interface GitHubSignIn {
  authorizeUrl(input: { state: string; redirectUri: string }): string;
  exchangeCode(input: { code: string; redirectUri: string }): Promise<string>;
  deviceCode(): Promise<{ deviceCode: string; userCode: string; verificationUri: string; expiresIn: number; interval: number }>;
  pollDevice(deviceCode: string): Promise<{ token: string } | { pending: 'authorization-pending' | 'slow-down' }>;
  user(token: string): Promise<GitHubUser>;
  installations(token: string): Promise<GitHubInstallation[]>;
  /** The person's role in a GitHub organization (admin, member), or null when not a member. */
  organizationRole(token: string, org: string): Promise<string | null>;
}

interface OAuthAnswer {
  access_token?: string;
  error?: string;
  error_description?: string;
}

export function createGitHubSignIn(options: { clientId: string; clientSecret: string; oauthUrl: string; apiUrl: string; fetch?: typeof fetch }): GitHubSignIn {
  const http = options.fetch ?? fetch;
  const api = options.apiUrl.replace(/\/$/, '');
  const post = async (path: string, body: Record<string, string>): Promise<OAuthAnswer & Record<string, unknown>> => {
    const res = await http(`${options.oauthUrl}${path}`, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    }).catch((err: Error) => {
      throw new ProblemError('github-unavailable', `GitHub did not answer: ${err.message}`);
    });
    if (!res.ok) throw new ProblemError('github-unavailable', `GitHub answered ${res.status} to ${path}`);
    return (await res.json()) as OAuthAnswer & Record<string, unknown>;
  };
  const get = async <T>(token: string, path: string, allow404 = false): Promise<T | null> => {
    const res = await http(`${api}${path}`, {
      headers: { accept: 'application/vnd.github+json', authorization: `Bearer ${token}`, 'x-github-api-version': '2022-11-28', 'user-agent': 'wharf' },
      signal: AbortSignal.timeout(10_000),
    }).catch((err: Error) => {
      throw new ProblemError('github-unavailable', `GitHub did not answer: ${err.message}`);
    });
    if (allow404 && (res.status === 404 || res.status === 403)) return null;
    if (res.status === 401) throw new ProblemError('sign-in-failed', 'GitHub did not accept the sign-in token');
    if (!res.ok) throw new ProblemError('github-unavailable', `GitHub answered ${res.status} to ${path}`);
    return (await res.json()) as T;
  };
  return {
    authorizeUrl: ({ state, redirectUri }) => {
      const url = new URL(`${options.oauthUrl}/login/oauth/authorize`);
      url.searchParams.set('client_id', options.clientId);
      url.searchParams.set('redirect_uri', redirectUri);
      url.searchParams.set('state', state);
      url.searchParams.set('allow_signup', 'false');
      return url.toString();
    },
    async exchangeCode({ code, redirectUri }) {
      const answer = await post('/login/oauth/access_token', { client_id: options.clientId, client_secret: options.clientSecret, code, redirect_uri: redirectUri });
      if (!answer.access_token) throw new ProblemError('sign-in-failed', answer.error_description ?? answer.error ?? 'GitHub gave no token');
      return answer.access_token;
    },
    async deviceCode() {
      const a = await post('/login/device/code', { client_id: options.clientId });
      if (typeof a.device_code !== 'string' || typeof a.user_code !== 'string') throw new ProblemError('sign-in-failed', a.error_description ?? a.error ?? 'GitHub gave no device code');
      return {
        deviceCode: a.device_code,
        userCode: a.user_code,
        verificationUri: String(a.verification_uri),
        expiresIn: Number(a.expires_in ?? 900),
        interval: Number(a.interval ?? 5),
      };
    },
    async pollDevice(deviceCode) {
      const a = await post('/login/oauth/access_token', { client_id: options.clientId, device_code: deviceCode, grant_type: 'urn:ietf:params:oauth:grant-type:device_code' });
      if (a.access_token) return { token: a.access_token };
      if (a.error === 'authorization_pending') return { pending: 'authorization-pending' };
      if (a.error === 'slow_down') return { pending: 'slow-down' };
      throw new ProblemError('sign-in-failed', a.error_description ?? a.error ?? 'GitHub refused the device code');
    },
    async user(token) {
      const u = await get<{ id: number; login: string; name?: string | null }>(token, '/user');
      if (!u) throw new ProblemError('sign-in-failed', 'GitHub did not say who signed in');
      return { id: u.id, login: u.login, name: u.name ?? null };
    },
    async installations(token) {
      const found: GitHubInstallation[] = [];
      for (let page = 1; page <= 10; page++) {
        const a = await get<{ installations: GitHubInstallation[] }>(token, `/user/installations?per_page=100&page=${page}`);
        found.push(...(a?.installations ?? []));
        if ((a?.installations.length ?? 0) < 100) break;
      }
      return found;
    },
    async organizationRole(token, org) {
      const m = await get<{ role: string; state: string }>(token, `/user/memberships/orgs/${encodeURIComponent(org)}`, true);
      return m && m.state === 'active' ? m.role : null;
    },
  };
}
