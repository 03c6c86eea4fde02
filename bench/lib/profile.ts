/**
 * Where the stack's thread spends its CPU while it is saturated: a V8 CPU profile of this thread
 * (node:inspector, sampling), each sample put in the category of the innermost frame that belongs
 * to a known part (a sample in JSON.parse called by dynalite counts as dynalite).
 */
import { Session } from 'node:inspector/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const CATEGORIES: [RegExp, string][] = [
  [/node_modules\/(dynalite|classic-level|abstract-level|level|level-transcoder|memory-level|lazy|big\.js|async|module-error|maybe-combine-errors)\//, 'storage server (dynalite, LevelDB)'],
  [/node_modules\/(@smithy|@aws-sdk|@aws-crypto|bowser|fast-xml-parser)\//, 'storage client (AWS SDK: marshalling, signing, HTTP)'],
  [/node_modules\/(aws-local-stepfunctions|jsonpath-plus|lodash|p-limit|ajv)/, 'orchestration (aws-local-stepfunctions)'],
  [/\/lib\/domain\/|node_modules\/zod\//, 'domain (decide, allocation, zod)'],
  [/\/(functions|workflows)\/|\/lib\/(runtime|adapters|metrics)\//, 'step and API handlers, adapters'],
  [/\/lib\/(api|local)\/|node_modules\/(jose|@middy)\//, 'gateway, auth, API kit'],
];
/** The bench's own wrappers (around storage requests and steps) are looked through, to what they wrap. */
const TRANSPARENT = /\/bench\//;

export interface CpuBreakdown {
  /** Sampled time the thread was not idle. */
  busyMs: number;
  idleShare: number;
  /** Shares of the busy time. */
  shares: Record<string, number>;
}

function categorize(profile: Profile): CpuBreakdown {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const time = new Map<number, number>();
  profile.samples.forEach((id, i) => time.set(id, (time.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const totals: Record<string, number> = {};
  let all = 0;
  let idle = 0;
  for (const [id, us] of time) {
    const node = byId.get(id) as ProfileNode;
    const name = node.callFrame.functionName;
    let label: string | undefined;
    if (name === '(garbage collector)') label = 'garbage collection';
    else if (name === '(idle)') label = 'idle';
    else if (name === '(program)') label = 'V8 / native (unattributed)';
    for (let at: number | undefined = id; !label && at !== undefined; at = parent.get(at)) {
      const url = (byId.get(at) as ProfileNode).callFrame.url;
      if (!TRANSPARENT.test(url)) label = CATEGORIES.find(([re]) => re.test(url))?.[1];
    }
    label ??= 'Node internals (HTTP server and client, streams, timers)';
    if (label === 'idle') {
      idle += us;
      continue;
    }
    totals[label] = (totals[label] ?? 0) + us;
    all += us;
  }
  return {
    busyMs: all / 1000,
    idleShare: idle / Math.max(1, all + idle),
    shares: Object.fromEntries(Object.entries(totals).sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, v / all])),
  };
}

/** Profile this thread while `work` runs. */
export async function profileWhile<T>(work: () => Promise<T>): Promise<{ result: T; cpu: CpuBreakdown }> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 500 });
    await session.post('Profiler.start');
    const result = await work();
    const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: Profile };
    return { result, cpu: categorize(profile) };
  } finally {
    session.disconnect();
  }
}
