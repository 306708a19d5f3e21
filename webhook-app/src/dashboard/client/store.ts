/**
 * What the page knows, shared by every view and kept current by live events: the environments of the organization
 * (by id) and the rollouts seen for each. Views subscribe with `useStore`; a change re-renders only when the part
 * they read changed.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Environment, Rollout } from './types.js';

export interface State {
  environments: Map<number, Environment>;
  /** Whether the full list was read (the overview waits for it). */
  environmentsLoaded: boolean;
  /** Rollouts by environment, newest first (from history reads and live events). */
  rollouts: Map<number, Rollout[]>;
  /** Why the list could not be read (shown with what to do), or null. */
  loadError: unknown;
  /** Bumped on every resync: views refetch what they show. */
  epoch: number;
}

export interface Store {
  get(): State;
  subscribe(fn: () => void): () => void;
  setEnvironments(list: Environment[], complete: boolean): void;
  upsertEnvironment(env: Environment): void;
  removeEnvironment(id: number): void;
  setRollouts(environmentId: number, list: Rollout[]): void;
  upsertRollout(r: Rollout): void;
  setLoadError(err: unknown): void;
  resync(): void;
}

export function createStore(): Store {
  let state: State = { environments: new Map(), environmentsLoaded: false, rollouts: new Map(), loadError: null, epoch: 0 };
  const listeners = new Set<() => void>();
  const set = (next: State) => {
    state = next;
    for (const fn of listeners) fn();
  };
  return {
    get: () => state,
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    setEnvironments(list, complete) {
      const environments = complete ? new Map<number, Environment>() : new Map(state.environments);
      for (const e of list) environments.set(e.id, e);
      set({ ...state, environments, environmentsLoaded: complete || state.environmentsLoaded, loadError: complete ? null : state.loadError });
    },
    upsertEnvironment(env) {
      const environments = new Map(state.environments);
      environments.set(env.id, env);
      set({ ...state, environments });
    },
    removeEnvironment(id) {
      const environments = new Map(state.environments);
      environments.delete(id);
      set({ ...state, environments });
    },
    setRollouts(environmentId, list) {
      const rollouts = new Map(state.rollouts);
      rollouts.set(environmentId, list);
      set({ ...state, rollouts });
    },
    upsertRollout(r) {
      const rollouts = new Map(state.rollouts);
      const list = (rollouts.get(r.environmentId) ?? []).filter((x) => x.id !== r.id);
      list.push(r);
      list.sort((a, b) => b.id - a.id);
      rollouts.set(r.environmentId, list.slice(0, 200));
      set({ ...state, rollouts });
    },
    setLoadError(err) {
      set({ ...state, loadError: err });
    },
    resync() {
      set({ ...state, epoch: state.epoch + 1 });
    },
  };
}

/** The part of the state a view reads, re-rendering when it changes (compared with ===). */
export function useStore<T>(store: Store, select: (s: State) => T): T {
  const latest = useRef(select);
  latest.current = select;
  const value = select(store.get());
  const shown = useRef(value);
  shown.current = value;
  const [, rerender] = useState(0);
  useEffect(
    () =>
      store.subscribe(() => {
        if (latest.current(store.get()) !== shown.current) rerender((n) => n + 1);
      }),
    [store],
  );
  return value;
}
