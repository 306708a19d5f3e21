/** What handlers, the outbox drain and the janitor share. */
import type { Source } from '@wharf/source';
import type { DatabasePool } from '@wharf/store';
import type { Logger } from 'pino';
import type { GitHubClient } from './github-client.js';

/** The part of @wharf/source the GitHub App uses. `wharf up` passes the real source. */
export type SourcePort = Pick<Source, 'ingest' | 'fetchRefs' | 'fetchPullHead' | 'syncPushedRef' | 'setDesiredFromVersion' | 'redeployPreview'>;

export interface AppDeps {
  pool: DatabasePool;
  log: Logger;
  client: GitHubClient;
  source: SourcePort;
  /** Clone URL of a repository (default https://github.com/<owner>/<name>.git; GHES and tests differ). */
  repositoryUrl: (fullName: string) => string;
  /** Used in check-run "details" links when set. */
  publicUrl: string | undefined;
  now: () => Date;
  /** Wakes the outbox drain after rows were queued. */
  wakeDrain: () => void;
  /** wharf/validate says "Validating" only when reading a commit takes longer than this. */
  validatingAfterMs: number;
  /** Who Wharf's own comments are by, asked of GitHub once (the App's bot user). */
  appIdentity: () => Promise<AppIdentity>;
}

/** The App as GitHub knows it: its id, its slug, and the bot user its comments are posted as. */
export interface AppIdentity {
  appId: number;
  slug: string;
  /** `<slug>[bot]`. */
  botLogin: string;
}

export type HandlerResult = 'done' | 'ignored';

export interface DeliveryContext {
  deliveryId: string;
  event: string;
  action: string | null;
  // GitHub payloads are large and event-specific; handlers read the fields they need.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- webhook payload
  payload: any;
  log: Logger;
  deps: AppDeps;
}

export type Handler = (ctx: DeliveryContext) => Promise<HandlerResult>;

export const CHECK_NAMES = { validate: 'wharf/validate', plan: 'wharf/plan', preview: 'wharf/preview' } as const;
export type CheckKey = keyof typeof CHECK_NAMES;
export type CheckName = (typeof CHECK_NAMES)[CheckKey];
export const ALL_CHECKS: readonly CheckKey[] = ['validate', 'plan', 'preview'];
export const PREVIEW_LABEL = 'wharf:preview' as const;
export const COMMENT_MARKER = '<!-- wharf:pr-comment -->' as const;

/** A GitHub user as the audit log names them. */
export const githubActor = (login: string): string => `github:${login}`;
