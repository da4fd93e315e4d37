/**
 * Summary of a V8 `.cpuprofile` (node --cpu-prof): self time per function
 * and per module (file, or package under node_modules), in percent of the
 * sampled time including idle.
 */

import {readFileSync} from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: {functionName: string; url: string; lineNumber: number};
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalMs: number;
  idlePct: number;
  topFunctions: {name: string; pct: number}[];
  topModules: {module: string; pct: number}[];
  /** Time with the function on the stack (self + callees), per asked name. */
  inclusive: {name: string; pct: number}[];
}

function moduleOf(url: string): string {
  if (!url) return '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const build = url.indexOf('/build/');
  if (build >= 0) return url.slice(build + '/build/'.length);
  return url.replace(/^file:\/\//, '');
}

export function summarizeCpuProfile(
  file: string,
  top = 20,
  inclusiveNames: readonly string[] = [],
): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map(n => [n.id, n]));
  const self = new Map<number, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    total += dt;
    self.set(id, (self.get(id) ?? 0) + dt);
  });
  const fns = new Map<string, number>();
  const mods = new Map<string, number>();
  let idle = 0;
  for (const [id, us] of self) {
    const f = byId.get(id)!.callFrame;
    if (f.functionName === '(idle)') idle += us;
    const mod = moduleOf(f.url);
    const name = `${f.functionName || '(anonymous)'} ${mod}:${f.lineNumber + 1}`;
    fns.set(name, (fns.get(name) ?? 0) + us);
    mods.set(mod, (mods.get(mod) ?? 0) + us);
  }
  const parent = new Map<number, number>();
  for (const n of profile.nodes)
    for (const c of n.children ?? []) parent.set(c, n.id);
  const wanted = new Set(inclusiveNames);
  const incl = new Map<string, number>();
  for (const [id, us] of self) {
    const seen = new Set<string>();
    for (
      let at: number | undefined = id;
      at !== undefined;
      at = parent.get(at)
    ) {
      const name = byId.get(at)!.callFrame.functionName;
      if (wanted.has(name)) seen.add(name);
    }
    for (const name of seen) incl.set(name, (incl.get(name) ?? 0) + us);
  }
  const pct = (us: number) => Math.round((us / total) * 1000) / 10;
  const sorted = (m: Map<string, number>) =>
    [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  return {
    totalMs: Math.round(total / 1000),
    idlePct: pct(idle),
    topFunctions: sorted(fns).map(([name, us]) => ({name, pct: pct(us)})),
    topModules: sorted(mods).map(([module, us]) => ({module, pct: pct(us)})),
    inclusive: inclusiveNames.map(name => ({
      name,
      pct: pct(incl.get(name) ?? 0),
    })),
  };
}
