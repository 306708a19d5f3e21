/**
 * Navigation without reloads: links inside the page change the history and the shown page; the back button works;
 * every page has its own path (page-paths.ts), so a reload or a shared link opens the same page.
 */
import { useEffect, useState } from 'preact/hooks';
import { matchPage, type PageName } from '../page-paths.js';

export interface Route {
  name: PageName | 'notFound';
  params: Record<string, string>;
  query: URLSearchParams;
  path: string;
}

const listeners = new Set<() => void>();

export function currentRoute(): Route {
  const match = matchPage(location.pathname);
  return { name: match?.name ?? 'notFound', params: match?.params ?? {}, query: new URLSearchParams(location.search), path: location.pathname + location.search };
}

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (to === location.pathname + location.search) return;
  if (options.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  for (const fn of listeners) fn();
  if (!options.replace) window.scrollTo(0, 0);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const update = () => setRoute(currentRoute());
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return route;
}

/** Same-origin link clicks become in-page navigation (new tab, modifiers and downloads keep the browser's way). */
export function interceptLinks(root: HTMLElement): void {
  root.addEventListener('click', (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = (e.target as Element | null)?.closest?.('a');
    if (!a || a.target || a.hasAttribute('download') || a.origin !== location.origin) return;
    if (a.pathname.startsWith('/api/') || a.pathname.startsWith('/dashboard/api/')) return;
    e.preventDefault();
    navigate(a.pathname + a.search);
  });
}
