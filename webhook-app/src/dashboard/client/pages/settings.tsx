/** Settings: members and invitations, the roles table (from contracts), and API keys (a new key is shown once). */
import { KEY_SCOPES, PERMISSIONS, PERMISSION_NAMES, type Permission, type Role, ROLES, roleCan } from '@wharf/contracts/browser';
import { useEffect, useState } from 'preact/hooks';
import { pagePath } from '../../page-paths.js';
import { api, apiAll } from '../api.js';
import { ConfirmDialog, type ConfirmRequest } from '../components/confirm-dialog.js';
import { ErrorPanel } from '../components/error-panel.js';
import { Loading } from '../components/loading.js';
import { useApp } from '../context.js';
import { ago } from '../format.js';
import type { ApiKey, Invitation, Member } from '../types.js';

const TABS = [
  ['members', 'Members'],
  ['roles', 'Roles'],
  ['keys', 'API keys'],
] as const;

function Members() {
  const { can, session } = useApp();
  const [members, setMembers] = useState<Member[] | null>(null);
  const [invitations, setInvitations] = useState<Invitation[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [invite, setInvite] = useState<{ role: Role; login: string }>({ role: 'viewer', login: '' });
  const [created, setCreated] = useState<Invitation | null>(null);
  const [confirm, setConfirm] = useState<ConfirmRequest | null>(null);
  const [n, reload] = useState(0);
  const manage = can('members:manage');
  useEffect(() => {
    apiAll<Member>('/api/v1/members').then(setMembers, setError);
    apiAll<Invitation>('/api/v1/invitations').then(setInvitations, () => undefined);
  }, [n]);
  const setRole = async (m: Member, role: Role) => {
    try {
      await api('PATCH', `/api/v1/members/${m.user.id}`, { role });
      reload((x) => x + 1);
    } catch (err) {
      setError(err);
    }
  };
  const remove = (m: Member) =>
    setConfirm({
      title: `Remove ${m.user.login}?`,
      body: `${m.user.login} loses access to this organization at once.`,
      confirmLabel: 'Remove',
      danger: true,
      run: async () => {
        await api('DELETE', `/api/v1/members/${m.user.id}`);
        reload((x) => x + 1);
      },
    });
  const sendInvite = async (e: Event) => {
    e.preventDefault();
    try {
      setCreated(await api<Invitation>('POST', '/api/v1/invitations', { role: invite.role, ...(invite.login ? { login: invite.login } : {}) }, { idempotent: true }));
      reload((x) => x + 1);
    } catch (err) {
      setError(err);
    }
  };
  if (error && !members) return <ErrorPanel error={error} retry={() => reload((x) => x + 1)} what="Could not read members" />;
  if (!members) return <Loading what="members" />;
  return (
    <>
      {error ? <ErrorPanel error={error} /> : null}
      <div class="table-wrap" tabIndex={0} role="region" aria-label="Members (scrolls sideways)">
        <table>
          <thead>
            <tr>
              <th scope="col">Member</th>
              <th scope="col">Role</th>
              <th scope="col">Since</th>
              {manage ? <th scope="col">Remove</th> : null}
            </tr>
          </thead>
          <tbody>
            {members.map((m) => (
              <tr key={m.user.id}>
                <th scope="row">
                  {m.user.login}
                  {m.user.id === session.user.id ? <span class="muted"> (you)</span> : null}
                </th>
                <td>
                  {manage ? (
                    <select class="input" aria-label={`Role of ${m.user.login}`} value={m.role} onChange={(e) => setRole(m, (e.target as HTMLSelectElement).value as Role)}>
                      {ROLES.map((r) => (
                        <option key={r} value={r}>
                          {r}
                        </option>
                      ))}
                    </select>
                  ) : (
                    m.role
                  )}
                </td>
                <td>{ago(m.createdAt)}</td>
                {manage ? (
                  <td>
                    <button type="button" class="button small danger" onClick={() => remove(m)}>
                      Remove<span class="visually-hidden"> {m.user.login}</span>
                    </button>
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {manage ? (
        <form class="filters panel" onSubmit={sendInvite} aria-labelledby="invite-title">
          <h2 id="invite-title">Invite someone</h2>
          <label>
            GitHub login (optional)
            <input class="input" value={invite.login} pattern="[A-Za-z0-9-]{1,39}" onInput={(e) => setInvite({ ...invite, login: (e.target as HTMLInputElement).value })} />
          </label>
          <label>
            Role
            <select class="input" value={invite.role} onChange={(e) => setInvite({ ...invite, role: (e.target as HTMLSelectElement).value as Role })}>
              {ROLES.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          </label>
          <button type="submit" class="button primary">
            Invite
          </button>
        </form>
      ) : null}
      {created?.token ? (
        <div class="secret" role="status">
          <p>
            <strong>Invitation token, shown this once:</strong> hand it to the invitee (it expires {ago(created.expiresAt).replace(' ago', '')}).
          </p>
          <code class="secret-value">{created.token}</code>
        </div>
      ) : null}
      {invitations.length > 0 ? (
        <>
          <h2>Invitations</h2>
          <ul class="plain">
            {invitations.map((i) => (
              <li key={i.id}>
                {i.login ?? 'anyone with the token'} as {i.role} — {i.acceptedAt ? 'accepted' : i.revokedAt ? 'revoked' : `open until ${i.expiresAt.slice(0, 10)}`}
              </li>
            ))}
          </ul>
        </>
      ) : null}
      <ConfirmDialog request={confirm} onClose={() => setConfirm(null)} />
    </>
  );
}

function RolesTable() {
  return (
    <div class="table-wrap" tabIndex={0} role="region" aria-label="Roles (scrolls sideways)">
      <table class="roles">
        <caption>What each role may do (one matrix, shared with the API)</caption>
        <thead>
          <tr>
            <th scope="col">Permission</th>
            {ROLES.map((r) => (
              <th scope="col" key={r}>
                {r}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {PERMISSION_NAMES.map((p: Permission) => (
            <tr key={p}>
              <th scope="row">
                <code>{p}</code>
                <div class="small muted">{PERMISSIONS[p]}</div>
              </th>
              {ROLES.map((r) => (
                <td key={r} class="center">
                  {roleCan(r, p) ? <span aria-label="yes">✓</span> : <span aria-label="no" class="muted">–</span>}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Keys() {
  const { can } = useApp();
  const [keys, setKeys] = useState<ApiKey[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [form, setForm] = useState<{ name: string; scope: string; days: string }>({ name: '', scope: 'read', days: '' });
  const [secret, setSecret] = useState<ApiKey | null>(null);
  const [confirm, setConfirm] = useState<ConfirmRequest | null>(null);
  const [n, reload] = useState(0);
  const manage = can('keys:manage');
  useEffect(() => {
    if (!can('keys:read')) return;
    apiAll<ApiKey>('/api/v1/keys').then(setKeys, setError);
  }, [n]);
  if (!can('keys:read')) return <p class="muted">API keys are managed by admins and owners.</p>;
  const create = async (e: Event) => {
    e.preventDefault();
    try {
      const key = await api<ApiKey>('POST', '/api/v1/keys', { name: form.name, scopes: [form.scope], ...(form.days ? { expiresInDays: Number(form.days) } : {}) }, { idempotent: true });
      setSecret(key);
      setForm({ name: '', scope: 'read', days: '' });
      reload((x) => x + 1);
    } catch (err) {
      setError(err);
    }
  };
  const revoke = (k: ApiKey) =>
    setConfirm({
      title: `Revoke ${k.name}?`,
      body: `${k.prefix}… stops working at once, on every control-plane replica. Scripts using it will get 401.`,
      confirmLabel: 'Revoke',
      danger: true,
      run: async () => {
        await api('DELETE', `/api/v1/keys/${k.id}`);
        reload((x) => x + 1);
      },
    });
  const rotate = (k: ApiKey) =>
    setConfirm({
      title: `Rotate ${k.name}?`,
      body: 'A new key with the same name and scopes is made and shown once; the old one stops working now.',
      confirmLabel: 'Rotate',
      danger: true,
      run: async () => {
        setSecret(await api<ApiKey>('POST', `/api/v1/keys/${k.id}/rotate`, undefined, { idempotent: true }));
        reload((x) => x + 1);
      },
    });
  return (
    <>
      {error ? <ErrorPanel error={error} retry={() => reload((x) => x + 1)} /> : null}
      {secret?.key ? (
        <div class="secret" role="status">
          <p>
            <strong>Your new key {secret.name}, shown this once.</strong> Copy it now: Wharf keeps only a hash.
          </p>
          <code class="secret-value" data-testid="new-key">
            {secret.key}
          </code>
          <button type="button" class="button small" onClick={() => void navigator.clipboard?.writeText(secret.key ?? '')}>
            Copy
          </button>
          <button type="button" class="button small" onClick={() => setSecret(null)}>
            I stored it
          </button>
        </div>
      ) : null}
      {manage ? (
        <form class="filters panel" onSubmit={create} aria-labelledby="newkey-title">
          <h2 id="newkey-title">Create a key</h2>
          <label>
            Name
            <input class="input" required maxLength={100} value={form.name} onInput={(e) => setForm({ ...form, name: (e.target as HTMLInputElement).value })} placeholder="GitHub Actions deploy gate" />
          </label>
          <label>
            Scope
            <select class="input" value={form.scope} onChange={(e) => setForm({ ...form, scope: (e.target as HTMLSelectElement).value })}>
              {KEY_SCOPES.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </label>
          <label>
            Expires in days (optional)
            <input class="input" type="number" min={1} max={3650} value={form.days} onInput={(e) => setForm({ ...form, days: (e.target as HTMLInputElement).value })} />
          </label>
          <button type="submit" class="button primary">
            Create key
          </button>
        </form>
      ) : null}
      {keys === null && !error ? <Loading what="keys" /> : null}
      {keys && keys.length === 0 ? <p class="empty">No API keys yet.</p> : null}
      {keys && keys.length > 0 ? (
        <div class="table-wrap" tabIndex={0} role="region" aria-label="API keys (scrolls sideways)">
          <table>
            <thead>
              <tr>
                <th scope="col">Key</th>
                <th scope="col">Scopes</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">Expires</th>
                {manage ? <th scope="col">Manage</th> : null}
              </tr>
            </thead>
            <tbody>
              {keys.map((k) => (
                <tr key={k.id}>
                  <th scope="row">
                    {k.name} <code class="muted">{k.prefix}…</code>
                    {k.revokedAt ? <span class="badge">revoked</span> : null}
                  </th>
                  <td>{k.scopes.join(', ')}</td>
                  <td>
                    {ago(k.createdAt)} by {k.createdBy}
                  </td>
                  <td>{ago(k.lastUsedAt)}</td>
                  <td>{k.expiresAt ? k.expiresAt.slice(0, 10) : 'never'}</td>
                  {manage ? (
                    <td>
                      {k.revokedAt ? null : (
                        <>
                          <button type="button" class="button small" onClick={() => rotate(k)}>
                            Rotate<span class="visually-hidden"> {k.name}</span>
                          </button>{' '}
                          <button type="button" class="button small danger" onClick={() => revoke(k)}>
                            Revoke<span class="visually-hidden"> {k.name}</span>
                          </button>
                        </>
                      )}
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <ConfirmDialog request={confirm} onClose={() => setConfirm(null)} />
    </>
  );
}

export function SettingsPage(props: { tab: string }) {
  const tab = TABS.some(([t]) => t === props.tab) ? props.tab : 'members';
  return (
    <section aria-labelledby="settings-title">
      <div class="page-head">
        <h1 id="settings-title">Settings</h1>
      </div>
      <nav class="tabs" aria-label="Settings">
        {TABS.map(([t, label]) => (
          <a key={t} href={pagePath('settingsTab', { tab: t })} aria-current={tab === t ? 'page' : undefined}>
            {label}
          </a>
        ))}
      </nav>
      {tab === 'members' ? <Members /> : tab === 'roles' ? <RolesTable /> : <Keys />}
    </section>
  );
}
