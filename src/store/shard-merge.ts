/**
 * A k-way merge of per-shard queries into one exactly ordered answer.
 *
 * The alert indexes lead with `shard` (./layout.ts), so a time-ordered read
 * of a subscription is one query per shard, each ordered by a field
 * (`publishTime` descending, `jd` ascending) and merged here by that field,
 * ties broken by the document's path (its id within one collection), in the
 * same direction. Each shard is read lazily in growing chunks, and only as
 * far as the merge needs it: a page of `n` reads about `n` documents plus a
 * small chunk per shard, not `n` per shard.
 *
 * Exactness. A query with a range filter on a second field (`mag`) is
 * ordered by Firestore as (field, mag, __name__): documents that tie on the
 * field come back in magnitude order, not in path order, and a chunk may
 * end inside such a tie. So the documents of a chunk that tie with its last
 * one are held back until a later chunk shows a different value (or the
 * shard is exhausted); only complete tie groups are sorted by path and
 * released. Paging within a shard uses `startAfter(lastSnapshot)`, which
 * follows Firestore's own (implicit) order exactly.
 *
 * The start of a page (a cursor: a field value and a path) is a filter on
 * the field (`<=` / `>=` the value) plus, within the value's tie group, the
 * paths not yet returned.
 */

import type {Query, QueryDocumentSnapshot} from '@google-cloud/firestore';

export type Direction = 'asc' | 'desc';

/** The value a document is ordered by: micros of a timestamp, or a number. */
export type OrderValue = bigint | number;

export interface MergeOrder {
  direction: Direction;
  /** The document's value of the order field (never null: range filters or orderBy exclude those). */
  value(doc: QueryDocumentSnapshot): OrderValue;
}

export interface MergeStart {
  value: OrderValue;
  /** Path segments of the last document returned before (ref.path split on '/'). */
  path: string[];
}

/** Lexicographic comparison of path segments (Firestore compares names segment by segment). */
export function comparePaths(a: readonly string[], b: readonly string[]) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return a.length - b.length;
}

function compareValues(a: OrderValue, b: OrderValue): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const pathOf = (d: QueryDocumentSnapshot) => d.ref.path.split('/');

/** Most documents asked of one shard at a time. */
const MAX_CHUNK = 1000;

class ShardStream {
  /** Released documents, in the merge's order. */
  private ready: QueryDocumentSnapshot[] = [];
  private head = 0;
  /** Fetched, not yet released: the trailing tie group of the last chunk. */
  private held: QueryDocumentSnapshot[] = [];
  private last: QueryDocumentSnapshot | undefined;
  exhausted = false;
  reads = 0;

  constructor(
    private readonly query: Query,
    private chunk: number,
    private readonly order: MergeOrder,
    private readonly compare: (
      a: QueryDocumentSnapshot,
      b: QueryDocumentSnapshot,
    ) => number,
    private readonly skip: (d: QueryDocumentSnapshot) => boolean,
  ) {}

  peek(): QueryDocumentSnapshot | undefined {
    return this.ready[this.head];
  }

  take(): QueryDocumentSnapshot {
    return this.ready[this.head++];
  }

  /** Needs a read before the merge can know its next document. */
  get starved(): boolean {
    return this.head >= this.ready.length && !this.exhausted;
  }

  async fetch(): Promise<void> {
    const asked = this.chunk;
    let q = this.query.limit(asked);
    if (this.last) q = q.startAfter(this.last);
    const snap = await q.get();
    this.reads += snap.size;
    this.chunk = Math.min(this.chunk * 2, MAX_CHUNK);
    if (snap.size < asked) this.exhausted = true;
    if (snap.size > 0) this.last = snap.docs[snap.size - 1];
    const fetched = [...this.held, ...snap.docs.filter(d => !this.skip(d))];
    let release: QueryDocumentSnapshot[];
    if (this.exhausted) {
      release = fetched;
      this.held = [];
    } else {
      // Hold back what ties with the last document read: its group may go on.
      const lastValue = this.order.value(this.last!);
      let cut = fetched.length;
      while (
        cut > 0 &&
        compareValues(this.order.value(fetched[cut - 1]), lastValue) === 0
      ) {
        cut--;
      }
      release = fetched.slice(0, cut);
      this.held = fetched.slice(cut);
    }
    if (release.length) {
      this.ready = this.ready
        .slice(this.head)
        .concat(release.sort(this.compare));
      this.head = 0;
    }
  }
}

export interface MergeResult {
  docs: QueryDocumentSnapshot[];
  /** Documents read from Firestore (what a page costs). */
  reads: number;
}

/**
 * The first `want` documents of the union of `queries` (each already
 * filtered and ordered by the field, without limit or cursor) in the order
 * (value, path) of `order.direction`, starting strictly after `start`.
 */
export async function mergeShards(
  queries: Query[],
  order: MergeOrder,
  want: number,
  start: MergeStart | null = null,
): Promise<MergeResult> {
  const sign = order.direction === 'asc' ? 1 : -1;
  const compare = (a: QueryDocumentSnapshot, b: QueryDocumentSnapshot) =>
    sign * compareValues(order.value(a), order.value(b)) ||
    sign * comparePaths(pathOf(a), pathOf(b));
  // Within the start's tie group, only the paths after the start's.
  const skip = (d: QueryDocumentSnapshot) =>
    start !== null &&
    compareValues(order.value(d), start.value) === 0 &&
    sign * comparePaths(pathOf(d), start.path) <= 0;
  const chunk = Math.max(4, Math.ceil(want / Math.max(1, queries.length)) + 2);
  const streams = queries.map(
    q => new ShardStream(q, chunk, order, compare, skip),
  );
  const docs: QueryDocumentSnapshot[] = [];
  while (docs.length < want) {
    const starved = streams.filter(s => s.starved);
    if (starved.length) {
      await Promise.all(starved.map(s => s.fetch()));
      continue;
    }
    let best: ShardStream | undefined;
    for (const s of streams) {
      const d = s.peek();
      if (d && (!best || compare(d, best.peek()!) < 0)) best = s;
    }
    if (!best) break;
    docs.push(best.take());
  }
  return {docs, reads: streams.reduce((n, s) => n + s.reads, 0)};
}
