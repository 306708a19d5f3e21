/** Loads the vendored PVE API description and matches request paths against it. */
import { readFileSync } from 'node:fs';
import type { PveApiSchema, PveMethod, PveOperation } from './schema/pve-schema-types.js';

export interface MatchedPath {
  template: string;
  /** Path parameters by name, URL-decoded. */
  params: Record<string, string>;
  operations: Partial<Record<PveMethod, PveOperation>>;
}

export interface PveSchemaIndex {
  schema: PveApiSchema;
  /** The operation for a concrete path (without the /api2/json prefix), or undefined when PVE has no such path. */
  match(pathname: string): MatchedPath | undefined;
}

let cached: PveApiSchema | undefined;

export function loadPveSchema(): PveApiSchema {
  cached ??= JSON.parse(readFileSync(new URL('./schema/pve-api.json', import.meta.url), 'utf8')) as PveApiSchema;
  return cached;
}

export function createPveSchemaIndex(schema: PveApiSchema = loadPveSchema()): PveSchemaIndex {
  const entries = Object.entries(schema.paths).map(([template, operations]) => {
    const names: string[] = [];
    const source = template.replace(/\{([^}]+)\}/g, (_m, name: string) => {
      names.push(name);
      return '([^/]+)';
    });
    // Literal segments first, so /nodes/{node}/qemu wins over a parameter in the same place.
    return { template, operations, names, re: new RegExp(`^${source}$`), literal: names.length };
  });
  entries.sort((a, b) => a.literal - b.literal);
  return {
    schema,
    match(pathname) {
      const clean = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
      for (const e of entries) {
        const m = e.re.exec(clean);
        if (!m) continue;
        const params: Record<string, string> = {};
        e.names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1]!)));
        return { template: e.template, params, operations: e.operations };
      }
      return undefined;
    },
  };
}
