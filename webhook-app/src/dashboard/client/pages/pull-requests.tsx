/** Pull requests: their checks, their preview and, for forks, whether a maintainer approved the preview. */
import { mayApproveForkPreview } from '@wharf/contracts/browser';
import { useEffect, useState } from 'preact/hooks';
import { pagePath } from '../../page-paths.js';
import { api } from '../api.js';
import { ConfirmDialog, type ConfirmRequest } from '../components/confirm-dialog.js';
import { ErrorPanel } from '../components/error-panel.js';
import { Loading } from '../components/loading.js';
import { useApp } from '../context.js';
import { ago, shortSha } from '../format.js';
import { useStore } from '../store.js';
import type { PullRequest } from '../types.js';

const checkTone = (c: { status: string | null; conclusion: string | null }) =>
  c.conclusion === 'success' ? 'ok' : c.conclusion === 'failure' || c.conclusion === 'timed_out' ? 'error' : c.conclusion === 'action_required' ? 'warning' : c.status === 'completed' ? 'paused' : 'progress';

export function PullRequestsPage() {
  const { can, organization, store } = useApp();
  const epoch = useStore(store, (s) => s.epoch);
  const environments = useStore(store, (s) => s.environments);
  const [items, setItems] = useState<PullRequest[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [confirm, setConfirm] = useState<ConfirmRequest | null>(null);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    api<{ items: PullRequest[] }>('GET', '/dashboard/api/pull-requests')
      .then((r) => {
        setItems(r.items);
        setError(null);
      })
      .catch(setError);
  }, [epoch, attempt, environments.size]);

  const approve = (pr: PullRequest) =>
    setConfirm({
      title: `Approve a preview of #${pr.number}?`,
      body: `#${pr.number} comes from a fork (${pr.author ?? 'unknown'}). Its head ${shortSha(pr.headSha)} will run as a preview, without secrets. A new push needs a new approval.`,
      confirmLabel: 'Approve preview',
      run: async () => {
        // The head shown in this dialog: the server approves it only while it is still the head (else 409, review again).
        try {
          await api('POST', `/dashboard/api/pull-requests/${pr.repositoryId}/${pr.number}/approve`, { sha: pr.headSha });
        } finally {
          // Approved or moved on: either way the list shows the head as it is now.
          setAttempt((n) => n + 1);
        }
      },
    });

  return (
    <section aria-labelledby="pr-title">
      <div class="page-head">
        <h1 id="pr-title">Pull requests</h1>
      </div>
      {error ? <ErrorPanel error={error} retry={() => setAttempt((n) => n + 1)} what="Could not read pull requests" /> : null}
      {items === null && !error ? <Loading what="pull requests" /> : null}
      {items && items.length === 0 ? <p class="empty">No pull requests yet. They appear here once the GitHub App sees one opened.</p> : null}
      {items && items.length > 0 ? (
        <div class="table-wrap" tabIndex={0} role="region" aria-label="Pull requests (scrolls sideways)">
          <table>
            <thead>
              <tr>
                <th scope="col">Pull request</th>
                <th scope="col">Checks</th>
                <th scope="col">Preview</th>
                <th scope="col">Approval</th>
              </tr>
            </thead>
            <tbody>
              {items.map((pr) => (
                <tr key={`${pr.repositoryId}-${pr.number}`}>
                  <td>
                    <a href={`https://github.com/${pr.repository}/pull/${pr.number}`} target="_blank" rel="noopener noreferrer">
                      #{pr.number} {pr.title || pr.headRef}
                    </a>
                    <div class="small muted">
                      {pr.repository} · {pr.state} · {pr.author ?? '—'} · <code>{shortSha(pr.headSha)}</code> · {ago(pr.updatedAt)}
                      {pr.fork ? <span class="badge">fork</span> : null}
                      {pr.draft ? <span class="badge">draft</span> : null}
                    </div>
                  </td>
                  <td>
                    <ul class="checks">
                      {pr.checks.length === 0 ? <li class="muted">none yet</li> : null}
                      {pr.checks.map((c) => (
                        <li key={c.name}>
                          <span class={`state tone-${checkTone(c)}`}>
                            <span class="dot" aria-hidden="true" />
                            {c.name}: {c.conclusion ?? c.status ?? 'queued'}
                          </span>
                        </li>
                      ))}
                    </ul>
                  </td>
                  <td>
                    {pr.previews.length === 0 ? <span class="muted">none</span> : null}
                    {pr.previews.map((p) => (
                      <div key={p.id}>
                        <a href={pagePath('environment', { id: p.id })}>
                          {p.app}/{p.name}
                        </a>
                        {p.url ? (
                          <>
                            {' · '}
                            <a href={p.url} target="_blank" rel="noopener noreferrer">
                              open<span class="visually-hidden"> the preview of #{pr.number}</span>
                            </a>
                          </>
                        ) : null}
                      </div>
                    ))}
                  </td>
                  <td>
                    {pr.approval === 'not-needed' ? <span class="muted">not needed</span> : null}
                    {pr.approval === 'approved' ? <span>approved by {pr.approvedBy}</span> : null}
                    {pr.approval === 'needed' ? (
                      can('environments:deploy') && mayApproveForkPreview(organization.role) && pr.state === 'open' ? (
                        <button type="button" class="button primary small" onClick={() => approve(pr)}>
                          Approve preview<span class="visually-hidden"> of #{pr.number}</span>
                        </button>
                      ) : (
                        <span>waiting for a maintainer</span>
                      )
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <ConfirmDialog request={confirm} onClose={() => setConfirm(null)} />
    </section>
  );
}
