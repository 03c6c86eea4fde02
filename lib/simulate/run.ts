import { startEmbeddedStack, type EmbeddedStack } from '../local/embedded-stack.ts';
import { LocalTokens } from '../local/tokens.ts';
import type { NeedDomain } from '../domain/taxonomy.ts';
import { PlanAgent, type PlanJson, type ServiceInfo, type Tokens, type World } from './agent.ts';
import { SimCalendar } from './calendar.ts';
import { pool, SimulationClient, type ApiError } from './client.ts';
import { drawPersona, OUT_OF_AREA } from './persona.ts';
import { Rng } from './prng.ts';
import { buildOutcome, runFigures, type SimulationSummary } from './summary.ts';

/**
 * `wraparound simulate`: a discrete-event simulation of a cohort, driven through the real HTTP API
 * and workflow. Each plan is an agent with a scripted future (when she is referred, how quickly she
 * consents, which needs she has, how she engages, how and when she leaves); the simulated clock moves
 * one day at a time (the stack sweeps every 6 simulated hours on the way, so offers expire, reviews
 * go overdue and escalations fire as they would), and each day's actions go over HTTP:
 *
 *   1. providers read their open offers and accept or decline the ones they have got to
 *      (accepts at once, declines one at a time: a decline re-allocates);
 *   2. plans whose step cannot change what services hold (consent, sessions, ordinary reviews,
 *      follow-ups) act concurrently, at most `concurrency` at once;
 *   3. plans whose step can (assessments, manual offers, adjusting reviews, exits) act one at a
 *      time in plan order, so the allocation engine sees the same loads on every run.
 *
 * Reproducible: the same seed, started on the same date, sends the same requests in the same order
 * wherever order matters, so the outcome is the same. (The stack's simulated clock starts at the wall
 * time; the run first moves it to the next Monday 09:00 UTC, so weekdays line up; a run started in
 * another week can meet different bank holidays.)
 */

export interface SimulationOptions {
  plans: number;
  /** Simulated span in months (default 18). */
  months?: number;
  seed?: string | number;
  /** Drive a running stack (started with --clock simulated) instead of starting one. */
  url?: string;
  /** For the embedded stack (or, with url, where `wraparound token` finds the signing secret). */
  dataDir?: string;
  inMemory?: boolean;
  /** Plans acting at once (default 8). */
  concurrency?: number;
  /** Simulated hours between sweeps while the clock moves a day (default 6). */
  stepHours?: number;
  /**
   * The first simulated day (YYYY-MM-DD; the clock is moved to 09:00 UTC that day, so it must not be
   * behind the stack's clock). Default: the next Monday. The same seed and start give the same outcome.
   */
  start?: string;
  /** Tokens for a stack started in this process (its demo users); otherwise found or minted. */
  users?: readonly { role: string; providerId?: string; token: string }[];
  onProgress?: (progress: SimulationProgress) => void;
  /** Loud messages (5xx): default stderr. */
  warn?: (message: string) => void;
}

export interface SimulationProgress {
  day: number;
  days: number;
  date: string;
  referred: number;
  plans: number;
  commands: number;
  commandsPerSecond: number;
}

const PROVIDER_BEHAVIOUR: Record<string, { accept: number; decline: number; ignore: number }> = {
  anawim: { accept: 74, decline: 12, ignore: 14 },
  bcwa: { accept: 68, decline: 18, ignore: 14 },
  'changing-lives': { accept: 70, decline: 13, ignore: 17 },
  'green-square-accord': { accept: 66, decline: 12, ignore: 22 },
};
const DEFAULT_BEHAVIOUR = { accept: 70, decline: 14, ignore: 16 };

interface OfferJson {
  allocationId: string;
  planRef: string;
  status: string;
  respondBy?: string;
  needs?: { domain: string; level?: string }[];
}

interface HsdsPage {
  contents: { x_service_id: string; status: string; organization: { x_provider_id: string }; service_areas: { x_local_authority: string }[]; attributes: { taxonomy_term: { code: string } }[]; x_capacity: { available: number } }[];
  last_page: boolean;
}

/** A run that cannot start: bad options, or a stack that cannot be driven (said plainly, no stack trace). */
export class SimulationSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SimulationSetupError';
  }
}

/** The first Monday 09:00 UTC at or after an instant. */
export function nextMondayMorning(now: string): string {
  const at = new Date(now);
  const candidate = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate(), 9));
  while (candidate.getUTCDay() !== 1 || candidate.getTime() < at.getTime()) candidate.setUTCDate(candidate.getUTCDate() + 1);
  return candidate.toISOString();
}

export async function runSimulation(options: SimulationOptions): Promise<SimulationSummary> {
  const started = performance.now();
  const plans = options.plans;
  if (!Number.isInteger(plans) || plans < 1) throw new SimulationSetupError('plans must be a whole number of at least 1');
  const months = options.months ?? 18;
  if (!(months > 0 && months <= 60)) throw new SimulationSetupError('months must be more than 0 and at most 60');
  const seed = String(options.seed ?? 1);
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 8));
  const warn = options.warn ?? ((m: string) => console.error(m));
  const totalDays = Math.round((months * 365.25) / 12);
  const stepHours = options.stepHours ?? 6;
  if (!(stepHours >= 0.25 && stepHours <= 24)) throw new SimulationSetupError('stepHours must be from 0.25 to 24');

  let stack: EmbeddedStack | undefined;
  if (!options.url)
    stack = await startEmbeddedStack({
      ...(options.inMemory ? { inMemory: true } : { dataDir: options.dataDir ?? './.data' }),
      port: 0,
      clockMode: 'simulated',
      sweepIntervalMs: 0,
      webDistDir: false,
    });
  const url = options.url ?? (stack as EmbeddedStack).url;
  const clientErrors: Record<string, number> = {};
  const samples: ApiError[] = [];
  let serverErrors = 0;
  const client = new SimulationClient(url, {
    onClientError(e) {
      const key = `${e.label} ${e.status}`;
      clientErrors[key] = (clientErrors[key] ?? 0) + 1;
      if (samples.length < 20) samples.push(e);
    },
    onServerError(e) {
      serverErrors += 1;
      if (samples.length < 20) samples.push(e);
      warn(`\nSERVER ERROR ${e.status || '(no answer)'} on ${e.method} ${e.path} (${e.label}): ${e.detail}`);
    },
  });

  try {
    if (options.url) {
      const health = await fetch(`${client.baseUrl}/health`).then((r) => r.status, (e: Error) => e.message);
      if (health !== 200) throw new SimulationSetupError(`nothing answers at ${url}/health (${health}): start a stack with npm start -- --clock simulated`);
    }
    const tokens = await tokensFor(client, stack, options);
    const clock = await client.get<{ now: string; kind: string }>('/_local/clock', tokens.coordinator);
    if (!clock.ok) throw new SimulationSetupError(`cannot read the stack's clock at ${url}/_local/clock (${clock.status}): is it a Wraparound embedded stack?`);
    if (clock.json.kind !== 'simulated') throw new SimulationSetupError(`the stack at ${url} runs on the system clock: start it with --clock simulated`);
    const start = options.start ? `${options.start}T09:00:00.000Z` : nextMondayMorning(clock.json.now);
    if (Number.isNaN(Date.parse(start))) throw new SimulationSetupError(`start must be a date YYYY-MM-DD, not "${options.start}"`);
    if (start < clock.json.now) throw new SimulationSetupError(`start ${options.start} is behind the stack's clock (${clock.json.now}): the clock only moves forward`);
    const minutes = (Date.parse(start) - Date.parse(clock.json.now)) / 60_000;
    if (minutes > 0) await client.advance(tokens.coordinator, { minutes, stepHours });
    const calendar = new SimCalendar(start.slice(0, 10));
    const runTag = `${seed.replace(/[^\x21-\x7e]/g, '_').slice(0, 40)}-${calendar.startDate}`;

    const services = await directory(client);
    const choices: Record<string, number> = {};
    const world: World = {
      client,
      calendar,
      tokens,
      seed,
      runTag,
      tally: (what) => void (choices[what] = (choices[what] ?? 0) + 1),
      async servicesWithRoom(domain: NeedDomain) {
        return (await directory(client, domain)).filter((s) => s.available > 0);
      },
    };
    const agents = Array.from({ length: plans }, (_, i) => new PlanAgent(drawPersona(seed, i, totalDays), seed, runTag));
    const byPlanId = () => new Map(agents.filter((a) => a.planId).map((a) => [a.planId as string, a]));
    const firstSeen = new Map<string, number>();
    const providerIds = [...new Set(services.map((s) => s.providerId))].sort();

    let answeredYesterday = false;
    const setupMs = performance.now() - started;
    const simulateStart = performance.now();
    for (let day = 0; day < totalDays; day += 1) {
      if (day > 0) await client.advance(tokens.coordinator, { days: 1, stepHours });
      // Offers can be open only for plans allocating, plans whose last view showed one, or plans a
      // provider answered yesterday (a decline re-offers): otherwise providers have nothing to read.
      if (answeredYesterday || agents.some((a) => a.mayHaveOpenOffers())) answeredYesterday = await providersAnswer(world, day, providerIds, byPlanId(), firstSeen);
      const due = agents.filter((a) => !a.done && a.wake <= day);
      const together = due.filter((a) => !a.changesCapacity(day));
      const oneByOne = due.filter((a) => a.changesCapacity(day));
      await pool(together, concurrency, (a) => a.act(world, day));
      for (const a of oneByOne) await a.act(world, day);
      const elapsed = (performance.now() - simulateStart) / 1000;
      options.onProgress?.({
        day: day + 1,
        days: totalDays,
        date: calendar.date(day),
        referred: agents.filter((a) => a.planId).length,
        plans,
        commands: client.counters.commands,
        commandsPerSecond: Math.round(client.counters.commands / Math.max(0.001, elapsed)),
      });
    }
    const simulateMs = performance.now() - simulateStart;

    // Read every plan back as a team lead (no identity needed): the summary is what the API holds.
    const created = agents.filter((a) => a.planId);
    const finals = await pool(created, concurrency, async (a) => (await client.get<PlanJson>(`/plans/${a.planId}`, tokens.teamLead, 'GET /plans/{id}')).json);
    const outcome = buildOutcome({
      plans: finals.filter((p): p is PlanJson => Boolean(p?.planId)),
      requested: plans,
      stuck: agents.filter((a) => a.stage === 'stuck').length,
      period: { from: calendar.startDate, to: calendar.date(totalDays - 1), days: totalDays },
      outOfArea: new Set(OUT_OF_AREA),
    });
    const elapsedMs = performance.now() - started;
    return {
      seed,
      url,
      outcome,
      errors: { client: Object.fromEntries(Object.entries(clientErrors).sort()), server: serverErrors, samples },
      run: runFigures(client.counters, { setupMs: Math.round(setupMs), simulateMs: Math.round(simulateMs), elapsedMs: Math.round(elapsedMs) }, choices, client.timings),
    };
  } finally {
    await stack?.stop();
  }
}

/**
 * Providers work their open offers on working days: each offer is accepted, declined with a coded
 * reason, or left unanswered (it then expires after its 2 working days and goes to the next
 * candidate). Whether and when is drawn from the offer's own stream (plan and offer number).
 */
async function providersAnswer(w: World, day: number, providerIds: string[], agents: Map<string, PlanAgent>, firstSeen: Map<string, number>): Promise<boolean> {
  // Providers look at their offers on working days only: one made on a Friday afternoon is seen on Monday.
  if (!w.calendar.isWorkingDay(day)) return false;
  const lists = await Promise.all(providerIds.map(async (providerId) => ({ providerId, offers: (await w.client.get<{ items: OfferJson[] }>(`/providers/${providerId}/offers`, w.tokens.provider(providerId), 'GET /providers/{id}/offers')).json?.items ?? [] })));
  const accepts = new Map<string, (() => Promise<unknown>)[]>();
  const answered = new Set<string>();
  const declines: { allocationId: string; run: () => Promise<unknown> }[] = [];
  for (const { providerId, offers } of lists) {
    for (const offer of offers) {
      const agent = agents.get(offer.planRef);
      if (!agent || offer.status !== 'offered') continue;
      if (!firstSeen.has(offer.allocationId)) firstSeen.set(offer.allocationId, day);
      const seen = firstSeen.get(offer.allocationId) as number;
      const rng = Rng.for(w.seed, 'offer', agent.p.index, offer.allocationId.split('_').at(-1) ?? '');
      const behaviour = PROVIDER_BEHAVIOUR[providerId] ?? DEFAULT_BEHAVIOUR;
      const answer = rng.weighted(behaviour);
      const waits = rng.chance(0.45);
      if (answer === 'ignore') continue;
      // Answer on the first working day it is seen, or the next, never past its deadline.
      const hoursLeft = offer.respondBy ? (Date.parse(offer.respondBy) - Date.parse(`${w.calendar.date(day)}T09:00:00Z`)) / 3_600_000 : 0;
      const answerDay = waits && hoursLeft > 30 ? w.calendar.addWorkingDays(seen, 1) : w.calendar.onOrAfter(seen);
      if (day < answerDay) continue;
      answered.add(offer.planRef);
      const key = `sim-${w.runTag}-offer-${offer.allocationId}-${answer}`;
      const token = w.tokens.provider(providerId);
      const stillOffered = async () => {
        const got = await w.client.get<{ status: string }>(`/allocations/${offer.allocationId}`, token, 'GET /allocations/{id}');
        return got.ok && got.json.status === 'offered';
      };
      if (answer === 'accept') {
        const forPlan = accepts.get(offer.planRef) ?? [];
        forPlan.push(() => w.client.post('accept', `/allocations/${offer.allocationId}/accept`, token, {}, key, stillOffered));
        accepts.set(offer.planRef, forPlan);
      } else {
        const heavy = (offer.needs ?? []).some((n) => n.level === 'high' && ['domestic-abuse', 'sexual-exploitation', 'substance-misuse'].includes(n.domain));
        const reason = rng.weighted({ capacity: 35, eligibility: 12, risk: heavy ? 30 : 8, location: 15, other: 10 });
        const body = { reason, ...(reason === 'other' ? { note: rng.pick(['Worker on leave.', 'Already working with her through another route.', 'Not the right service for her.']) } : {}) };
        declines.push({ allocationId: offer.allocationId, run: () => w.client.post('decline', `/allocations/${offer.allocationId}/decline`, token, body, key, stillOffered) });
      }
    }
  }
  // Accepts of different plans at once; two of the same plan one after the other (they would only collide).
  await pool([...accepts.values()], 8, async (runs) => {
    for (const run of runs) await run();
  });
  for (const d of declines.sort((a, b) => a.allocationId.localeCompare(b.allocationId))) await d.run();
  // The answered plans changed under their coordinators: their agents read them again.
  await pool([...answered].sort(), 8, async (planId) => agents.get(planId)?.reload(w));
  return answered.size > 0;
}

async function directory(client: SimulationClient, domain?: NeedDomain): Promise<(ServiceInfo & { available: number })[]> {
  const out: (ServiceInfo & { available: number })[] = [];
  for (let page = 1; ; page += 1) {
    const query = `per_page=100&page=${page}${domain ? `&taxonomy_term_id=${domain}` : ''}`;
    const got = await client.get<HsdsPage>(`/directory/services?${query}`, undefined, 'GET /directory/services');
    if (!got.ok) throw new SimulationSetupError(`cannot read the provider directory (${got.status})`);
    for (const s of got.json.contents)
      out.push({
        serviceId: s.x_service_id,
        providerId: s.organization.x_provider_id,
        needDomains: s.attributes.map((a) => a.taxonomy_term.code),
        areas: s.service_areas.map((a) => a.x_local_authority),
        available: s.status === 'active' ? s.x_capacity.available : 0,
      });
    if (got.json.last_page || got.json.contents.length === 0) return out;
  }
}

/** Tokens: the embedded stack's demo users; for a running stack, its demo-users route or the data dir's secret. */
async function tokensFor(client: SimulationClient, stack: EmbeddedStack | undefined, options: SimulationOptions): Promise<Tokens> {
  type User = { role: string; providerId?: string; token: string };
  let users: readonly User[] | undefined = options.users ?? stack?.demoUsers;
  if (!users) {
    // Offered to this machine only, and only by stacks that have the route: not having it is no error.
    try {
      const response = await fetch(`${client.baseUrl}/_local/demo-users`, { headers: { accept: 'application/json' } });
      const body = response.ok ? ((await response.json()) as { items?: unknown }) : undefined;
      if (Array.isArray(body?.items)) users = body.items as User[];
    } catch {
      // no such route: mint tokens below
    }
  }
  if (users) {
    const found = users;
    const of = (role: string, providerId?: string) => {
      const user = found.find((u) => u.role === role && (providerId === undefined || u.providerId === providerId));
      if (!user) throw new Error(`no demo user for ${role}${providerId ? ` ${providerId}` : ''}`);
      return user.token;
    };
    return { coordinator: of('coordinator'), teamLead: of('team-lead'), provider: (id) => of('provider', id) };
  }
  const local = await LocalTokens.forDataDir(options.dataDir ?? './.data');
  const providerTokens = new Map<string, string>();
  const [coordinator, teamLead] = await Promise.all([local.issue({ role: 'coordinator', sub: 'simulator-coordinator', name: 'Simulator' }), local.issue({ role: 'team-lead', sub: 'simulator-team-lead', name: 'Simulator' })]);
  for (const s of await directory(client)) {
    if (!providerTokens.has(s.providerId)) providerTokens.set(s.providerId, await local.issue({ role: 'provider', providerId: s.providerId, sub: `simulator-${s.providerId}`, name: `Simulator (${s.providerId})` }));
  }
  return {
    coordinator,
    teamLead,
    provider: (id) => {
      const token = providerTokens.get(id);
      if (!token) throw new Error(`no token for provider ${id}`);
      return token;
    },
  };
}
