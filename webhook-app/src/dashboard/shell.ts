/** The one HTML page every dashboard path answers with (deep links): it loads the hashed script and stylesheet. */
import type { DashboardManifest } from './build-dashboard.js';

const escapeAttr = (s: string) => s.replace(/[&"<>]/g, (c) => `&#${c.charCodeAt(0)};`);

export function renderShell(manifest: DashboardManifest): string {
  const css = manifest.css ? `<link rel="stylesheet" href="/assets/${escapeAttr(manifest.css)}">` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Wharf</title>
<link rel="icon" href="data:,">
${css}
<script type="module" src="/assets/${escapeAttr(manifest.js)}"></script>
</head>
<body>
<div id="app"><p class="boot" role="status">Loading Wharf…</p></div>
<noscript><p class="boot">The Wharf dashboard needs JavaScript. Without it: <code>wharf status</code> in a terminal, or the API at <a href="/api/v1/docs">/api/v1/docs</a>.</p></noscript>
</body>
</html>
`;
}

/** Security headers of the page: nothing but this origin's script and styles, never framed, no referrer leaks. */
export const SHELL_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
} as const;
