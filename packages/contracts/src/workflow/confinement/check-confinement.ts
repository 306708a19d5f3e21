/**
 * Hosted safety, checked before anything runs: every file a module or step opens stays inside the
 * environment's own directories (WHARF160), SQL does not open other databases or native code
 * (WHARF161), and outbound hosts are ones the environment was given (WHARF162). Which options are
 * paths, hosts and SQL comes from confined-options.ts. The runtime enforces the same at run time.
 */
import { posix } from 'node:path';
import { CODES } from '../../codes.js';
import type { Diagnostic, Severity } from '../../diagnostic.js';
import { diagnosticAt } from '../../yaml/diagnostic-at.js';
import type { PathSegment } from '../../yaml/locate.js';
import { type ConfigDocument, isRecord } from '../config-document.js';
import { type ConfinedKind, confinedOptions } from './confined-options.js';
import {
  hostAllowed,
  hostOfUrl,
  hostsOfAddress,
  hostsOfDsn,
  internalHost,
  pathEscape,
  sqlReachesOutside,
  sqliteDsnPath,
  staticPrefix,
} from './inspect-values.js';

export interface ConfinementOptions {
  /**
   * The directory (as written in the files' paths) that holds the app's files, e.g. the repository
   * root as `wharf validate` displays it. Relative paths in a config resolve against the config file's
   * directory and must stay under this root. Default: the files' paths are relative to the root.
   */
  filesRoot?: string;
  /**
   * Hosts the environment may connect to (`api.example.com`, `*.example.com`). When given, any other
   * host is an error; when absent, an outbound host is a warning (the environment's settings decide).
   */
  allowedHosts?: readonly string[];
}

interface TypedItem {
  source: ConfigDocument;
  path: PathSegment[];
  type: string;
  name: string;
  config: Record<string, unknown>;
}

/** Nodes visited per document while looking for typed items (modules, steps, nested steps). */
const MAX_NODES = 200_000;

/** Every mapping with a text `type:` and a mapping `config:`: modules, steps, nested and route steps. */
function typedItems(source: ConfigDocument): TypedItem[] {
  const found: TypedItem[] = [];
  // Paths are built only for what is found: each level points at its parent.
  type Link = { parent: Link | undefined; segment: PathSegment } | undefined;
  const pathOf = (link: Link): PathSegment[] => {
    const segments: PathSegment[] = [];
    for (let l = link; l; l = l.parent) segments.push(l.segment);
    return segments.reverse();
  };
  const stack: [unknown, Link][] = [[source.value, undefined]];
  let budget = MAX_NODES;
  while (stack.length > 0 && budget-- > 0) {
    const [value, link] = stack.pop() as [unknown, Link];
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) if (typeof value[i] === 'object' && value[i] !== null) stack.push([value[i], { parent: link, segment: i }]);
    } else if (isRecord(value)) {
      if (typeof value.type === 'string' && isRecord(value.config)) {
        found.push({ source, path: pathOf(link), type: value.type, name: typeof value.name === 'string' ? value.name : '', config: value.config });
      }
      for (const key in value) {
        const child = value[key];
        if (typeof child === 'object' && child !== null) stack.push([child, { parent: link, segment: key }]);
      }
    }
  }
  return found;
}

function labelOf(item: TypedItem): string {
  const [top, second] = item.path;
  if (top === 'modules' && item.path.length === 2) return `module "${item.name}" (${item.type})`;
  if (top === 'pipelines' && typeof second === 'string') return `step "${item.name}" (${item.type}) of pipeline "${second}"`;
  return `"${item.name}" (${item.type})`;
}

const PATH_ADVICE =
  'Wharf runs each app confined to its environment\'s own directories: use a path relative to the config file that stays inside the app\'s files.';

export function checkConfinement(documents: readonly ConfigDocument[], options: ConfinementOptions = {}): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const source of documents) {
    for (const item of typedItems(source)) {
      for (const [key, kind] of Object.entries(confinedOptions(item.type))) {
        const value = item.config[key];
        if (typeof value === 'string') out.push(...inspect(item, [key], kind, value, options));
        else if (Array.isArray(value)) {
          value.forEach((v, i) => {
            if (typeof v === 'string') out.push(...inspect(item, [key, i], kind, v, options));
          });
        } else if (isRecord(value) && kind === 'url') {
          // A map of named URLs (reverseproxy's backend_services).
          for (const [name, v] of Object.entries(value)) if (typeof v === 'string' && v !== '') out.push(...inspect(item, [key, name], kind, v, options));
        }
      }
    }
  }
  return out;
}

/** The config file's directory relative to the files' root, POSIX. */
function baseDirOf(file: string, root: string | undefined): string {
  const normal = posix.normalize(file.replace(/\\/g, '/'));
  const rootDir = root === undefined || root === '' || root === '.' ? '' : posix.normalize(root.replace(/\\/g, '/')).replace(/\/$/, '');
  const relative = rootDir && normal.startsWith(`${rootDir}/`) ? normal.slice(rootDir.length + 1) : normal;
  return posix.dirname(relative);
}

function inspect(item: TypedItem, where: [string, ...(number | string)[]], kind: ConfinedKind, text: string, options: ConfinementOptions): Diagnostic[] {
  const key = where[0];
  const label = labelOf(item);
  const baseDir = baseDirOf(item.source.file, options.filesRoot);
  const at = (code: (typeof CODES)[keyof typeof CODES], message: string, severity?: Severity) => {
    const path = [...item.path, 'config', ...where];
    return diagnosticAt(item.source.file, item.source.positions, item.source.positions.valueRange(path), code, message, severity);
  };
  const show = JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
  const pathProblem = (path: string) => {
    const why = pathEscape(path, baseDir);
    return why ? [at(CODES.PathOutsideEnvironment, `"${key}" of ${label} is ${show}, which ${why}. ${PATH_ADVICE}`)] : [];
  };
  switch (kind) {
    case 'path':
      return pathProblem(text);
    case 'sql': {
      const why = sqlReachesOutside(text);
      return why
        ? [at(CODES.SqlReachesOutside, `"${key}" of ${label}: ${why}. Each app may use only its own database; Wharf refuses SQL that reaches outside it.`)]
        : [];
    }
    case 'dsn': {
      const driver = typeof item.config.driver === 'string' ? item.config.driver : '';
      const isUrl = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) && !/^file:/i.test(text);
      if (/sqlite/i.test(driver) || (!isUrl && !/\bhost\s*=|@(tcp|unix)?\(/i.test(text))) {
        const path = sqliteDsnPath(text);
        return path === undefined ? [] : pathProblem(path);
      }
      return hostsOfDsn(text).flatMap((host) => hostProblem(host));
    }
    case 'url': {
      const host = hostOfUrl(text);
      return host === undefined ? [] : hostProblem(host);
    }
    case 'address':
      return staticPrefix(text) === text ? hostsOfAddress(text).flatMap((host) => hostProblem(host)) : [];
  }
  return [];

  function hostProblem(host: string): Diagnostic[] {
    const internal = internalHost(host);
    if (internal) {
      return [
        at(
          CODES.OutboundHost,
          `"${key}" of ${label} reaches ${host}, which ${internal}: an app may not reach the machine Wharf runs on or its private network, and the runtime refuses the connection.`,
          'error',
        ),
      ];
    }
    if (options.allowedHosts && hostAllowed(host, options.allowedHosts)) return [];
    if (options.allowedHosts) {
      return [
        at(
          CODES.OutboundHost,
          `"${key}" of ${label} connects to ${host}, which this environment is not given (${options.allowedHosts.join(', ') || 'no outbound hosts'}): the runtime refuses the connection.`,
          'error',
        ),
      ];
    }
    return [
      at(
        CODES.OutboundHost,
        `"${key}" of ${label} connects to ${host}: Wharf's runtimes connect only to hosts the environment is given, so this fails at run time unless the environment allows ${host}.`,
      ),
    ];
  }
}
