import {readdir, stat} from 'node:fs/promises';
import * as path from 'node:path';

/** A file as itself; a directory as every file below it, recursively, in name order. */
export async function listFiles(p: string): Promise<string[]> {
  const s = await stat(p);
  if (!s.isDirectory()) return [p];
  const out: string[] = [];
  const entries = await readdir(p, {withFileTypes: true});
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const child = path.join(p, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(child)));
    else if (e.isFile()) out.push(child);
  }
  return out;
}
