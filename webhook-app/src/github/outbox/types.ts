import type { outbox } from '@wharf/store';
import type { AppDeps } from '../types.js';

export type SendResult = { delivered: true; note?: string };
export type Sender = (deps: AppDeps, row: outbox.ClaimedOutboxRow) => Promise<SendResult>;

/** Splits "owner/name". */
export const ownerRepo = (fullName: string) => {
  const [owner, repo] = fullName.split('/') as [string, string];
  return { owner, repo };
};
