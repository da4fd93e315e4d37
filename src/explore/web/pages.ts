/**
 * The explorer's page routes and the HTML shell each of them answers. The
 * shell holds no data at all (no alert, name or id from the request): the
 * browser code (./browser/) reads the route from the address and renders the
 * API's answers with DOM APIs. Every reference in the shell is relative to
 * the page's own address, so the explorer works below any path prefix (a
 * proxy, a function URL with its name in the path).
 */

export type PageKind =
  'subscriptions' | 'alerts' | 'alert' | 'object' | 'quarantine';

const ROUTES: Array<[RegExp, PageKind]> = [
  [/^\/$/, 'subscriptions'],
  [/^\/s\/[^/]+\/?$/, 'alerts'],
  [/^\/s\/[^/]+\/quarantine\/?$/, 'quarantine'],
  [/^\/s\/[^/]+\/a\/[^/]+\/?$/, 'alert'],
  [/^\/o\/[^/]+\/?$/, 'object'],
];

/** The page a path shows (the path only, without query), or null. */
export function matchPage(pathname: string): PageKind | null {
  for (const [re, kind] of ROUTES) if (re.test(pathname)) return kind;
  return null;
}

/** '../' per directory level of the path: the way back to the explorer's root. */
export function rootPrefix(pathname: string): string {
  const levels = pathname.split('/').length - 2;
  return levels > 0 ? '../'.repeat(levels) : './';
}

const TITLES: Record<PageKind, string> = {
  subscriptions: 'Subscriptions',
  alerts: 'Alerts',
  alert: 'Alert',
  object: 'Object',
  quarantine: 'Quarantine',
};

/** The HTML shell of a page at `pathname` (already matched by matchPage). */
export function pageHtml(kind: PageKind, pathname: string): string {
  const root = rootPrefix(pathname);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${TITLES[kind]} · Alert explorer</title>
<link rel="icon" href="${root}static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="${root}static/vendor/uplot.css">
<link rel="stylesheet" href="${root}static/explorer.css">
<script type="module" src="${root}static/js/main.js"></script>
</head>
<body data-page="${kind}">
<a class="skip-link" href="#main">Skip to content</a>
<header class="site-header">
<nav aria-label="Breadcrumb"><ol id="breadcrumb"><li><a href="${root}">Alert explorer</a></li></ol></nav>
</header>
<main id="main" tabindex="-1">
<h1>${TITLES[kind]}</h1>
<p id="page-status" role="status">Loading…</p>
<noscript><p>The explorer draws its pages with JavaScript; the same data is in the JSON API under <code>api/</code>.</p></noscript>
</main>
<footer class="site-footer"><p>pittgoogle-functions alert explorer · data from this deployment's Firestore</p></footer>
</body>
</html>
`;
}
