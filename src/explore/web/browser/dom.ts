/**
 * The only way the explorer's browser code builds HTML: elements from
 * constant tag names, text through textContent, attributes through
 * setAttribute with names written in this code (never from data) and
 * never an event-handler, style or URL attribute; links only through
 * `link()` with an `Href` made by ./routes.ts or ./brokers.ts. Nothing
 * here or in the pages parses a string as HTML: data never becomes markup.
 */

/** A URL built by this code (the app's own routes or a known broker host). */
export type Href = string & {readonly __href: unique symbol};

/** Marks a URL as safe to link; only ./routes.ts and ./brokers.ts call it. */
export function trustedHref(url: URL): Href {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`refusing to link a ${url.protocol} URL`);
  }
  return url.href as Href;
}

export type Child = Node | string | number | null | undefined | false;

export interface Props {
  class?: string;
  /** Attribute values may be data; names must be constants of this code. */
  attrs?: Record<string, string | number | boolean | null | undefined>;
}

const FORBIDDEN_ATTRIBUTE =
  /^(on|style$|href$|src$|srcset$|action$|formaction$|xlink:)/i;

export function setAttr(e: Element, name: string, value: string): void {
  if (FORBIDDEN_ATTRIBUTE.test(name)) {
    throw new Error(`attribute ${name} is not set this way`);
  }
  e.setAttribute(name, value);
}

function applyProps(e: Element, props?: Props): void {
  if (!props) return;
  if (props.class) e.setAttribute('class', props.class);
  for (const [k, v] of Object.entries(props.attrs ?? {})) {
    if (v === null || v === undefined || v === false) continue;
    setAttr(e, k, v === true ? '' : String(v));
  }
}

export function append(parent: Node, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    parent.appendChild(
      typeof c === 'object' ? c : document.createTextNode(String(c)),
    );
  }
}

/** An element with text children (strings become text nodes). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props?: Props | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  applyProps(e, props ?? undefined);
  append(e, ...children);
  return e;
}

/** A link to a URL built by this code; external ones open without referrer. */
export function link(
  href: Href,
  props: Props | null,
  ...children: Child[]
): HTMLAnchorElement {
  const a = h('a', props, ...children);
  a.setAttribute('href', href);
  if (new URL(href).origin !== location.origin) {
    a.setAttribute('rel', 'noopener noreferrer external');
  }
  return a;
}

/** An image from this explorer's own API. */
export function image(src: Href, alt: string, props?: Props): HTMLImageElement {
  if (new URL(src).origin !== location.origin) {
    throw new Error('images come from the explorer itself');
  }
  const img = h('img', props);
  img.setAttribute('alt', alt);
  img.setAttribute('src', src);
  return img;
}

const SVG = 'http://www.w3.org/2000/svg';

/** An SVG element (markers of the bands); attributes as for h(). */
export function svg(
  tag: string,
  attrs: Record<string, string | number>,
): SVGElement {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) setAttr(e, k, String(v));
  return e;
}

/** Replaces the children of `e`. */
export function replace(e: Element, ...children: Child[]): void {
  e.replaceChildren();
  append(e, ...children);
}

/** Any value as display text (data may have any type). */
export function text(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'string') return v;
  if (
    typeof v === 'number' ||
    typeof v === 'boolean' ||
    typeof v === 'bigint'
  ) {
    return String(v);
  }
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

/** A finite number, or null (data may have any type). */
export function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** A string, or null. */
export function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}
