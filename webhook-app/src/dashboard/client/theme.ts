/**
 * Light and dark: the system's choice unless the person picked one (kept in localStorage). The state colours come
 * from contracts' STATE_TONES as CSS variables, so the page and the terminal use one palette.
 */
import { STATE_TONES } from '@wharf/contracts/browser';

const KEY = 'wharf-theme';

export function applyTheme(): void {
  const root = document.documentElement;
  const chosen = localStorage.getItem(KEY);
  if (chosen === 'dark' || chosen === 'light') root.dataset.theme = chosen;
  else delete root.dataset.theme;
  const seen = new Set<string>();
  for (const t of Object.values(STATE_TONES)) {
    if (seen.has(t.tone)) continue;
    seen.add(t.tone);
    root.style.setProperty(`--tone-${t.tone}-light`, t.light);
    root.style.setProperty(`--tone-${t.tone}-dark`, t.dark);
  }
}

export function toggleTheme(): void {
  const dark = document.documentElement.dataset.theme === 'dark' || (!document.documentElement.dataset.theme && matchMedia('(prefers-color-scheme: dark)').matches);
  localStorage.setItem(KEY, dark ? 'light' : 'dark');
  applyTheme();
}
