/** Live events into the store: environments appear, change and go; rollouts arrive as they start and finish. */
import { LIVE_EVENTS } from '@wharf/contracts/browser';
import { apiAll } from './api.js';
import type { LiveConnection } from './live.js';
import type { Store } from './store.js';
import type { Environment, Rollout } from './types.js';

/** Reads every environment (100 a page), showing each page as it arrives. */
export async function loadEnvironments(store: Store): Promise<void> {
  try {
    const all = await apiAll<Environment>('/api/v1/environments', (page) => store.setEnvironments(page, false));
    store.setEnvironments(all, true);
  } catch (err) {
    store.setLoadError(err);
  }
}

export function wireLiveUpdates(live: LiveConnection, store: Store): () => void {
  const offEvent = live.onEvent((e) => {
    if (e.event === LIVE_EVENTS.environment) store.upsertEnvironment(e.data as Environment);
    else if (e.event === LIVE_EVENTS.environmentDeleted) store.removeEnvironment((e.data as { id: number }).id);
    else if (e.event === LIVE_EVENTS.rollout) store.upsertRollout(e.data as Rollout);
  });
  const offResync = live.onResync(() => {
    void loadEnvironments(store);
    store.resync();
  });
  return () => {
    offEvent();
    offResync();
  };
}
