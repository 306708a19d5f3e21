/**
 * Builds the fake's Proxmox VE API description from the `proxmox-api` npm package (GPL-3.0, by Uriel Chemouni),
 * whose `src/model.ts` is generated from PVE's own `apidoc` schema: every path as a nested type, every operation's
 * JSDoc with its method, path and permission check, every parameter's type alias with PVE's `@format`, `@pattern`,
 * `@minimum`/`@maximum`, `@minLength`/`@maxLength`, `@type integer` and enums.
 *
 * Only the paths the agent uses are kept (KEPT below), so the vendored file stays small. Regenerate with
 *   node --import tsx packages/testkit/src/fake-proxmox/schema/generate-pve-schema.ts
 * (proxmox-api is a devDependency of @wharf/testkit); a test proves the committed file is fresh.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import type { PveApiSchema, PveOperation, PveParam } from './pve-schema-types.js';

/**
 * The paths kept from the full API: what the agent calls, and the neighbours a client of these would reach for
 * (pending config, current status, task log). `*` is one path segment; a trailing `/**` keeps the whole subtree.
 */
export const KEPT = [
  '/version',
  '/access/permissions',
  '/cluster/nextid',
  '/cluster/resources',
  '/nodes',
  '/nodes/*',
  '/nodes/*/status',
  '/nodes/*/tasks/**',
  '/nodes/*/storage',
  '/nodes/*/storage/*',
  '/nodes/*/storage/*/status',
  '/nodes/*/qemu',
  '/nodes/*/qemu/*',
  '/nodes/*/qemu/*/config',
  '/nodes/*/qemu/*/pending',
  '/nodes/*/qemu/*/status/**',
  '/nodes/*/qemu/*/clone',
  '/nodes/*/qemu/*/template',
  '/nodes/*/qemu/*/agent',
  '/nodes/*/qemu/*/agent/ping',
  '/nodes/*/qemu/*/agent/network-get-interfaces',
  '/nodes/*/lxc',
  '/nodes/*/lxc/*',
  '/nodes/*/lxc/*/config',
  '/nodes/*/lxc/*/pending',
  '/nodes/*/lxc/*/status/**',
  '/nodes/*/lxc/*/clone',
  '/nodes/*/lxc/*/template',
  '/nodes/*/lxc/*/interfaces',
] as const;

const KEPT_RE = KEPT.map(
  (k) => new RegExp(`^${k.replace(/\/\*\*$/, '(/.*)?').replace(/\/\*(?=\/|$)/g, '/[^/]+')}$`),
);

function keep(p: string): boolean {
  return KEPT_RE.some((re) => re.test(p));
}

/** Documentation-only keys dropped from property-string formats to keep the vendored file small. */
const DOC_KEYS = new Set(['description', 'verbose_description', 'format_description', 'typetext']);

function stripDocs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripDocs);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([k]) => !DOC_KEYS.has(k)).map(([k, v]) => [k, stripDocs(v)]));
  }
  return value;
}

/**
 * The model drops the schema of path parameters (`$(vmid: string)`); PVE declares them with these standard options.
 * Mapped to the model's own aliases, so their checks still come from the schema.
 */
const PATH_PARAM_ALIAS: Record<string, string> = { node: 'pvenode', vmid: 'pvevmid', storage: 'pvestorageid' };

const METHODS = { $get: 'GET', $post: 'POST', $put: 'PUT', $delete: 'DELETE' } as const;

interface Alias {
  node: ts.TypeNode;
  tags: Map<string, string>;
}

function jsDocTags(node: ts.Node): Map<string, string> {
  const tags = new Map<string, string>();
  for (const tag of ts.getJSDocTags(node)) {
    // `@type integer` parses as a JSDoc type tag whose text is its type expression.
    if (ts.isJSDocTypeTag(tag)) {
      tags.set('type', tag.typeExpression.type.getText());
      continue;
    }
    const text = typeof tag.comment === 'string' ? tag.comment : ts.getTextOfJSDocComment(tag.comment) ?? '';
    tags.set(tag.tagName.text, text.trim());
  }
  return tags;
}

function jsDocText(node: ts.Node): string {
  return ts
    .getJSDocCommentsAndTags(node)
    .filter(ts.isJSDoc)
    .map((d) => (typeof d.comment === 'string' ? d.comment : ts.getTextOfJSDocComment(d.comment) ?? ''))
    .join('\n');
}

function literalUnion(node: ts.TypeNode): string[] | undefined {
  const parts = ts.isUnionTypeNode(node) ? node.types : [node];
  const values: string[] = [];
  for (const t of parts) {
    if (ts.isLiteralTypeNode(t) && ts.isStringLiteral(t.literal)) values.push(t.literal.text);
    else return undefined;
  }
  return values;
}

function paramFromType(type: ts.TypeNode | undefined, aliases: Map<string, Alias>, optional: boolean): PveParam {
  const param: PveParam = { type: 'string', optional };
  if (!type) return param;
  let node = type;
  let tags = new Map<string, string>();
  if (ts.isTypeReferenceNode(type) && ts.isIdentifier(type.typeName)) {
    const alias = aliases.get(type.typeName.text);
    if (alias) {
      node = alias.node;
      tags = alias.tags;
    }
  }
  const enumValues = literalUnion(node);
  if (enumValues) param.enum = enumValues;
  if (node.kind === ts.SyntaxKind.BooleanKeyword) param.type = 'boolean';
  else if (node.kind === ts.SyntaxKind.NumberKeyword) param.type = tags.get('type') === 'integer' ? 'integer' : 'number';
  else if (ts.isArrayTypeNode(node) || tags.get('type') === 'array') param.type = 'array';
  const format = tags.get('format');
  if (format) param.format = format.startsWith('{') ? (stripDocs(JSON.parse(format)) as Record<string, unknown>) : format;
  const pattern = tags.get('pattern');
  if (pattern) param.pattern = pattern;
  for (const k of ['minimum', 'maximum', 'minLength', 'maxLength'] as const) {
    const v = tags.get(k);
    if (v !== undefined && v !== '' && Number.isFinite(Number(v))) param[k] = Number(v);
  }
  return param;
}

/** Parses model.ts and returns the kept operations, keyed by path then method. */
export function buildPveSchema(source: string, packageVersion: string): PveApiSchema {
  const file = ts.createSourceFile('model.ts', source, ts.ScriptTarget.ES2022, true);
  const aliases = new Map<string, Alias>();
  let api: ts.InterfaceDeclaration | undefined;
  const visit = (n: ts.Node) => {
    if (ts.isTypeAliasDeclaration(n)) aliases.set(n.name.text, { node: n.type, tags: jsDocTags(n) });
    else if (ts.isInterfaceDeclaration(n) && n.name.text === 'Api') api = n;
    ts.forEachChild(n, visit);
  };
  visit(file);
  if (!api) throw new Error('proxmox-api model.ts has no `interface Api`');

  const paths: PveApiSchema['paths'] = {};
  const walk = (members: ts.NodeArray<ts.TypeElement>, segments: string[], pathParams: string[]) => {
    for (const m of members) {
      if (ts.isPropertySignature(m) && m.type && ts.isTypeLiteralNode(m.type)) {
        const name = ts.isIdentifier(m.name) || ts.isStringLiteral(m.name) ? m.name.text : m.name.getText(file);
        walk(m.type.members, [...segments, name], pathParams);
      } else if (ts.isMethodSignature(m) && m.name.getText(file) === '$' && m.type && ts.isTypeLiteralNode(m.type)) {
        const p = m.parameters[0]!.name.getText(file);
        walk(m.type.members, [...segments, `{${p}}`], [...pathParams, p]);
      } else if (ts.isMethodSignature(m)) {
        const key = m.name.getText(file) as keyof typeof METHODS;
        const method = METHODS[key];
        if (!method) continue;
        const template = `/${segments.join('/')}`;
        if (!keep(template)) continue;
        const doc = jsDocText(m);
        const tags = jsDocTags(m);
        const declared = /^(GET|POST|PUT|DELETE) (\S+)$/m.exec(doc);
        if (declared && (declared[1] !== method || declared[2]!.replace(/\\/g, '') !== template)) {
          throw new Error(`model.ts: ${method} ${template} documents itself as ${declared[1]} ${declared[2]}`);
        }
        const params: Record<string, PveParam> = {};
        for (const pp of pathParams) {
          const alias = PATH_PARAM_ALIAS[pp];
          const ref = alias ? ts.factory.createTypeReferenceNode(alias) : undefined;
          params[pp] = { ...paramFromType(ref, aliases, false), path: true };
        }
        const arg = m.parameters[0];
        if (arg?.type && ts.isTypeLiteralNode(arg.type)) {
          for (const prop of arg.type.members) {
            if (!ts.isPropertySignature(prop)) continue;
            const name = ts.isIdentifier(prop.name) || ts.isStringLiteral(prop.name) ? prop.name.text : prop.name.getText(file);
            params[name] = paramFromType(prop.type, aliases, Boolean(prop.questionToken));
          }
        }
        const returns = m.type && ts.isTypeReferenceNode(m.type) ? m.type.typeArguments?.[0]?.getText(file) ?? 'any' : 'any';
        const permissions = tags.get('permissions');
        const op: PveOperation = {
          description: doc.split('\n')[0]!.trim(),
          params,
          returns,
          ...(permissions ? { permissions: JSON.parse(permissions) as Record<string, unknown> } : {}),
          allowtoken: tags.get('allowtoken') !== '0',
        };
        (paths[template] ??= {})[method] = op;
      }
    }
  };
  walk(api.members, [], []);
  const sorted = Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b)));
  return { source: `proxmox-api@${packageVersion} src/model.ts (generated from Proxmox VE apidoc)`, kept: [...KEPT], paths: sorted };
}

export const VENDORED_SCHEMA = fileURLToPath(new URL('./pve-api.json', import.meta.url));

/** Reads proxmox-api from node_modules and returns the schema text the vendored file must equal. */
export function generateFromInstalledPackage(): string {
  const require = createRequire(import.meta.url);
  // The package's exports hide package.json: find its folder from the CommonJS entry point (cjs/index.js).
  const root = path.dirname(path.dirname(require.resolve('proxmox-api')));
  const version = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;
  const source = readFileSync(path.join(root, 'src/model.ts'), 'utf8');
  return `${JSON.stringify(buildPveSchema(source, version), null, 1)}\n`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeFileSync(VENDORED_SCHEMA, generateFromInstalledPackage());
  console.log(`wrote ${VENDORED_SCHEMA}`);
}
