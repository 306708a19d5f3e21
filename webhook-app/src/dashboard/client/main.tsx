/**
 * The dashboard in the browser: who is signed in (or the local owner of `wharf up`), the organization, the live
 * stream, then the page of the current path. A 401 anywhere goes to sign-in and comes back to the same page.
 */
import './styles.css';
import { type Permission } from '@wharf/contracts/browser';
import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { pagePath } from '../page-paths.js';
import { api, ApiError, setCsrfToken, setOrganization, whenUnauthenticated } from './api.js';
import { ErrorPanel } from './components/error-panel.js';
import { Layout } from './components/layout.js';
import { Loading } from './components/loading.js';
import { AppContext, type AppContextValue } from './context.js';
import { connectLive, type LiveConnection } from './live.js';
import { AgentsPage } from './pages/agents.js';
import { AuditPage } from './pages/audit.js';
import { BillingPage } from './pages/billing.js';
import { EnvironmentPage } from './pages/environment.js';
import { NotFoundPage } from './pages/not-found.js';
import { OverviewPage } from './pages/overview.js';
import { PullRequestsPage } from './pages/pull-requests.js';
import { SettingsPage } from './pages/settings.js';
import { SignInPage } from './pages/sign-in.js';
import { VersionPage } from './pages/version.js';
import { loadEnvironments, wireLiveUpdates } from './live-updates.js';
import { currentRoute, interceptLinks, navigate, type Route, useRoute } from './router.js';
import { createStore } from './store.js';
import { applyTheme } from './theme.js';
import type { Organization, SessionInfo } from './types.js';

const ORG_KEY = 'wharf-organization';

function goToSignIn(reason: 'expired' | 'signed-out') {
  const route = currentRoute();
  if (route.name === 'signIn') return;
  navigate(`${pagePath('signIn')}?next=${encodeURIComponent(route.path)}${reason === 'expired' ? '&expired=1' : ''}`, { replace: true });
}

function Page(props: { route: Route }) {
  const { route } = props;
  switch (route.name) {
    case 'overview':
      return <OverviewPage />;
    case 'environment':
      return <EnvironmentPage id={Number(route.params.id)} />;
    case 'version':
      return <VersionPage id={Number(route.params.id)} />;
    case 'pullRequests':
      return <PullRequestsPage />;
    case 'agents':
      return <AgentsPage />;
    case 'audit':
      return <AuditPage query={route.query} />;
    case 'billing':
      return <BillingPage />;
    case 'settings':
    case 'settingsTab':
      return <SettingsPage tab={route.params.tab ?? 'members'} />;
    default:
      return <NotFoundPage />;
  }
}

type Boot = { kind: 'loading' } | { kind: 'signed-out' } | { kind: 'error'; error: unknown } | { kind: 'ready'; session: SessionInfo; organization: Organization };

function App() {
  const route = useRoute();
  const store = useMemo(createStore, []);
  const [boot, setBoot] = useState<Boot>({ kind: 'loading' });
  const [live, setLive] = useState<LiveConnection | null>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    whenUnauthenticated(() => {
      setBoot({ kind: 'signed-out' });
      goToSignIn('expired');
    });
  }, []);

  useEffect(() => {
    let cancelled = false;
    let connection: LiveConnection | null = null;
    let unwire = () => {};
    (async () => {
      try {
        const session = await api<SessionInfo>('GET', '/api/v1/session');
        setCsrfToken(session.csrfToken);
        const saved = localStorage.getItem(ORG_KEY);
        const chosen =
          session.organizations.find((o) => o.slug === saved) ??
          (session.via === 'local' ? session.organizations.find((o) => o.kind === 'local') : undefined) ??
          session.organizations[0];
        if (!chosen) throw new ApiError(403, 'wrong-organization', 'You are not a member of any organization yet', 'ask an owner to invite you', null);
        setOrganization(chosen.slug);
        const organization = await api<Organization>('GET', '/api/v1/organization');
        if (cancelled) return;
        connection = connectLive({ onUnauthenticated: () => goToSignIn('expired') });
        unwire = wireLiveUpdates(connection, store);
        setLive(connection);
        setBoot({ kind: 'ready', session, organization });
        if (currentRoute().name === 'signIn') navigate(currentRoute().query.get('next') ?? '/', { replace: true });
        void loadEnvironments(store);
      } catch (err) {
        if (cancelled) return;
        if (err instanceof ApiError && err.status === 401) {
          setBoot({ kind: 'signed-out' });
          goToSignIn('signed-out');
        } else setBoot({ kind: 'error', error: err });
      }
    })();
    return () => {
      cancelled = true;
      unwire();
      connection?.stop();
    };
  }, [attempt, store]);

  useEffect(() => {
    document.title = `${titleOf(route)} · Wharf`;
  }, [route]);

  if (route.name === 'signIn' || boot.kind === 'signed-out') return <SignInPage query={route.query} />;
  if (boot.kind === 'loading') return <Loading what="Wharf" />;
  if (boot.kind === 'error') {
    return (
      <main id="main" class="narrow">
        <h1>Wharf</h1>
        <ErrorPanel error={boot.error} retry={() => setAttempt((n) => n + 1)} what="Could not open the dashboard" />
      </main>
    );
  }
  const value: AppContextValue = {
    store,
    live,
    session: boot.session,
    organization: boot.organization,
    can: (p: Permission) => boot.organization.permissions.includes(p),
    chooseOrganization: (slug) => {
      localStorage.setItem(ORG_KEY, slug);
      location.assign('/');
    },
  };
  return (
    <AppContext.Provider value={value}>
      <Layout route={route}>
        <Page route={route} />
      </Layout>
    </AppContext.Provider>
  );
}

function titleOf(route: Route): string {
  const titles: Record<Route['name'], string> = {
    overview: 'Overview',
    environment: 'Environment',
    version: 'Version',
    pullRequests: 'Pull requests',
    agents: 'Agents',
    audit: 'Audit log',
    billing: 'Billing',
    settings: 'Settings',
    settingsTab: 'Settings',
    signIn: 'Sign in',
    notFound: 'Not found',
  };
  return titles[route.name];
}

applyTheme();
const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  interceptLinks(document.body);
  render(<App />, root);
}
