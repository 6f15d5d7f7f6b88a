// Summarises a V8 .cpuprofile (node --cpu-prof): self time by package or
// source area, and the functions with the most self time.
//   npx tsx bench/profile-top.ts <file.cpuprofile> [top=25]
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: tsx bench/profile-top.ts <file.cpuprofile> [top]');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
const samples = profile.samples ?? [];
const deltas = profile.timeDeltas ?? [];
for (let i = 0; i < samples.length; i++) {
  // timeDeltas[i] is the time before sample i; attribute the following gap to sample i.
  const dt = deltas[i + 1] ?? 0;
  const id = samples[i]!;
  selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, dt));
}

/** Package or area a script belongs to. */
function areaOf(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native/builtin)';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm !== -1) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const src = url.indexOf('/src/');
  if (src !== -1) return `src/${url.slice(src + 5).split('/').slice(0, -1).join('/') || '.'}`;
  return url;
}

const areas = new Map<string, number>();
const funcs = new Map<string, number>();
let total = 0;
for (const [id, us] of selfUs) {
  const n = byId.get(id);
  if (!n) continue;
  total += us;
  const { functionName, url, lineNumber } = n.callFrame;
  const area = areaOf(url, functionName);
  areas.set(area, (areas.get(area) ?? 0) + us);
  const short = url ? url.replace(/^.*\/(node_modules|src)\//, '$1/') : '';
  const key = `${functionName || '(anonymous)'}  ${short}${url ? `:${lineNumber + 1}` : ''}`;
  funcs.set(key, (funcs.get(key) ?? 0) + us);
}

// Inclusive time: each sample counts once for every function on its stack.
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const inclusive = new Map<string, number>();
for (const [id, us] of selfUs) {
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const n = byId.get(cur);
    if (!n?.callFrame.url) continue;
    const short = n.callFrame.url.replace(/^.*\/(node_modules|src)\//, '$1/');
    const key = `${n.callFrame.functionName || '(anonymous)'}  ${short}:${n.callFrame.lineNumber + 1}`;
    if (seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + us);
  }
}

const pct = (us: number): string => `${((100 * us) / total).toFixed(1).padStart(5)} %`;
const ms = (us: number): string => `${(us / 1000).toFixed(0).padStart(7)} ms`;
const wall = (profile.endTime - profile.startTime) / 1000;
console.log(`${file}: ${(total / 1000).toFixed(0)} ms sampled over ${wall.toFixed(0)} ms wall`);
console.log('\nself time by area:');
for (const [a, us] of [...areas].sort((x, y) => y[1] - x[1]).slice(0, top)) console.log(`${ms(us)} ${pct(us)}  ${a}`);
console.log(`\ntop ${top} functions by self time:`);
for (const [f, us] of [...funcs].sort((x, y) => y[1] - x[1]).slice(0, top)) console.log(`${ms(us)} ${pct(us)}  ${f}`);
const filter = process.env.PROFILE_FILTER ? new RegExp(process.env.PROFILE_FILTER) : undefined;
console.log(`\ntop ${top} functions by inclusive time${filter ? ` matching ${filter}` : ''}:`);
for (const [f, us] of [...inclusive].filter(([f]) => !filter || filter.test(f)).sort((x, y) => y[1] - x[1]).slice(0, top)) {
  console.log(`${ms(us)} ${pct(us)}  ${f}`);
}
