/** The frame of every page: skip link, header with navigation, live status, theme and who is signed in. */
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { pagePath, type PageName } from '../../page-paths.js';
import { api } from '../api.js';
import { useApp } from '../context.js';
import type { LiveStatus } from '../live.js';
import { navigate, type Route } from '../router.js';
import { toggleTheme } from '../theme.js';

const NAV: [PageName, string][] = [
  ['overview', 'Overview'],
  ['pullRequests', 'Pull requests'],
  ['agents', 'Agents'],
  ['audit', 'Audit log'],
  ['billing', 'Billing'],
  ['settings', 'Settings'],
];

function LiveIndicator() {
  const { live } = useApp();
  const [status, setStatus] = useState<LiveStatus>(live?.status() ?? { kind: 'stopped', why: 'off' });
  const [, tick] = useState(0);
  useEffect(() => live?.onStatus(setStatus), [live]);
  useEffect(() => {
    if (status.kind !== 'reconnecting') return;
    const t = window.setInterval(() => tick((n) => n + 1), 1000);
    return () => window.clearInterval(t);
  }, [status]);
  const text =
    status.kind === 'live'
      ? 'Live'
      : status.kind === 'connecting'
        ? 'Connecting…'
        : status.kind === 'reconnecting'
          ? `Reconnecting in ${Math.max(0, Math.ceil((status.retryAt - Date.now()) / 1000))} s (${status.why})`
          : 'Not live';
  return (
    <span class={`live live-${status.kind}`} role="status" aria-live="polite" data-live={status.kind}>
      <span class="dot" aria-hidden="true" />
      {text}
    </span>
  );
}

export function Layout(props: { route: Route; children: ComponentChildren }) {
  const { session, organization, chooseOrganization } = useApp();
  const active = props.route.name === 'settingsTab' ? 'settings' : props.route.name === 'environment' || props.route.name === 'version' ? 'overview' : props.route.name;
  const signOut = async () => {
    await api('DELETE', '/api/v1/session').catch(() => undefined);
    navigate(pagePath('signIn'));
    location.reload();
  };
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <div class="brand">
          <a href="/" class="logo" aria-label="Wharf overview">
            Wharf
          </a>
          {session.organizations.length > 1 ? (
            <label class="org">
              <span class="visually-hidden">Organization</span>
              <select class="input" value={organization.slug} onChange={(e) => chooseOrganization((e.target as HTMLSelectElement).value)}>
                {session.organizations.map((o) => (
                  <option key={o.slug} value={o.slug}>
                    {o.name}
                  </option>
                ))}
              </select>
            </label>
          ) : (
            <span class="org-name">{organization.name}</span>
          )}
        </div>
        <nav aria-label="Main">
          <ul>
            {NAV.map(([name, label]) => (
              <li key={name}>
                <a href={pagePath(name)} aria-current={active === name ? 'page' : undefined}>
                  {label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="tools">
          <LiveIndicator />
          <button type="button" class="button small" onClick={toggleTheme} aria-label="Switch between light and dark theme">
            Theme
          </button>
          <span class="who" title={`${session.user.login} (${organization.role ?? 'key'})`}>
            {session.via === 'local' ? 'local owner' : session.user.login}
            <span class="muted"> · {organization.role}</span>
          </span>
          {session.via === 'browser' ? (
            <button type="button" class="button small" onClick={signOut}>
              Sign out
            </button>
          ) : null}
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {props.children}
      </main>
    </>
  );
}
