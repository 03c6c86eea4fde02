/**
 * The load: concurrent clients, each driving whole plan lifecycles over real HTTP, one command at a
 * time, the way a coordinator and the providers would:
 *
 *   refer → record-consent → submit-assessment → each provider accepts its offer (→ activate, when a
 *   priority need found no provider) → two contacts → record-review → exit
 *
 * It runs in a worker thread (bench/lib/client-worker.ts), so the stack's event loop serves requests
 * and nothing else. Only commands are sent (no reads): every figure is per command.
 */

export interface ClientsJob {
  url: string;
  coordinator: string;
  providers: Record<string, string>;
  clients: number;
  /** Clients start no new lifecycle after this long; each finishes the one it is in. */
  durationMs: number;
  /** Stop after this many lifecycles per client instead (for the cost run). */
  lifecyclesPerClient?: number;
  /** Makes participants and idempotency keys unique across runs on one stack. */
  runId: string;
  /** Unique per run too: participants' names are built from it. */
  runNumber: number;
  /**
   * Instead of lifecycles, each client sends GET to this path (no token) again and again until the
   * deadline: the HTTP limit, what the clients and the gateway cost with no command behind them. A path
   * no route has, answered 404 by the gateway itself: /health reads the store once since b95de39.
   */
  probePath?: string;
}

export interface ClientsResult {
  clients: number;
  /** The measuring window: from the first command to the deadline (or to the last command, without one). */
  elapsedMs: number;
  /** Commands completed inside the window. */
  commands: number;
  lifecycles: number;
  /** Latency of every command completed inside the window, ms, by command name. */
  latencies: Record<string, number[]>;
  /** Every command sent, the ones closing plans after the deadline included (storage counters cover them all). */
  allCommands: number;
  allLatencySumMs: number;
  /** Lifecycles that needed a manual activation (a priority need with no provider). */
  activations: number;
  errors: string[];
}

const LONDON = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit' });
const today = () => LONDON.format(new Date());

/** Needs and areas the seed directory covers, so most plans find providers (some do not: then activate). */
const AREAS = ['birmingham', 'sandwell', 'walsall', 'coventry', 'dudley', 'wolverhampton', 'solihull'] as const;
const NEEDS = ['mental-health', 'accommodation', 'substance-misuse', 'domestic-abuse', 'finance-benefit-debt', 'trauma', 'alcohol', 'education-training-employment'] as const;
const SOURCES = ['custody-diversion', 'out-of-court-disposal', 'probation', 'court', 'self', 'other-agency'] as const;

type Json = Record<string, unknown>;

/** Letters only: the duplicate-referral check compares names with everything but letters taken out. */
const letters = (n: number, width = 4) => Array.from({ length: width }, (_, i) => String.fromCharCode(97 + (Math.floor(n / 26 ** (width - 1 - i)) % 26))).join('');

class CommandFailed extends Error {}

class Stop extends Error {}

export async function runClients(job: ClientsJob): Promise<ClientsResult> {
  if (job.probePath) return runProbe(job, job.probePath);
  const latencies: Record<string, number[]> = {};
  const errors: string[] = [];
  let commands = 0;
  let allCommands = 0;
  let allLatencySumMs = 0;
  let lifecycles = 0;
  let activations = 0;
  const started = performance.now();
  const timed = job.lifecyclesPerClient === undefined;
  const deadline = started + job.durationMs;
  const pastDeadline = () => timed && performance.now() >= deadline;

  async function send(name: string, path: string, token: string, body: unknown, headers: Record<string, string> = {}): Promise<Json> {
    const t = performance.now();
    const response = await fetch(`${job.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    const done = performance.now();
    allCommands += 1;
    allLatencySumMs += done - t;
    if (!timed || done <= deadline) {
      commands += 1;
      (latencies[name] ??= []).push(done - t);
    }
    if (response.status >= 300) {
      if (errors.length < 20) errors.push(`${name} ${path}: ${response.status} ${text.slice(0, 300)}`);
      throw new CommandFailed(name);
    }
    return JSON.parse(text) as Json;
  }

  async function lifecycle(client: number, n: number) {
    const seed = client * 7919 + n * 104729;
    const area = AREAS[seed % AREAS.length] as string;
    const needCount = 1 + (seed % 3);
    const needs = Array.from({ length: needCount }, (_, i) => NEEDS[(seed + i * 3) % NEEDS.length] as string).filter((d, i, all) => all.indexOf(d) === i);
    const coordinator = job.coordinator;
    let planId: string | undefined;
    let stage = 'none';
    // Past the deadline a client stops where it is and closes its plan, so no plan keeps places on services.
    const checkpoint = () => {
      if (pastDeadline()) throw new Stop();
    };
    try {
      const created = await send(
        'refer',
        '/plans',
        coordinator,
        {
          // Given and family names both unique per referral: the dates of birth repeat, and a shared given name
          // with the same date of birth is a near match the referral would be warned of (a possible duplicate).
          participant: { givenName: `Bench${letters(job.runNumber)}${letters(client)}${letters(n)}`, familyName: `Bench${letters(job.runNumber)}${letters(client)}${letters(n)}`, dateOfBirth: `19${70 + (n % 30)}-0${1 + (client % 9)}-1${n % 10}` },
          referral: { source: SOURCES[seed % SOURCES.length], localAuthority: area, urgency: 'routine' },
        },
        { 'idempotency-key': `bench-${job.runId}-${client}-${n}` },
      );
      planId = String(created.planId);
      stage = 'referred';
      checkpoint();
      await send('record-consent', `/plans/${planId}/record-consent`, coordinator, { scope: { shareWithProviders: true, dataCategories: ['needs'] }, givenAt: today(), method: 'written' });
      stage = 'assessment';
      checkpoint();
      const assessed = await send('submit-assessment', `/plans/${planId}/submit-assessment`, coordinator, {
        needs: needs.map((domain, i) => ({ domain, level: i === 0 ? 'high' : 'medium', priority: i === 0, goals: ['Agreed at assessment'] })),
      });
      stage = 'allocating';
      const offers = (assessed.allocations as Json[]).filter((a) => a.status === 'offered');
      for (const offer of offers) {
        checkpoint();
        const token = job.providers[String(offer.providerId)] as string;
        await send('accept-offer', `/allocations/${String(offer.allocationId)}/accept`, token, {});
      }
      // Active once every priority need has an accepted allocation; otherwise start with the gap recorded.
      const held = new Set(offers.flatMap((o) => o.needs as string[]));
      if (!held.has(needs[0] as string)) {
        checkpoint();
        activations += 1;
        await send('activate', `/plans/${planId}/activate`, coordinator, { reason: 'Starting with what is in place.' });
      }
      stage = 'active';
      const first = offers[0];
      if (first) {
        const token = job.providers[String(first.providerId)] as string;
        for (let i = 0; i < 2; i += 1) {
          checkpoint();
          await send('record-contact', `/allocations/${String(first.allocationId)}/record-contact`, token, { date: today(), kind: 'attended' });
        }
      }
      checkpoint();
      await send('record-review', `/plans/${planId}/record-review`, coordinator, { scores: Object.fromEntries(needs.map((d) => [d, 5])), outcome: 'continue', participantWords: 'Getting there.' });
      checkpoint();
      await send('exit', `/plans/${planId}/exit`, coordinator, { reason: 'completed' });
      stage = 'exited';
      lifecycles += 1;
    } catch (error) {
      if (!(error instanceof Stop)) throw error;
      if (planId && stage === 'referred') await send('withdraw', `/plans/${planId}/withdraw`, coordinator, { reason: 'other' });
      else if (planId) await send('exit', `/plans/${planId}/exit`, coordinator, { reason: 'other' });
      throw error;
    }
  }

  await Promise.all(
    Array.from({ length: job.clients }, async (_, client) => {
      for (let n = 0; ; n += 1) {
        if (timed ? pastDeadline() : n >= (job.lifecyclesPerClient as number)) return;
        try {
          await lifecycle(client, n);
        } catch (error) {
          if (error instanceof Stop) return;
          if (!(error instanceof CommandFailed)) {
            if (errors.length < 20) errors.push(`client ${client}: ${(error as Error).message}`);
            return;
          }
        }
      }
    }),
  );
  const elapsedMs = timed ? job.durationMs : performance.now() - started;
  return { clients: job.clients, elapsedMs, commands, lifecycles, latencies, allCommands, allLatencySumMs, activations, errors };
}

/** The HTTP limit (see ClientsJob.probePath): latencies under the name 'probe'. */
async function runProbe(job: ClientsJob, path: string): Promise<ClientsResult> {
  const latencies: number[] = [];
  const errors: string[] = [];
  const deadline = performance.now() + job.durationMs;
  await Promise.all(
    Array.from({ length: job.clients }, async () => {
      while (performance.now() < deadline) {
        const t = performance.now();
        const response = await fetch(`${job.url}${path}`);
        await response.text();
        latencies.push(performance.now() - t);
        // The probe's path has no route: the gateway's own 404 is the answer expected.
        if (response.status !== 404 && errors.length < 20) errors.push(`GET ${path}: ${response.status}, not the gateway's 404`);
      }
    }),
  );
  const sum = latencies.reduce((a, b) => a + b, 0);
  return { clients: job.clients, elapsedMs: job.durationMs, commands: latencies.length, lifecycles: 0, latencies: { probe: latencies }, allCommands: latencies.length, allLatencySumMs: sum, activations: 0, errors };
}
