// Reads a V8 CPU profile into where the time went: by package (or this module's folder) and by function.
import type { CpuProfile } from './host-client';

export interface ProfileSummary {
  totalMs: number;
  /** CPU time by where the code lives, largest first. */
  byPlace: { place: string; ms: number; share: number }[];
  /** The functions that spent the most time themselves. */
  topFunctions: { name: string; place: string; ms: number }[];
}

const round2 = (value: number) => Math.round(value * 100) / 100;

/** Self time per node: each sample's time delta goes to the node it hit. */
export function summariseProfile(profile: CpuProfile, top = 15): ProfileSummary {
  const selfMicros = new Map<number, number>();
  profile.samples.forEach((nodeId, index) => {
    selfMicros.set(nodeId, (selfMicros.get(nodeId) ?? 0) + (profile.timeDeltas[index] ?? 0));
  });
  const byPlace = new Map<string, number>();
  const byFunction = new Map<string, { name: string; place: string; micros: number }>();
  let total = 0;
  for (const node of profile.nodes) {
    const micros = selfMicros.get(node.id) ?? 0;
    if (micros === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const place = placeOf(url, functionName);
    if (place === '(idle)') continue;
    total += micros;
    byPlace.set(place, (byPlace.get(place) ?? 0) + micros);
    const name = `${functionName || '(anonymous)'} ${shortUrl(url)}:${lineNumber + 1}`;
    const entry = byFunction.get(name) ?? { name, place, micros: 0 };
    entry.micros += micros;
    byFunction.set(name, entry);
  }
  return {
    totalMs: round2(total / 1000),
    byPlace: [...byPlace]
      .sort((a, b) => b[1] - a[1])
      .map(([place, micros]) => ({
        place,
        ms: round2(micros / 1000),
        share: Math.round((micros / total) * 1000) / 10,
      })),
    topFunctions: [...byFunction.values()]
      .sort((a, b) => b.micros - a.micros)
      .slice(0, top)
      .map(({ name, place, micros }) => ({ name, place, ms: round2(micros / 1000) })),
  };
}

/** A package under node_modules, this module's top folder, Node's own code, or V8's pseudo-frames. */
export function placeOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const inPackage = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (inPackage) return inPackage[1]!;
  if (url.startsWith('node:')) return 'node (built-in)';
  const ours = /\/(lib|routes|mongo|models|permissions|bench)\/([^/]+\/)?/.exec(url);
  if (ours) return `abac-ldap-sync ${ours[1]}/${ours[2] ?? ''}`;
  return 'other';
}

function shortUrl(url: string): string {
  const inPackage = /node_modules\/(.*)$/.exec(url);
  if (inPackage) return inPackage[1]!;
  const parts = url.split('/');
  return parts.slice(-2).join('/');
}
