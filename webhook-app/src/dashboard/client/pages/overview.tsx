/**
 * Every environment of the organization as a grid per app: production first, then previews; each card says the
 * one-word state, the version running (and the one coming), how long ago, the URL and who deployed it last.
 */
import { ENVIRONMENT_STATES, type EnvironmentStateWord } from '@wharf/contracts/browser';
import { Component } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { pagePath } from '../../page-paths.js';
import { api } from '../api.js';
import { ErrorPanel } from '../components/error-panel.js';
import { Loading } from '../components/loading.js';
import { StateBadge } from '../components/state-badge.js';
import { useApp } from '../context.js';
import { ago, shortSha } from '../format.js';
import { loadEnvironments } from '../live-updates.js';
import { useStore } from '../store.js';
import type { Environment } from '../types.js';

interface Deployer {
  environmentId: number;
  actor: string;
  action: string;
  at: string;
}

const byKind = (a: Environment, b: Environment) => (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'production' ? -1 : 1);

interface CardProps {
  env: Environment;
  deployer: Deployer | undefined;
}

/**
 * One card, rendered again only when its environment or its last deployer changes: the store keeps the objects of
 * environments that did not change, so a page of the first load or a live event renders its own cards, not all 1,000.
 */
class Card extends Component<CardProps> {
  override shouldComponentUpdate(next: CardProps): boolean {
    return next.env !== this.props.env || next.deployer !== this.props.deployer;
  }

  override render() {
    return <CardBody env={this.props.env} deployer={this.props.deployer} />;
  }
}

function CardBody(props: CardProps) {
  const { env, deployer } = props;
  const running = env.version.running;
  const desired = env.version.desired;
  return (
    <li class={`card env-card kind-${env.kind}`} data-env={`${env.app}/${env.name}`}>
      <div class="card-head">
        <a class="env-name" href={pagePath('environment', { id: env.id })}>
          {env.name}
        </a>
        <StateBadge word={env.state.word} text={env.state.text} message={env.state.message} />
      </div>
      <dl class="facts">
        <dt>Version</dt>
        <dd>
          <code>{shortSha(running)}</code>
          {desired && desired !== running ? (
            <span class="muted">
              {' '}
              → <code>{shortSha(desired)}</code>
            </span>
          ) : null}
        </dd>
        <dt>Age</dt>
        <dd>{ago(deployer?.at ?? env.lastReconciledAt ?? env.updatedAt)}</dd>
        <dt>Deployed by</dt>
        <dd class="clip">{deployer ? deployer.actor.replace(/^(git|github|user|key|local):/, '') : '—'}</dd>
      </dl>
      {env.url ? (
        <a class="env-url clip" href={env.url} target="_blank" rel="noopener noreferrer">
          {env.url.replace(/^https?:\/\//, '')}
          <span class="visually-hidden"> (opens the {env.name} environment in a new tab)</span>
        </a>
      ) : (
        <span class="muted small">no URL yet</span>
      )}
      {env.state.word !== 'Ready' && env.state.message ? <p class="small muted clip2">{env.state.message}</p> : null}
    </li>
  );
}

export function OverviewPage() {
  const { store } = useApp();
  const environments = useStore(store, (s) => s.environments);
  const loaded = useStore(store, (s) => s.environmentsLoaded);
  const epoch = useStore(store, (s) => s.epoch);
  // null until the first answer: the grid is drawn once with its deployers, not drawn and then drawn again.
  const [deployers, setDeployers] = useState<Map<number, Deployer> | null>(null);
  const error = useStore(store, (s) => s.loadError);
  const [filter, setFilter] = useState('');
  const [state, setState] = useState<'' | EnvironmentStateWord>('');

  // Asked at once, beside the environments; again when live events add or remove environments after the load.
  const loadDeployers = () =>
    api<{ items: Deployer[] }>('GET', '/dashboard/api/deployers')
      .then((d) => setDeployers(new Map(d.items.map((x) => [x.environmentId, x]))))
      .catch(() => setDeployers((known) => known ?? new Map()));
  useEffect(() => {
    void loadDeployers();
    // A slow answer does not hold the grid back: drawn without deployers after 1.5 s, they fill in when they come.
    const fallback = setTimeout(() => setDeployers((known) => known ?? new Map()), 1_500);
    return () => clearTimeout(fallback);
  }, [epoch]);
  const sizeSeen = useRef<number | null>(null);
  useEffect(() => {
    if (!loaded) return;
    if (sizeSeen.current !== null && sizeSeen.current !== environments.size) void loadDeployers();
    sizeSeen.current = environments.size;
  }, [loaded, environments.size]);
  const ready = loaded && deployers !== null;

  const groups = useMemo(() => {
    const needle = filter.trim().toLowerCase();
    const map = new Map<string, Environment[]>();
    for (const e of environments.values()) {
      if (needle && !`${e.app}/${e.name}`.toLowerCase().includes(needle)) continue;
      if (state && e.state.word !== state) continue;
      const list = map.get(e.app) ?? [];
      list.push(e);
      map.set(e.app, list);
    }
    return [...map.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([app, list]) => [app, list.sort(byKind)] as const);
  }, [environments, filter, state]);

  const counts = useMemo(() => {
    const c = new Map<EnvironmentStateWord, number>();
    for (const e of environments.values()) c.set(e.state.word, (c.get(e.state.word) ?? 0) + 1);
    return c;
  }, [environments]);

  useEffect(() => {
    if (ready) {
      performance.mark('wharf:overview-ready');
    }
  }, [ready]);

  const shown = groups.reduce((n, [, l]) => n + l.length, 0);
  return (
    <section aria-labelledby="overview-title">
      <div class="page-head">
        <h1 id="overview-title">Environments</h1>
        <p class="muted" aria-live="polite">
          {environments.size} environment{environments.size === 1 ? '' : 's'} in {new Set([...environments.values()].map((e) => e.app)).size} apps
          {[...counts.entries()].map(([w, n]) => (
            <span key={w} class="count">
              {' '}
              · {n} {w}
            </span>
          ))}
        </p>
      </div>
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          Filter by app or environment
          <input class="input" type="search" value={filter} onInput={(e) => setFilter((e.target as HTMLInputElement).value)} placeholder="hello-api/production" />
        </label>
        <label>
          State
          <select class="input" value={state} onChange={(e) => setState((e.target as HTMLSelectElement).value as EnvironmentStateWord | '')}>
            <option value="">Any</option>
            {ENVIRONMENT_STATES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        {filter || state ? <span class="muted">{shown} shown</span> : null}
      </form>
      {error ? <ErrorPanel error={error} retry={() => void loadEnvironments(store)} /> : null}
      {!ready && (environments.size === 0 || !deployers) ? <Loading what="environments" /> : null}
      {ready && environments.size === 0 ? (
        <div class="empty">
          <p>No environments yet. Commit to the repository Wharf watches: each branch gets one, and the default branch is production.</p>
        </div>
      ) : null}
      {(deployers ? groups : []).map(([app, list]) => (
        <section class="app" key={app} aria-labelledby={`app-${app}`}>
          <h2 id={`app-${app}`}>{app}</h2>
          <ul class="grid" aria-label={`${app} environments`}>
            {list.map((e) => (
              <Card key={e.id} env={e} deployer={deployers?.get(e.id)} />
            ))}
          </ul>
        </section>
      ))}
    </section>
  );
}
