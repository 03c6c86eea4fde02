/**
 * Synthetic plans for the metrics and memory benchmarks, built with the pure domain only: every plan
 * is driven through decide() and allocatePlan() with an injected clock, exactly as the PlanCommand
 * steps would drive it, but with no API, no workflow and no store. Timers fire when their deadline
 * falls due (as the sweeper would send them), the outbox is emptied after each command (as Publish
 * events would), and a plan stops wherever "now" finds it, so the cohort holds plans in every stage.
 *
 * Directory load is ignored (every service has room): capacity is not what these benchmarks measure.
 */
import { randomUUID } from 'node:crypto';
import { allocatePlan } from '../lib/domain/allocate-plan.ts';
import { addDays, addMonths, londonDate } from '../lib/domain/calendar.ts';
import { decide, type Command, type CommandActor, type DecideContext } from '../lib/domain/decide.ts';
import type { Directory } from '../lib/domain/directory.ts';
import { isAllowedIn, type CommandName } from '../lib/domain/lifecycle.ts';
import { DEFAULT_POLICY } from '../lib/domain/policy.ts';
import type { Plan } from '../lib/domain/schemas.ts';
import type { NeedDomain } from '../lib/domain/taxonomy.ts';
import { englandAndWalesCalendar } from '../lib/adapters/holidays.ts';
import { seedDirectory } from '../lib/directory/load.ts';

const DAY = 86_400_000;

export function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)] as T;
  const weighted = <T>(pairs: readonly (readonly [T, number])[]) => {
    let r = next() * pairs.reduce((s, [, w]) => s + w, 0);
    for (const [value, w] of pairs) if ((r -= w) < 0) return value;
    return (pairs.at(-1) as readonly [T, number])[0];
  };
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(next() * 16).toString(16)).join('');
  return { next, int, pick, weighted, hex };
}
export type Rng = ReturnType<typeof rng>;

const NEEDS: readonly (readonly [NeedDomain, number])[] = [
  ['mental-health', 6],
  ['substance-misuse', 4],
  ['accommodation', 4],
  ['domestic-abuse', 3],
  ['finance-benefit-debt', 2.5],
  ['alcohol', 2],
  ['trauma', 2],
  ['children-families', 1.5],
  ['thinking-behaviour', 1],
  ['education-training-employment', 1],
  ['emotional-resilience', 1],
  ['physical-health', 0.5],
];
const LAS = [
  ['birmingham', 8],
  ['sandwell', 4],
  ['walsall', 3],
  ['coventry', 2.5],
  ['wolverhampton', 2.5],
  ['dudley', 2],
  ['solihull', 1.5],
  ['staffordshire', 0.7],
  ['warwickshire', 0.3],
] as const;
const SOURCES = [
  ['custody-diversion', 4],
  ['out-of-court-disposal', 2],
  ['probation', 2],
  ['court', 1],
  ['problem-solving-court', 1],
  ['self', 1],
  ['other-agency', 1],
] as const;
const EXIT_REASONS = [
  ['completed', 8],
  ['disengaged', 2.5],
  ['transferred', 1],
  ['moved-away', 1],
  ['custody', 1.5],
  ['other', 0.7],
] as const;

export interface SyntheticOptions {
  /** Where the simulation stops: plans are left in whatever stage this instant finds them. */
  now: string;
  /** Referrals are spread over this many days before `now`. */
  spanDays: number;
  seed: number;
  directory?: Directory;
}

class Done extends Error {}

/** One plan's life, from referral to wherever `now` finds it. */
function simulate(index: number, r: Rng, options: SyntheticOptions, directory: Directory, calendar: ReturnType<typeof englandAndWalesCalendar>): Plan {
  const end = Date.parse(options.now);
  const planId = `pl_${r.hex(24)}`;
  const coordinator: CommandActor = { role: 'coordinator', sub: 'bench-coordinator' };
  const timer: CommandActor = { role: 'timer', sub: 'timer' };
  let plan: Plan | undefined;
  let at = end - Math.floor(r.next() * options.spanDays * DAY);
  // Office hours: 08:00-17:00 UTC on the referral day.
  at = Math.floor(at / DAY) * DAY + (8 + r.int(0, 8)) * 3600_000 + r.int(0, 3599) * 1000;
  if (at > end) at -= DAY;
  const iso = (ms: number) => new Date(ms).toISOString();
  const ctx = (now: string): DecideContext => ({ now, newEventId: randomUUID, policy: DEFAULT_POLICY, calendar, directory });

  const apply = (name: CommandName, nowMs: number, payload: unknown, actor: CommandActor, allocationId?: string) => {
    const now = iso(nowMs);
    const command: Command = { name, planId, payload, actor, ...(allocationId ? { allocationId } : {}) };
    let decision;
    try {
      decision = decide(plan, command, ctx(now));
    } catch (error) {
      // A provider answering after the offer expired is refused (a 409 over the API): nothing changes.
      if ((error as Error).name === 'NotAllowedInStage' && (name === 'accept-offer' || name === 'decline-offer')) return;
      throw error;
    }
    if (!decision.changed) return;
    let next = decision.plan;
    if (decision.needsAllocation) next = allocatePlan(next, ctx(now), {}).plan;
    next.outbox = [];
    plan = next;
  };
  /** Fire every deadline due by `untilMs`, in order, as the sweeper would (it runs every minute). */
  const fireTimers = (untilMs: number) => {
    for (let guard = 0; plan && guard < 400; guard += 1) {
      const current: Plan = plan;
      const due = current.deadlines.filter((d) => isAllowedIn(d.command, current.stage) && Date.parse(d.dueAt) <= untilMs).sort((a, b) => a.dueAt.localeCompare(b.dueAt))[0];
      if (!due) return;
      apply(due.command, Date.parse(due.dueAt) + 60_000, { deadlineId: due.deadlineId }, timer);
    }
  };
  /** Move to `ms` (timers on the way) and send a command, unless `now` comes first. */
  const act = (ms: number, name: CommandName, payload: unknown, actor: CommandActor = coordinator, allocationId?: string) => {
    if (ms > end) {
      fireTimers(end);
      throw new Done();
    }
    fireTimers(ms);
    at = ms;
    apply(name, ms, payload, actor, allocationId);
  };
  const later = (minDays: number, maxDays: number) => at + Math.floor((minDays + r.next() * (maxDays - minDays)) * DAY);
  const stage = () => (plan as Plan).stage;
  const providerActor = (providerId: string): CommandActor => ({ role: 'provider', sub: `bench-${providerId}`, providerId });

  try {
    const source = r.weighted(SOURCES);
    const localAuthority = r.weighted(LAS);
    act(at, 'refer', {
      participantId: `pt_${r.hex(20)}`,
      ageAtReferral: r.int(18, 64),
      referral: { source, localAuthority, urgency: r.next() < 0.2 ? 'urgent' : 'routine' },
      previousPlanIds: [],
    });
    const path = r.weighted([
      ['full', 86],
      ['withdraw', 6],
      ['exit-before-active', 4],
      ['consent-withdrawn', 4],
    ] as const);
    if (path === 'withdraw') {
      act(later(1, 12), 'withdraw', { reason: r.pick(['not-eligible', 'declined-support', 'unreachable'] as const) });
      return plan as Plan;
    }
    act(later(0.1, 6), 'record-consent', { scope: { shareWithProviders: r.next() > 0.05, dataCategories: ['needs'] }, givenAt: londonDate(iso(at)), method: r.pick(['written', 'verbal', 'digital'] as const) });
    const needs = new Map<NeedDomain, { domain: NeedDomain; level: string; priority: boolean; goals: string[] }>();
    const count = r.weighted([
      [1, 2],
      [2, 4],
      [3, 3],
      [4, 1.5],
      [5, 0.5],
    ] as const);
    while (needs.size < count) {
      const domain = r.weighted(NEEDS);
      if (!needs.has(domain)) needs.set(domain, { domain, level: r.pick(['low', 'medium', 'high']), priority: needs.size === 0 || r.next() < 0.35, goals: ['Goal agreed at assessment'] });
    }
    act(later(1, 12), 'submit-assessment', { needs: [...needs.values()] });
    if (path === 'exit-before-active') {
      act(later(1, 8), 'exit', { reason: r.pick(['disengaged', 'moved-away', 'custody'] as const) });
      return plan as Plan;
    }
    // Providers answer their offers: most accept, some decline, some let the offer expire.
    const answers = new Map<string, { action: 'accept' | 'decline' | 'ignore'; ms: number }>();
    for (let round = 0; stage() === 'allocating' && round < 12; round += 1) {
      const offered = (plan as Plan).allocations.filter((a) => a.status === 'offered');
      const assessedAt = Date.parse((plan as Plan).assessedAt ?? iso(at));
      if (offered.length === 0 || at - assessedAt > 16 * DAY) {
        act(later(0.5, 3), 'activate', { reason: 'Starting with what is in place; the gaps are recorded.' });
        break;
      }
      for (const a of offered) {
        if (!answers.has(a.allocationId)) {
          const action = r.weighted([
            ['accept', 7],
            ['decline', 1.6],
            ['ignore', 0.9],
          ] as const);
          answers.set(a.allocationId, { action, ms: Date.parse(a.offeredAt) + Math.floor(r.next() * 2.5 * DAY) });
        }
      }
      const next = offered
        .map((a) => ({ a, answer: answers.get(a.allocationId) as { action: string; ms: number } }))
        .filter((x) => x.answer.action !== 'ignore')
        .sort((x, y) => x.answer.ms - y.answer.ms)[0];
      if (!next) {
        // Nobody answers: the offers expire and the needs go to the next candidates.
        const expiry = Math.max(...offered.map((a) => Date.parse(a.respondBy))) + 3600_000;
        if (expiry > end) {
          fireTimers(end);
          throw new Done();
        }
        fireTimers(expiry);
        at = Math.max(at, expiry);
        continue;
      }
      const ms = Math.max(at, next.answer.ms);
      if (next.answer.action === 'accept') act(ms, 'accept-offer', {}, providerActor(next.a.providerId), next.a.allocationId);
      else act(ms, 'decline-offer', { reason: r.pick(['capacity', 'eligibility', 'location', 'other'] as const) }, providerActor(next.a.providerId), next.a.allocationId);
    }
    if (stage() !== 'active') {
      act(later(0.5, 3), 'activate', { reason: 'Starting with what is in place; the gaps are recorded.' });
    }
    // Active: sessions with providers, reviews on their cadence (some late), then exit.
    const reviewsPlanned = r.int(1, 8);
    const engagement = r.next();
    const withdrawAtReview = path === 'consent-withdrawn' ? r.int(0, reviewsPlanned - 1) : -1;
    for (let review = 0; review < reviewsPlanned && stage() === 'active'; review += 1) {
      const current = plan as Plan;
      const due = Date.parse(addDays(current.reviews.at(-1)?.recordedAt ?? current.activatedAt ?? iso(at), current.reviewEveryDays));
      const lateness = r.weighted([
        ['on-time', 7.5],
        ['late', 2],
        ['very-late', 0.5],
      ] as const);
      const reviewAt = lateness === 'on-time' ? due - Math.floor(r.next() * 2 * DAY) : due + (lateness === 'late' ? DEFAULT_POLICY.reviewGraceDays + r.int(1, 6) : r.int(14, 30)) * DAY;
      // Sessions before the review.
      for (let sessionAt = later(3, 9); sessionAt < reviewAt; sessionAt += Math.floor((4 + r.next() * 8) * DAY)) {
        const accepted = (plan as Plan).allocations.filter((a) => a.status === 'accepted');
        if (accepted.length === 0) break;
        const a = r.pick(accepted);
        const kind = r.next() < engagement * 0.9 + 0.1 ? 'attended' : r.pick(['missed', 'cancelled'] as const);
        act(sessionAt, 'record-contact', { date: londonDate(iso(sessionAt)), kind }, providerActor(a.providerId), a.allocationId);
      }
      if (review === withdrawAtReview) {
        act(later(0.5, 10), 'withdraw-consent', {});
        break;
      }
      const open = (plan as Plan).needs.filter((n) => n.status === 'open').map((n) => n.domain);
      const scores = Object.fromEntries(open.map((d) => [d, Math.min(10, Math.max(1, 3 + review + r.int(-2, 2)))]));
      const last = review === reviewsPlanned - 1;
      const exitHere = last && r.next() < 0.35;
      act(Math.max(at + 3600_000, reviewAt), 'record-review', {
        scores: Object.keys(scores).length > 0 ? scores : { [(plan as Plan).needs[0]?.domain ?? 'mental-health']: 5 },
        outcome: exitHere ? 'exit' : 'continue',
        ...(exitHere ? { exitReason: r.weighted(EXIT_REASONS) } : {}),
        participantWords: r.pick(['Feeling safer.', 'Things are better at home.', 'Hard month.', 'Getting there.']),
      });
      if (last && stage() === 'active') act(later(1, 14), 'exit', { reason: r.weighted(EXIT_REASONS) });
    }
    // Follow-ups at 6 and 12 months after exit (a few never recorded: their reminders escalate).
    const exitedAt = (plan as Plan).exit?.exitedAt;
    if (exitedAt && stage() === 'exited') {
      for (const month of [6, 12] as const) {
        if (r.next() < 0.08) break;
        const ms = Date.parse(addMonths(exitedAt, month)) + r.int(0, 20) * DAY + 3600_000;
        act(ms, 'record-follow-up', { month, reoffended: r.weighted([['no', 6], ['yes', 2.5], ['unknown', 1]] as const) });
      }
    }
    fireTimers(Math.min(end, at + 400 * DAY));
  } catch (error) {
    if (!(error instanceof Done)) throw new Error(`synthetic plan ${index}: ${(error as Error).message}`, { cause: error });
  }
  return plan as Plan;
}

/** `count` plans, reproducibly from the seed; plan i is the same whatever `count` is. */
export function* syntheticPlans(count: number, options: SyntheticOptions, first = 0): Generator<Plan> {
  const directory = options.directory ?? seedDirectory();
  const calendar = englandAndWalesCalendar();
  for (let i = first; i < first + count; i += 1) yield simulate(i, rng(options.seed * 1_000_003 + i), options, directory, calendar);
}

const ISO_INSTANT = /"(\d{4}-\d{2}-\d{2})(T\d{2}:\d{2}:\d{2}\.\d{3}Z)?"/g;

/** Every instant and calendar date in a plan's JSON moved by `days` (a whole number of weeks keeps weekdays). */
function shiftText(json: string, days: number): string {
  if (days === 0) return json;
  return json.replace(ISO_INSTANT, (_all, date: string, time: string | undefined) => {
    if (time) return `"${new Date(Date.parse(`${date}${time}`) + days * DAY).toISOString()}"`;
    return `"${new Date(Date.parse(`${date}T12:00:00.000Z`) + days * DAY).toISOString().slice(0, 10)}"`;
  });
}

function instants(plan: Plan): number[] {
  const out: number[] = [];
  for (const match of JSON.stringify(plan).matchAll(ISO_INSTANT)) out.push(Date.parse(match[2] ? `${match[1]}${match[2]}` : `${match[1]}T12:00:00.000Z`));
  return out;
}

/**
 * `count` plans from `templates.length` plans simulated with the domain (syntheticPlans): each copy
 * gets its own plan, participant and allocation ids, and a copy of a finished plan (closed or
 * withdrawn) is also moved by a whole number of weeks to another point of the period, so referrals
 * spread over it. A plan still in progress keeps its dates: its deadlines are live relative to now.
 * Simulating every one of 100,000 plans would take about 15 minutes on its own (see the README).
 */
export function* cohortFromTemplates(count: number, templates: readonly Plan[], options: SyntheticOptions, first = 0): Generator<Plan> {
  const end = Date.parse(options.now);
  const start = end - options.spanDays * DAY;
  const prepared = templates.map((plan) => {
    const times = instants(plan);
    const finished = plan.stage === 'closed' || plan.stage === 'withdrawn';
    // Whole weeks it may move: its referral stays in the period and nothing of it passes now.
    const earliest = Date.parse(plan.referral.receivedAt);
    const latest = Math.max(...times);
    const minWeeks = finished ? Math.ceil((start - earliest) / (7 * DAY)) : 0;
    const maxWeeks = finished ? Math.floor((end - latest) / (7 * DAY)) : 0;
    return { json: JSON.stringify(plan), planSuffix: plan.planId.slice(3), participantId: plan.participantId, minWeeks: Math.min(minWeeks, maxWeeks), maxWeeks };
  });
  for (let i = first; i < first + count; i += 1) {
    const r = rng(options.seed * 7_919 + i);
    const t = prepared[i % prepared.length] as (typeof prepared)[number];
    const weeks = t.minWeeks + Math.floor(r.next() * (t.maxWeeks - t.minWeeks + 1));
    const json = shiftText(t.json.replaceAll(t.planSuffix, r.hex(24)).replaceAll(t.participantId, `pt_${r.hex(20)}`), weeks * 7);
    yield JSON.parse(json) as Plan;
  }
}
