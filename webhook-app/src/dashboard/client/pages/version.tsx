/** One version (a commit Wharf read): who, what, whether it is valid, and each diagnostic linked to its line. */
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { ErrorPanel } from '../components/error-panel.js';
import { Loading } from '../components/loading.js';
import { dateTime, shortSha } from '../format.js';
import type { Diagnostic, Repository, Version } from '../types.js';

/** The line on GitHub (or null for a repository elsewhere). */
export function lineUrl(repository: Repository | null, sha: string, d: Diagnostic): string | null {
  if (!repository || repository.provider !== 'github' || !d.file) return null;
  const file = d.file.split('/').map(encodeURIComponent).join('/');
  return `https://github.com/${repository.fullName}/blob/${sha}/${file}${d.line ? `#L${d.line}` : ''}`;
}

function Diagnostics(props: { list: Diagnostic[]; repository: Repository | null; sha: string }) {
  if (props.list.length === 0) return <p class="muted">No diagnostics.</p>;
  return (
    <ul class="diagnostics">
      {props.list.map((d, i) => {
        const where = `${d.file ?? '?'}:${d.line ?? 0}:${d.column ?? 0}`;
        const url = lineUrl(props.repository, props.sha, d);
        return (
          <li key={i} class={`diag sev-${d.severity ?? 'error'}`}>
            <span class="sev">{d.severity ?? 'error'}</span>{' '}
            {url ? (
              <a href={url} target="_blank" rel="noopener noreferrer">
                <code>{where}</code>
                <span class="visually-hidden"> (the line on GitHub, new tab)</span>
              </a>
            ) : (
              <code>{where}</code>
            )}{' '}
            {d.code ? <code class="muted">{d.code}</code> : null} {d.message}
          </li>
        );
      })}
    </ul>
  );
}

export function VersionPage(props: { id: number }) {
  const [version, setVersion] = useState<Version | null>(null);
  const [repository, setRepository] = useState<Repository | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    setError(null);
    api<Version>('GET', `/api/v1/versions/${props.id}`)
      .then(async (v) => {
        setVersion(v);
        setRepository(await api<Repository>('GET', `/api/v1/repositories/${v.repositoryId}`).catch(() => null));
      })
      .catch(setError);
  }, [props.id, attempt]);
  if (error) return <ErrorPanel error={error} retry={() => setAttempt((n) => n + 1)} what="Could not read the version" />;
  if (!version) return <Loading what="the version" />;
  const [subject, ...rest] = (version.message ?? '').split('\n');
  return (
    <article aria-labelledby="version-title">
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href="/">Environments</a> <span aria-hidden="true">/</span> {repository?.fullName ?? 'repository'}
      </nav>
      <div class="page-head">
        <h1 id="version-title">
          <code>{shortSha(version.sha)}</code> {subject}
        </h1>
        <span class={`state tone-${version.valid ? 'ok' : 'error'}`}>
          <span class="dot" aria-hidden="true" />
          {version.valid ? 'Valid' : 'Invalid'}
        </span>
      </div>
      <dl class="facts wide">
        <dt>Commit</dt>
        <dd>
          <code>{version.sha}</code>
        </dd>
        <dt>Author</dt>
        <dd>{version.author ?? '—'}</dd>
        <dt>Committed</dt>
        <dd>{dateTime(version.committedAt ?? version.createdAt)}</dd>
        <dt>Branch</dt>
        <dd>{version.ref ?? '—'}</dd>
        <dt>Parent</dt>
        <dd>
          <code>{shortSha(version.parentSha)}</code>
        </dd>
      </dl>
      {rest.join('\n').trim() ? <pre class="message">{rest.join('\n').trim()}</pre> : null}
      <section class="panel" aria-labelledby="diag-title">
        <h2 id="diag-title">Diagnostics</h2>
        <Diagnostics list={version.diagnostics} repository={repository} sha={version.sha} />
      </section>
      <section class="panel" aria-labelledby="apps-title">
        <h2 id="apps-title">Apps in this version</h2>
        {version.apps.map((a) => (
          <div key={a.app} class="app-version">
            <h3>
              {a.app}{' '}
              <span class={`state tone-${a.valid ? 'ok' : 'error'}`}>
                <span class="dot" aria-hidden="true" />
                {a.valid ? 'Valid' : 'Invalid'}
              </span>
            </h3>
            <p class="small muted">
              digest <code>{a.digest.slice(0, 19)}</code>
              {a.rollbackOfVersionId ? ' · the same as an earlier version (a rollback)' : ''}
            </p>
            <Diagnostics list={a.diagnostics} repository={repository} sha={version.sha} />
          </div>
        ))}
      </section>
    </article>
  );
}
