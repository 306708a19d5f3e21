/**
 * One environment: its state and why, the actions a deployer may take (each confirmed), the rollout timeline and
 * history ("rollback to …" named as such), what the next rollout would change, request and error rates, and the
 * runtime's log, all kept current by the live stream.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { pagePath } from '../../page-paths.js';
import { api } from '../api.js';
import { ConfirmDialog, type ConfirmRequest } from '../components/confirm-dialog.js';
import { ErrorPanel } from '../components/error-panel.js';
import { Loading } from '../components/loading.js';
import { Sparkline } from '../components/sparkline.js';
import { StateBadge } from '../components/state-badge.js';
import { Timeline } from '../components/timeline.js';
import { useApp } from '../context.js';
import { ago, dateTime, shortSha } from '../format.js';
import { useStore } from '../store.js';
import type { Environment, MetricsSeries, Page, Rollout, Version } from '../types.js';
import { LogsPanel } from './logs-panel.js';

function useVersionIds(repositoryId: number | undefined, epoch: number): Map<string, number> {
  const [ids, setIds] = useState<Map<string, number>>(new Map());
  useEffect(() => {
    if (!repositoryId) return;
    api<Page<Version>>('GET', `/api/v1/versions?repository=${repositoryId}&limit=100`)
      .then((p) => setIds(new Map(p.items.map((v) => [v.sha, v.id]))))
      .catch(() => undefined);
  }, [repositoryId, epoch]);
  return ids;
}

function VersionLink(props: { sha: string | null; ids: Map<string, number> }) {
  if (!props.sha) return <span>—</span>;
  const id = props.ids.get(props.sha);
  return id ? (
    <a href={pagePath('version', { id })}>
      <code>{shortSha(props.sha)}</code>
    </a>
  ) : (
    <code>{shortSha(props.sha)}</code>
  );
}

function Metrics(props: { id: number }) {
  const [series, setSeries] = useState<MetricsSeries | null>(null);
  useEffect(() => {
    let stop = false;
    const read = () =>
      api<MetricsSeries>('GET', `/dashboard/api/environments/${props.id}/metrics`)
        .then((s) => !stop && setSeries(s))
        .catch(() => undefined);
    void read();
    const t = window.setInterval(read, 5_000);
    return () => {
      stop = true;
      window.clearInterval(t);
    };
  }, [props.id]);
  if (!series) return <Loading what="request rates" />;
  return (
    <>
      <Sparkline points={series.points} label="Request and error rate" />
      {series.unavailable ? <p class="small muted">Rates not read: {series.unavailable}.</p> : null}
      {!series.unavailable && series.points.length < 2 ? <p class="small muted">Sampling every {series.intervalSeconds} s while this page is open…</p> : null}
    </>
  );
}

export function EnvironmentPage(props: { id: number }) {
  const { store, can, organization } = useApp();
  const env = useStore(store, (s) => s.environments.get(props.id));
  const rollouts = useStore(store, (s) => s.rollouts.get(props.id));
  const epoch = useStore(store, (s) => s.epoch);
  const [error, setError] = useState<unknown>(null);
  const [diff, setDiff] = useState<{ text: string } | null>(null);
  const [confirm, setConfirm] = useState<ConfirmRequest | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);
  const versionIds = useVersionIds(env?.repositoryId, epoch + (rollouts?.length ?? 0));

  useEffect(() => {
    setError(null);
    api<Environment>('GET', `/api/v1/environments/${props.id}`)
      .then((e) => store.upsertEnvironment(e))
      .catch(setError);
    api<Page<Rollout>>('GET', `/api/v1/environments/${props.id}/history?limit=50`)
      .then((p) => store.setRollouts(props.id, p.items))
      .catch(setError);
  }, [props.id, epoch, attempt]);

  useEffect(() => {
    if (!env) return;
    api<{ text: string }>('GET', `/api/v1/environments/${props.id}/diff`)
      .then(setDiff)
      .catch(() => setDiff(null));
  }, [props.id, env?.generation, env?.observedGeneration]);

  const rollbackTargets = useMemo(() => {
    const seen = new Set<string>();
    return (rollouts ?? []).filter((r) => {
      if (r.result !== 'succeeded' || !r.sha || r.sha === env?.version.running || seen.has(r.sha)) return false;
      seen.add(r.sha);
      return true;
    });
  }, [rollouts, env?.version.running]);
  const [rollbackTo, setRollbackTo] = useState('');

  if (error && !env) return <ErrorPanel error={error} retry={() => setAttempt((n) => n + 1)} what="Could not read the environment" />;
  if (!env) return <Loading what="the environment" />;

  const act = (action: 'suspend' | 'resume' | 'redeploy') => {
    const words = {
      suspend: { title: `Suspend ${env.app}/${env.name}?`, body: 'Wharf stops reconciling it: what runs keeps running, but new commits are not rolled out until you resume.', label: 'Suspend' },
      resume: { title: `Resume ${env.app}/${env.name}?`, body: 'Wharf reconciles it again at once: the latest desired version is rolled out.', label: 'Resume' },
      redeploy: { title: `Redeploy ${env.app}/${env.name}?`, body: `The same version (${shortSha(env.version.desired)}) is rolled out again as a new generation.`, label: 'Redeploy' },
    }[action];
    setConfirm({
      title: words.title,
      body: words.body,
      confirmLabel: words.label,
      danger: action === 'suspend',
      reason: true,
      run: async (reason) => {
        const res = await api<{ environment?: Environment }>('POST', `/api/v1/environments/${env.id}/${action}`, reason ? { reason } : {}, { idempotent: true });
        if (res.environment) store.upsertEnvironment(res.environment);
        setNotice(`${words.label} requested.`);
      },
    });
  };
  const rollback = () => {
    const target = rollbackTargets.find((r) => r.sha === rollbackTo);
    if (!target?.sha) return;
    setConfirm({
      title: `Roll ${env.app}/${env.name} back to ${shortSha(target.sha)}?`,
      body: `Wharf commits a revert to ${shortSha(target.sha)} (${target.subject ?? ''}) on the branch ${env.name} follows (a revert pull request on GitHub); the rollout follows that commit, so Git stays the source of truth.`,
      confirmLabel: 'Roll back',
      danger: true,
      reason: true,
      run: async (reason) => {
        const res = await api<{ mode: string; commit: string | null; status: string }>(
          'POST',
          `/api/v1/environments/${env.id}/rollback`,
          { version: target.sha, ...(reason ? { reason } : {}) },
          { idempotent: true },
        );
        setNotice(res.mode === 'commit' ? `Rollback committed (${shortSha(res.commit)}): the rollout follows.` : 'A revert pull request is being opened; merging it rolls back.');
      },
    });
  };

  const mayDeploy = can('environments:deploy');
  return (
    <article aria-labelledby="env-title">
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href="/">Environments</a> <span aria-hidden="true">/</span> {env.app}
      </nav>
      <div class="page-head">
        <h1 id="env-title">
          {env.app}/{env.name}
        </h1>
        <StateBadge word={env.state.word} text={env.state.text} message={env.state.message} />
      </div>
      <dl class="facts wide">
        <dt>Running</dt>
        <dd>
          <VersionLink sha={env.version.running} ids={versionIds} />
          {env.version.desired && env.version.desired !== env.version.running ? (
            <span>
              {' '}
              → <VersionLink sha={env.version.desired} ids={versionIds} /> <span class="muted">(rolling out)</span>
            </span>
          ) : null}
        </dd>
        <dt>URL</dt>
        <dd>
          {env.url ? (
            <a href={env.url} target="_blank" rel="noopener noreferrer">
              {env.url}
            </a>
          ) : (
            '—'
          )}
        </dd>
        <dt>Kind</dt>
        <dd>{env.kind}</dd>
        <dt>Target</dt>
        <dd>{env.target}</dd>
        <dt>Generation</dt>
        <dd>
          {env.observedGeneration} of {env.generation}
        </dd>
        <dt>Last reconciled</dt>
        <dd>{ago(env.lastReconciledAt)}</dd>
      </dl>
      {env.state.message ? <p class="state-message">{env.state.message}</p> : null}

      <section aria-labelledby="actions-title" class="panel">
        <h2 id="actions-title">Actions</h2>
        {mayDeploy ? (
          <div class="actions">
            {env.suspended ? (
              <button type="button" class="button primary" onClick={() => act('resume')}>
                Resume
              </button>
            ) : (
              <button type="button" class="button" onClick={() => act('suspend')}>
                Suspend
              </button>
            )}
            <button type="button" class="button" onClick={() => act('redeploy')} disabled={!env.version.desired}>
              Redeploy
            </button>
            {env.kind === 'production' || !env.name.startsWith('pr-') ? (
              <span class="rollback">
                <label for="rollback-to">Roll back to</label>
                <select id="rollback-to" class="input" value={rollbackTo} onChange={(e) => setRollbackTo((e.target as HTMLSelectElement).value)}>
                  <option value="">choose a version…</option>
                  {rollbackTargets.map((r) => (
                    <option key={r.id} value={r.sha ?? ''}>
                      {shortSha(r.sha)} {r.subject ?? ''}
                    </option>
                  ))}
                </select>
                <button type="button" class="button danger" onClick={rollback} disabled={!rollbackTo}>
                  Roll back
                </button>
              </span>
            ) : null}
          </div>
        ) : (
          <p class="muted">
            Your role ({organization.role ?? 'none'}) can look but not deploy: suspend, resume, redeploy and rollback need the environments:deploy permission.
          </p>
        )}
        {notice ? (
          <p role="status" class="notice">
            {notice}
          </p>
        ) : null}
      </section>

      <section aria-labelledby="conditions-title" class="panel">
        <h2 id="conditions-title">Conditions</h2>
        <div class="table-wrap" tabIndex={0} role="region" aria-label="Conditions (scrolls sideways)">
          <table>
            <thead>
              <tr>
                <th scope="col">Type</th>
                <th scope="col">Status</th>
                <th scope="col">Reason</th>
                <th scope="col">Message</th>
                <th scope="col">Since</th>
              </tr>
            </thead>
            <tbody>
              {env.conditions.map((c) => (
                <tr key={c.type}>
                  <th scope="row">{c.type}</th>
                  <td>{c.status}</td>
                  <td>{c.reason}</td>
                  <td class="wrap">{c.message}</td>
                  <td>{ago(c.lastTransitionTime)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>

      <div class="two">
        <section aria-labelledby="timeline-title" class="panel">
          <h2 id="timeline-title">Rollouts</h2>
          <Timeline rollouts={rollouts ?? []} />
        </section>
        <section aria-labelledby="rates-title" class="panel">
          <h2 id="rates-title">Requests</h2>
          <Metrics id={env.id} />
        </section>
      </div>

      <section aria-labelledby="history-title" class="panel">
        <h2 id="history-title">History</h2>
        {rollouts === undefined ? (
          <Loading what="history" />
        ) : (
          <ol class="history">
            {rollouts.map((r) => (
              <li key={r.id} id={`rollout-${r.id}`} class={`rollout result-${r.result}`} tabIndex={-1}>
                <span class="what">
                  {r.rollbackSha ? <strong>{r.description}</strong> : r.description}{' '}
                  <VersionLink sha={r.sha} ids={versionIds} />
                </span>
                <span class={`result result-${r.result}`}>{r.result.replace('_', ' ')}</span>
                <time dateTime={r.startedAt} title={dateTime(r.startedAt)}>
                  {ago(r.startedAt)}
                </time>
                {r.message && r.result === 'failed' ? <p class="small wrap">{r.message}</p> : null}
              </li>
            ))}
          </ol>
        )}
      </section>

      <section aria-labelledby="diff-title" class="panel">
        <h2 id="diff-title">Next rollout</h2>
        {diff ? <pre class="diff">{diff.text}</pre> : <p class="muted">Nothing to show.</p>}
      </section>

      <LogsPanel environment={env} />
      <ConfirmDialog request={confirm} onClose={() => setConfirm(null)} />
    </article>
  );
}
