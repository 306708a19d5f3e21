/** Signing in (hosted Wharf): through GitHub, then back to the page that asked. */
import { useEffect, useState } from 'preact/hooks';

const safeNext = (next: string | null): string => (next && /^\/(?![/\\])/.test(next) ? next : '/');

export function SignInPage(props: { query: URLSearchParams }) {
  const next = safeNext(props.query.get('next'));
  const expired = props.query.get('expired') === '1';
  const [unavailable, setUnavailable] = useState<string | null>(null);
  const href = `/api/v1/auth/github/login?next=${encodeURIComponent(next)}`;
  useEffect(() => {
    // Ask whether GitHub sign-in is set up, without following its redirect.
    fetch(href, { redirect: 'manual', credentials: 'same-origin' })
      .then(async (res) => {
        if (res.type === 'opaqueredirect' || (res.status >= 300 && res.status < 400)) return;
        const body = (await res.json().catch(() => null)) as { detail?: string; title?: string } | null;
        setUnavailable(body?.detail ?? body?.title ?? `Wharf answered ${res.status}`);
      })
      .catch(() => setUnavailable('Wharf did not answer: check that it is running.'));
  }, [href]);
  return (
    <main id="main" class="narrow sign-in">
      <h1>Sign in to Wharf</h1>
      {expired ? (
        <p class="notice" role="status">
          Your session has ended. Sign in again to go back to <code>{next}</code>.
        </p>
      ) : null}
      <p>Wharf uses your GitHub account: you see the organizations whose GitHub App installations you administer or were invited to.</p>
      <p>
        <a class="button primary big" href={href}>
          Sign in with GitHub
        </a>
      </p>
      {unavailable ? (
        <p class="error-panel" role="alert">
          Signing in is not available: {unavailable}. On your own machine, <code>wharf up</code> needs no sign-in: open the address it prints.
        </p>
      ) : null}
    </main>
  );
}
