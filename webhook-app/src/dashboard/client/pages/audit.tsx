/** The audit log, newest first, filtered by actor, action, environment and time; the filters are in the address. */
import { AUDIT_ACTIONS } from '@wharf/contracts/browser';
import { useEffect, useState } from 'preact/hooks';
import { pagePath } from '../../page-paths.js';
import { api } from '../api.js';
import { ErrorPanel } from '../components/error-panel.js';
import { Loading } from '../components/loading.js';
import { useApp } from '../context.js';
import { ago, dateTime } from '../format.js';
import { navigate } from '../router.js';
import type { AuditEntry, Page } from '../types.js';

const FIELDS = ['actor', 'action', 'environment', 'since', 'until'] as const;

export function AuditPage(props: { query: URLSearchParams }) {
  const { can } = useApp();
  const [items, setItems] = useState<AuditEntry[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [form, setForm] = useState<Record<string, string>>(() => Object.fromEntries(FIELDS.map((f) => [f, props.query.get(f) ?? ''])));
  const queryString = FIELDS.filter((f) => props.query.get(f))
    .map((f) => {
      const v = props.query.get(f) ?? '';
      return `${f}=${encodeURIComponent(f === 'since' || f === 'until' ? new Date(v).toISOString() : v)}`;
    })
    .join('&');

  const load = (after: string | null) => {
    setError(null);
    api<Page<AuditEntry>>('GET', `/api/v1/audit?limit=50${queryString ? `&${queryString}` : ''}${after ? `&cursor=${encodeURIComponent(after)}` : ''}`)
      .then((p) => {
        setItems((old) => (after ? [...(old ?? []), ...p.items] : p.items));
        setCursor(p.nextCursor);
      })
      .catch(setError);
  };
  useEffect(() => {
    setItems(null);
    if (can('audit:read')) load(null);
  }, [queryString]);

  if (!can('audit:read')) {
    return (
      <section>
        <h1>Audit log</h1>
        <p class="muted">Reading the audit log needs the audit:read permission (deployer and up).</p>
      </section>
    );
  }
  const submit = (e: Event) => {
    e.preventDefault();
    const q = FIELDS.filter((f) => form[f]).map((f) => `${f}=${encodeURIComponent(form[f] ?? '')}`);
    navigate(`${pagePath('audit')}${q.length ? `?${q.join('&')}` : ''}`);
  };
  const field = (name: (typeof FIELDS)[number], label: string, type: 'text' | 'number' | 'datetime-local' = 'text', list?: string) => (
    <label>
      {label}
      <input class="input" type={type} name={name} list={list} value={form[name]} onInput={(e) => setForm({ ...form, [name]: (e.target as HTMLInputElement).value })} />
    </label>
  );
  return (
    <section aria-labelledby="audit-title">
      <div class="page-head">
        <h1 id="audit-title">Audit log</h1>
      </div>
      <form class="filters" onSubmit={submit} aria-label="Filter the audit log">
        {field('actor', 'Actor', 'text')}
        {field('action', 'Action', 'text', 'audit-actions')}
        <datalist id="audit-actions">
          {Object.values(AUDIT_ACTIONS).map((a) => (
            <option key={a} value={a} />
          ))}
        </datalist>
        {field('environment', 'Environment id', 'number')}
        {field('since', 'Since', 'datetime-local')}
        {field('until', 'Until', 'datetime-local')}
        <button type="submit" class="button primary">
          Filter
        </button>
        <a class="button" href={pagePath('audit')}>
          Clear
        </a>
      </form>
      {error ? <ErrorPanel error={error} retry={() => load(null)} what="Could not read the audit log" /> : null}
      {items === null && !error ? <Loading what="the audit log" /> : null}
      {items && items.length === 0 ? <p class="empty">No entries match.</p> : null}
      {items && items.length > 0 ? (
        <div class="table-wrap" tabIndex={0} role="region" aria-label="Audit entries (scrolls sideways)">
          <table class="audit">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Actor</th>
                <th scope="col">Action</th>
                <th scope="col">Subject</th>
                <th scope="col">Reason</th>
              </tr>
            </thead>
            <tbody>
              {items.map((a) => {
                const env = /^environment:(\d+)$/.exec(a.subject ?? '')?.[1];
                return (
                  <tr key={a.id}>
                    <td>
                      <time dateTime={a.at} title={dateTime(a.at)}>
                        {ago(a.at)}
                      </time>
                    </td>
                    <td class="clip">{a.actor}</td>
                    <td>
                      <code>{a.action}</code>
                    </td>
                    <td>{env ? <a href={pagePath('environment', { id: env })}>{a.subject}</a> : a.subject}</td>
                    <td class="wrap">{a.reason}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
      {cursor ? (
        <button type="button" class="button" onClick={() => load(cursor)}>
          Load older entries
        </button>
      ) : null}
    </section>
  );
}
