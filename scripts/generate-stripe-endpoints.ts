/**
 * Generates the fake Stripe's request table from the `stripe` package itself, so that the fake accepts exactly
 * what the pinned client can send and nothing else:
 * - the endpoints (HTTP method, path template, list/search kind) from each resource class's `_makeRequest(...)`
 *   calls in `stripe/esm/resources/**\/*.js` (read with the TypeScript parser), and
 * - each endpoint's parameter tree from the matching method's `params` type in the `.d.ts` beside it
 *   (`*CreateParams`, `*UpdateParams`, `*ListParams`, …), resolved with the TypeScript type checker.
 * Output: packages/testkit/src/fake-stripe/generated/stripe-endpoints.json (committed; `npm run verify` checks it
 * is fresh). Run: `npm run generate`, or node --import tsx scripts/generate-stripe-endpoints.ts [--check].
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import ts from 'typescript';
import type { ParamNode, StripeEndpoint, StripeEndpointTable } from '@wharf/testkit';

const ROOT = path.resolve(import.meta.dirname, '..');
export const STRIPE_ENDPOINTS_FILE = 'packages/testkit/src/fake-stripe/generated/stripe-endpoints.json';

/**
 * Resources whose parameter trees are emitted: what billing uses (and the fake models). Every other endpoint is
 * listed by method and path only (the fake answers it 501, "not modelled", instead of a misleading 404); the full
 * trees for all 600-odd endpoints would be a 1.5 MB file nobody reads. Add a resource here when the fake models it.
 */
export const STRIPE_MODELLED_RESOURCES = [
  'billing.meterEvents',
  'billing.meters',
  'billingPortal.sessions',
  'checkout.sessions',
  'customers',
  'events',
  'invoices',
  'prices',
  'products',
  'subscriptionItems',
  'subscriptions',
  'webhookEndpoints',
] as const;

function stripeRoot(): string {
  const require = createRequire(path.join(ROOT, 'packages/testkit/package.json'));
  let dir = path.dirname(require.resolve('stripe'));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'stripe') return dir;
    if (path.dirname(dir) === dir) throw new Error('cannot find the stripe package root');
    dir = path.dirname(dir);
  }
}

function walk(dir: string, ext: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name), ext) : e.name.endsWith(ext) ? [path.join(dir, e.name)] : []))
    .sort();
}

const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);

interface RawEndpoint {
  method: StripeEndpoint['method'];
  path: string;
  kind?: 'list' | 'search';
  apiBase?: string;
}

/**
 * Reads every `this._makeRequest('POST', `/v1/x/${encodeURIComponent(id)}`, params, options, { methodType })` in
 * each method (a method may send to two paths, as `accounts.retrieve` does); calls whose path is not written out
 * (a URL taken from a response) are not endpoints.
 */
function endpointsOfJs(file: string): Map<string, RawEndpoint[]> {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
  const out = new Map<string, RawEndpoint[]>();
  const pathOf = (node: ts.Expression): string | null => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
    if (!ts.isTemplateExpression(node)) return null;
    let text = node.head.text;
    for (const span of node.templateSpans) {
      const arg = ts.isCallExpression(span.expression) ? span.expression.arguments[0] : span.expression;
      if (!arg || !ts.isIdentifier(arg)) throw new Error(`${file}: unexpected path parameter ${span.expression.getText()}`);
      text += `{${arg.text}}${span.literal.text}`;
    }
    return text;
  };
  const endpointOf = (call: ts.CallExpression): RawEndpoint | null => {
    if (!ts.isPropertyAccessExpression(call.expression) || call.expression.name.text !== '_makeRequest') return null;
    const [methodArg, pathArg, , , opts] = call.arguments;
    if (!methodArg || !ts.isStringLiteral(methodArg) || !pathArg) return null;
    const path = pathOf(pathArg);
    if (path === null) return null;
    const raw: RawEndpoint = { method: methodArg.text as RawEndpoint['method'], path };
    if (opts && ts.isObjectLiteralExpression(opts)) {
      for (const p of opts.properties) {
        if (!ts.isPropertyAssignment(p) || !ts.isIdentifier(p.name) || !ts.isStringLiteral(p.initializer)) continue;
        if (p.name.text === 'methodType') raw.kind = p.initializer.text as 'list' | 'search';
        if (p.name.text === 'apiBase') raw.apiBase = p.initializer.text;
      }
    }
    return raw;
  };
  for (const cls of source.statements.filter(ts.isClassDeclaration)) {
    for (const member of cls.members) {
      if (!ts.isMethodDeclaration(member) || !member.body || !ts.isIdentifier(member.name)) continue;
      const found: RawEndpoint[] = [];
      const visit = (node: ts.Node): void => {
        if (ts.isCallExpression(node)) {
          const e = endpointOf(node);
          if (e && !found.some((f) => f.method === e.method && f.path === e.path)) found.push(e);
        }
        ts.forEachChild(node, visit);
      };
      visit(member.body);
      if (found.length > 0) out.set(member.name.text, found);
    }
  }
  return out;
}

class ParamTreeBuilder {
  readonly definitions: Record<string, ParamNode> = {};
  private readonly building = new Set<string>();
  private readonly origin = new Map<string, ts.Symbol>();

  constructor(private readonly checker: ts.TypeChecker) {}

  /** Named interfaces become shared definitions; anonymous shapes are inlined. */
  private nameOf(type: ts.Type): string | null {
    const symbol = type.aliasSymbol ?? type.getSymbol();
    if (!symbol || symbol.flags & ts.SymbolFlags.TypeLiteral || symbol.name === '__type' || symbol.name === '__object') return null;
    const qualified = this.checker.getFullyQualifiedName(symbol).replace(/^"[^"]*"\./, '');
    const seen = this.origin.get(qualified);
    if (seen && seen !== symbol) throw new Error(`two parameter types are both named ${qualified}`);
    this.origin.set(qualified, symbol);
    return qualified;
  }

  node(type: ts.Type): ParamNode {
    if (this.isDecimal(type)) return { type: 'decimal' };
    if (type.isUnion()) return this.union(type.types);
    return this.single(type);
  }

  private union(members: ts.Type[]): ParamNode {
    let emptyable = false;
    const rest: ts.Type[] = [];
    for (const m of members) {
      if (m.flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Null)) {
        if (m.flags & ts.TypeFlags.Null) emptyable = true;
      } else if (m.isStringLiteral() && m.value === '') emptyable = true;
      else rest.push(m);
    }
    const withEmpty = (n: ParamNode): ParamNode => (emptyable ? { ...n, emptyable: true } : n);
    if (rest.length === 0) return withEmpty({ type: 'string', enum: [] });
    if (rest.every((m) => m.flags & ts.TypeFlags.BooleanLiteral)) return withEmpty({ type: 'boolean' });
    const literals = rest.filter((m) => m.isStringLiteral()).map((m) => (m as ts.StringLiteralType).value);
    const others = rest.filter((m) => !m.isStringLiteral() && !this.isOpenString(m));
    const strings: ParamNode[] = literals.length > 0 ? [{ type: 'string', enum: literals.sort() }] : [];
    // `OtherString` alone (no literals) is a free string; with literals it is the client's forward-compatibility
    // escape hatch: the pinned API version accepts only the listed values, and so does the fake.
    if (literals.length === 0 && rest.some((m) => this.isOpenString(m))) strings.push({ type: 'string' });
    const nodes = [...strings, ...this.dedupe(others.map((m) => this.single(m)))];
    if (nodes.length === 1) return withEmpty(nodes[0]);
    return withEmpty({ type: 'anyOf', anyOf: nodes });
  }

  private dedupe(nodes: ParamNode[]): ParamNode[] {
    const seen = new Set<string>();
    return nodes.filter((n) => {
      const key = JSON.stringify(n);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }

  /** The client's branded `Decimal` (sent as its decimal string). */
  private isDecimal(type: ts.Type): boolean {
    return (type.aliasSymbol ?? type.getSymbol())?.name === 'Decimal';
  }

  /** `string & Record<never, never>` (the client's `OtherString`). */
  private isOpenString(type: ts.Type): boolean {
    return type.isIntersection() && type.types.some((t) => t.flags & ts.TypeFlags.String);
  }

  private single(type: ts.Type): ParamNode {
    if (type.flags & ts.TypeFlags.String || this.isOpenString(type)) return { type: 'string' };
    if (type.isStringLiteral()) return { type: 'string', enum: [type.value] };
    if (type.flags & (ts.TypeFlags.Number | ts.TypeFlags.NumberLiteral)) return { type: 'number' };
    if (type.flags & (ts.TypeFlags.Boolean | ts.TypeFlags.BooleanLiteral)) return { type: 'boolean' };
    if (this.isDecimal(type)) return { type: 'decimal' };
    if (this.checker.isArrayType(type)) {
      const [item] = this.checker.getTypeArguments(type as ts.TypeReference);
      return { type: 'array', items: this.node(item) };
    }
    if (!(type.flags & ts.TypeFlags.Object)) throw new Error(`unsupported parameter type ${this.checker.typeToString(type)}`);
    const name = this.nameOf(type);
    if (name) {
      if (!this.definitions[name] && !this.building.has(name)) {
        this.building.add(name);
        this.definitions[name] = this.shape(type);
        this.building.delete(name);
      }
      return { type: 'ref', ref: name };
    }
    return this.shape(type);
  }

  private shape(type: ts.Type): ParamNode {
    const index = this.checker.getIndexInfoOfType(type, ts.IndexKind.String);
    const props = this.checker.getPropertiesOfType(type);
    if (index && props.length === 0) return { type: 'map', values: this.node(index.type) };
    if (index) throw new Error(`${this.checker.typeToString(type)} has both an index signature and properties`);
    const properties: Record<string, ParamNode> = {};
    const required: string[] = [];
    for (const p of props) {
      const decl = p.valueDeclaration ?? p.declarations?.[0];
      if (!decl) continue;
      properties[p.name] = this.node(this.checker.getNonNullableType(this.checker.getTypeOfSymbolAtLocation(p, decl)));
      // getNonNullableType drops `null` too: put Emptyable's null back from the declared type.
      const declared = this.checker.getTypeOfSymbolAtLocation(p, decl);
      if (declared.isUnion() && declared.types.some((t) => t.flags & ts.TypeFlags.Null)) properties[p.name] = { ...properties[p.name], emptyable: true };
      if (!(p.flags & ts.SymbolFlags.Optional)) required.push(p.name);
    }
    return required.length > 0 ? { type: 'object', properties, required } : { type: 'object', properties };
  }
}

export function buildStripeEndpointTable(): StripeEndpointTable {
  const root = stripeRoot();
  const resourcesDir = path.join(root, 'esm', 'resources');
  const dts = walk(resourcesDir, '.d.ts');
  const program = ts.createProgram(dts, { strict: true, noEmit: true, skipLibCheck: true, types: [] });
  const checker = program.getTypeChecker();
  const builder = new ParamTreeBuilder(checker);
  const endpoints: StripeEndpoint[] = [];
  const multiPath = new Set<string>();
  for (const jsFile of walk(resourcesDir, '.js')) {
    const raw = endpointsOfJs(jsFile);
    if (raw.size === 0) continue;
    const relative = path.relative(resourcesDir, jsFile).replace(/\.js$/, '');
    const resourceId = relative.split(path.sep).map(lowerFirst).join('.');
    const source = program.getSourceFile(jsFile.replace(/\.js$/, '.d.ts'));
    if (!source) throw new Error(`no declarations beside ${jsFile}`);
    const cls = source.statements.find(ts.isClassDeclaration);
    if (!cls) throw new Error(`no resource class in ${source.fileName}`);
    for (const member of cls.members) {
      if (!ts.isMethodDeclaration(member) || !ts.isIdentifier(member.name)) continue;
      const sends = raw.get(member.name.text);
      if (!sends) continue;
      const paramsDecl = member.parameters.find((p) => ts.isIdentifier(p.name) && p.name.text === 'params');
      const modelled = (STRIPE_MODELLED_RESOURCES as readonly string[]).includes(resourceId);
      let params: StripeEndpoint['params'] = modelled ? { type: 'object', properties: {} } : null;
      const paramsType = paramsDecl?.type ? paramsDecl.type.getText() : null;
      if (modelled && paramsDecl?.type) {
        const node = builder.node(checker.getNonNullableType(checker.getTypeFromTypeNode(paramsDecl.type)));
        if (node.type !== 'ref' && node.type !== 'object') throw new Error(`${resourceId}.${member.name.text}: params is not an object`);
        params = node;
      }
      if (sends.length > 1) multiPath.add(`${resourceId}.${member.name.text}`);
      for (const found of sends) {
        endpoints.push({
          id: `${resourceId}.${member.name.text}`,
          method: found.method,
          path: found.path,
          ...(found.kind ? { kind: found.kind } : {}),
          ...(found.apiBase ? { apiBase: found.apiBase } : {}),
          paramsType,
          paramsRequired: Boolean(paramsDecl && !paramsDecl.questionToken),
          params,
        });
      }
    }
  }
  endpoints.sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method) || a.id.localeCompare(b.id));
  // `accounts.retrieve()` without an id sends what `accounts.retrieveCurrent()` sends: one endpoint, the method
  // that sends only there names it.
  const byRoute = new Map<string, StripeEndpoint>();
  for (const e of endpoints) {
    const key = `${e.method} ${e.path}`;
    const other = byRoute.get(key);
    if (!other || (multiPath.has(other.id) && !multiPath.has(e.id))) byRoute.set(key, e);
  }
  endpoints.splice(0, endpoints.length, ...endpoints.filter((e) => byRoute.get(`${e.method} ${e.path}`) === e));
  const definitions = Object.fromEntries(Object.entries(builder.definitions).sort(([a], [b]) => a.localeCompare(b)));
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
  const apiVersion = /ApiVersion = '([^']+)'/.exec(readFileSync(path.join(root, 'esm', 'apiVersion.js'), 'utf8'))?.[1];
  if (!apiVersion) throw new Error('cannot read the API version the stripe package pins');
  return { stripeVersion: pkg.version, apiVersion, endpoints, definitions };
}

/** JSON with one endpoint and one definition per line, so that a client upgrade reads as a line diff. */
function renderTable(table: StripeEndpointTable): string {
  const lines = (items: string[]) => items.map((l, i) => `    ${l}${i < items.length - 1 ? ',' : ''}`).join('\n');
  return [
    '{',
    `  "stripeVersion": ${JSON.stringify(table.stripeVersion)},`,
    `  "apiVersion": ${JSON.stringify(table.apiVersion)},`,
    '  "endpoints": [',
    lines(table.endpoints.map((e) => JSON.stringify(e))),
    '  ],',
    '  "definitions": {',
    lines(Object.entries(table.definitions).map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`)),
    '  }',
    '}',
    '',
  ].join('\n');
}

/** Writes (or with `check`, only compares) the table; returns the stale file's path, if any. */
export async function generateStripeEndpoints(opts: { check: boolean }): Promise<string[]> {
  const file = path.join(ROOT, STRIPE_ENDPOINTS_FILE);
  const content = renderTable(buildStripeEndpointTable());
  const current = await readFile(file, 'utf8').catch(() => undefined);
  if (current === content) return [];
  if (!opts.check) {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
  }
  return [STRIPE_ENDPOINTS_FILE];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const check = process.argv.includes('--check');
  const stale = await generateStripeEndpoints({ check });
  for (const f of stale) console.log(`${check ? 'stale' : 'wrote'} ${f}`);
  if (check && stale.length > 0) process.exitCode = 1;
}
