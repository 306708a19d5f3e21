/** What every view may use: the store, the live connection, who is signed in and what they may do. */
import type { Permission } from '@wharf/contracts/browser';
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { LiveConnection } from './live.js';
import type { Store } from './store.js';
import type { Organization, SessionInfo } from './types.js';

export interface AppContextValue {
  store: Store;
  live: LiveConnection | null;
  session: SessionInfo;
  organization: Organization;
  can(permission: Permission): boolean;
  chooseOrganization(slug: string): void;
}

export const AppContext = createContext<AppContextValue | null>(null);

export function useApp(): AppContextValue {
  const ctx = useContext(AppContext);
  if (!ctx) throw new Error('useApp outside the app');
  return ctx;
}
