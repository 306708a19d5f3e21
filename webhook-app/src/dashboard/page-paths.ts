/**
 * Every page of the dashboard and its path, defined once: the server answers each with the page shell (so every
 * page has a deep link that survives a reload), and the browser's router matches the same patterns.
 */
export const PAGE_PATHS = {
  overview: '/',
  environment: '/environments/:id',
  version: '/versions/:id',
  pullRequests: '/pull-requests',
  agents: '/agents',
  audit: '/audit',
  billing: '/billing',
  settings: '/settings',
  settingsTab: '/settings/:tab',
  signIn: '/sign-in',
} as const;

export type PageName = keyof typeof PAGE_PATHS;

/** `/environments/:id` → `/environments/12`. */
export function pagePath(name: PageName, params: Record<string, string | number> = {}): string {
  return PAGE_PATHS[name].replace(/:([a-z]+)/g, (_m, key: string) => encodeURIComponent(String(params[key] ?? '')));
}

/** The page a path shows, with its parameters; null for none. */
export function matchPage(path: string): { name: PageName; params: Record<string, string> } | null {
  for (const [name, pattern] of Object.entries(PAGE_PATHS) as [PageName, string][]) {
    const keys: string[] = [];
    const re = new RegExp(`^${pattern.replace(/:([a-z]+)/g, (_m, key: string) => (keys.push(key), '([^/]+)'))}/?$`);
    const m = re.exec(path);
    if (m) return { name, params: Object.fromEntries(keys.map((k, i) => [k, decodeURIComponent(m[i + 1] ?? '')])) };
  }
  return null;
}
