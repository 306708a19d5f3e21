/**
 * Which module and step options name something outside the config itself: a file or directory the
 * runtime opens (`path`), a host it connects to (`url`, `address`), a database it opens (`dsn`, a path
 * for SQLite and a host otherwise), or SQL it runs (`sql`). The one place that says so: the confinement
 * checks, the docs and the runtime read it from here.
 *
 * Catalogue fields typed `filepath` or `sql` are included automatically; the table below adds the
 * fields the catalogue types as plain text.
 */
import { moduleConfigSchemas } from '../../generated/module-catalogue.js';

export const CONFINED_KINDS = ['path', 'url', 'address', 'dsn', 'sql'] as const;
export type ConfinedKind = (typeof CONFINED_KINDS)[number];

export const DECLARED_OPTIONS: Readonly<Record<string, Readonly<Record<string, ConfinedKind>>>> = {
  'static.fileserver': { root: 'path' },
  'storage.sqlite': { dbPath: 'path' },
  'storage.local': { rootDir: 'path' },
  'storage.artifact': { basePath: 'path', endpoint: 'url' },
  'auth.jwt': { seedFile: 'path' },
  'api.handler': { seedFile: 'path' },
  'eventstore.service': { db_path: 'path' },
  'featureflag.service': { store_path: 'path', db_path: 'path' },
  'iac.state': { directory: 'path' },
  'database.workflow': { dsn: 'dsn' },
  'database.partitioned': { dsn: 'dsn' },
  'step.static_file': { file: 'path' },
  'step.artifact_push': { source_path: 'path' },
  'step.artifact_pull': { dest: 'path', url: 'url' },
  'step.build_ui': { source_dir: 'path', output_dir: 'path' },
  'step.container_build': { dockerfile: 'path' },
  'step.docker_build': { context: 'path', dockerfile: 'path' },
  'step.scan_deps': { source_path: 'path' },
  'step.scan_sast': { source_path: 'path' },
  'step.http_call': { url: 'url' },
  'step.graphql': { url: 'url' },
  'step.s3_upload': { endpoint: 'url' },
  'storage.s3': { endpoint: 'url' },
  'http.client': { base_url: 'url' },
  'notification.slack': { webhookURL: 'url' },
  reverseproxy: { backend_services: 'url' },
  'messaging.nats': { url: 'url' },
  'messaging.kafka': { brokers: 'address' },
  'nosql.mongodb': { uri: 'url' },
  'nosql.redis': { address: 'address' },
  'nosql.dynamodb': { endpoint: 'url' },
  'cache.redis': { address: 'address' },
  'auth.token-blacklist': { redis_url: 'url' },
  'secrets.vault': { address: 'url' },
  'observability.otel': { endpoint: 'address' },
  'openapi.consumer': { specUrl: 'url' },
  'license.validator': { server_url: 'url' },
  'argo.workflows': { server: 'url' },
};

const FROM_CATALOGUE: Record<string, ConfinedKind> = { filepath: 'path', sql: 'sql' };

const cache = new Map<string, Readonly<Record<string, ConfinedKind>>>();

/** The confined options of a module or step type: catalogue `filepath`/`sql` fields plus the table above. */
export function confinedOptions(type: string): Readonly<Record<string, ConfinedKind>> {
  let found = cache.get(type);
  if (!found) {
    const properties = (moduleConfigSchemas[type]?.properties ?? {}) as Record<string, { 'x-field-type'?: string }>;
    const fromCatalogue = Object.entries(properties).flatMap(([key, field]) => {
      const kind = FROM_CATALOGUE[field['x-field-type'] ?? ''];
      return kind ? [[key, kind] as const] : [];
    });
    found = { ...Object.fromEntries(fromCatalogue), ...DECLARED_OPTIONS[type] };
    cache.set(type, found);
  }
  return found;
}
