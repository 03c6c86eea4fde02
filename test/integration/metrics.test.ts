/**
 * Commissioner metrics over real HTTP. A synthetic cohort is driven through the API and the workflow on
 * an embedded stack with a simulated clock (referral sources, local authorities inside and outside the
 * partners' areas, co-occurring needs, accepts, declines and expiries, manual activations, reviews on
 * time, late and missed, exits by every reason, consent withdrawn, follow-ups). Then every figure is
 * worked out by brute force from each plan's history (GET /plans/{id}/history, as a coordinator),
 * without the metrics code, small-number suppression included, and compared with GET /metrics and
 * GET /metrics.csv as a commissioner sees them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { makeHandler as makeMetricsApi } from '../../functions/api-metrics/handler.ts';
import type { ApiFunctionName } from '../../lib/api/routes.ts';
import { addMonths, londonDate } from '../../lib/domain/calendar.ts';
import { LOCAL_AUTHORITIES, NEED_DOMAINS, REFERRAL_SOURCES } from '../../lib/domain/taxonomy.ts';
import { COUNT_FIGURES, FIGURE_KEYS, FIGURES, RELATIONS, type CountKey, type FigureKey } from '../../lib/domain/metrics/definitions.ts';
import { addDaysToDate, firstOfQuarter, lastOfQuarter } from '../../lib/domain/metrics/dates.ts';
import { FACTS_SCHEMA_VERSION } from '../../lib/domain/metrics/facts.ts';
import type { MetricsReport } from '../../lib/domain/metrics/compute.ts';
import { metricsCsvNotes } from '../../lib/domain/metrics/csv.ts';
import { secondarySuppress, type Cell as SuppressionCell } from '../../lib/domain/metrics/suppression.ts';
import { startEmbeddedStack, type EmbeddedStack } from '../../lib/local/embedded-stack.ts';
import { startGateway, type ApiFunction } from '../../lib/local/gateway.ts';
import { FactStore, metricsKeys } from '../../lib/metrics/fact-store.ts';
import { StoredFactsSource } from '../../lib/metrics/index.ts';
import { controllableClock, makeCall, planInStage, START, startTestStack, wrapStack, type Call, type Json, type TestStack } from '../support/http.ts';

const DAY = 86_400_000;
const THRESHOLD = 5;
const SUPPRESSED = 'suppressed';
const PLANS = 44;
/** GET /metrics rounds every shown count to the nearest 5 by default (halves up): 44 reads 45. */
const ROUND_TO = 5;
const rounded = (count: number) => Math.round(count / ROUND_TO) * ROUND_TO;
const DIMS = ['provider', 'localAuthority', 'needDomain', 'referralSource', 'month'] as const;
type Dim = (typeof DIMS)[number];

// ---------------------------------------------------------------------------------------------
// A reproducible cohort

function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const pick = <T,>(items: readonly T[]) => items[Math.floor(next() * items.length)] as T;
  const weighted = <T,>(pairs: readonly (readonly [T, number])[]) => {
    let r = next() * pairs.reduce((s, [, w]) => s + w, 0);
    for (const [value, w] of pairs) if ((r -= w) < 0) return value;
    return (pairs.at(-1) as readonly [T, number])[0];
  };
  return { next, int, pick, weighted };
}

type ReviewPlan = 'on-time' | 'late' | 'missed';
interface Script {
  referDay: number;
  source: string;
  localAuthority: string;
  needs: { domain: string; level: 'low' | 'medium' | 'high'; priority: boolean }[];
  share: boolean;
  path: 'withdraw' | 'exit-before-active' | 'full' | 'consent-withdrawn';
  reviews: ReviewPlan[];
  exitReason: string;
  exitAtReview: boolean;
  followUps: Record<6 | 12, 'yes' | 'no' | 'unknown'>;
}

function cohort(seed: number): Script[] {
  const r = random(seed);
  const needWeights = [
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
  ] as const;
  // Every follow-up is recorded (unknown when nobody knows): unrecorded ones would escalate every fortnight for a year.
  const followUp = () => r.weighted([['no', 6], ['yes', 2.5], ['unknown', 1]] as const);
  return Array.from({ length: PLANS }, () => {
    const needs = new Map<string, Script['needs'][number]>();
    const count = r.weighted([[1, 2], [2, 4], [3, 3], [4, 1]] as const);
    while (needs.size < count) {
      const domain = r.weighted(needWeights);
      needs.set(domain, { domain, level: r.pick(['low', 'medium', 'high'] as const), priority: needs.size === 0 || r.next() < 0.35 });
    }
    const reviewCount = r.int(1, 3);
    const reviews: ReviewPlan[] = Array.from({ length: reviewCount }, () => r.weighted([['on-time', 6], ['late', 2]] as const));
    if (r.next() < 0.15) reviews.push('missed');
    return {
      referDay: r.int(0, 50),
      source: r.weighted([['custody-diversion', 4], ['out-of-court-disposal', 2], ['probation', 2], ['court', 1], ['problem-solving-court', 1], ['self', 1], ['other-agency', 1]] as const),
      localAuthority: r.weighted([['birmingham', 8], ['sandwell', 4], ['walsall', 3], ['coventry', 2], ['dudley', 1.5], ['staffordshire', 1.5]] as const),
      needs: [...needs.values()],
      share: r.next() > 0.06,
      path: r.weighted([['full', 14], ['withdraw', 1.5], ['exit-before-active', 1.5], ['consent-withdrawn', 1]] as const),
      reviews,
      exitReason: r.weighted([['completed', 8], ['disengaged', 2.5], ['transferred', 1], ['moved-away', 1], ['custody', 1.5], ['other', 0.7]] as const),
      exitAtReview: r.next() < 0.3,
      followUps: { 6: followUp(), 12: followUp() },
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Driving the cohort through the API

interface Sim {
  script: Script;
  planId?: string;
  view?: Json;
  nextDay: number;
  assessedDay?: number;
  activatedDay?: number;
  exitedAt?: string;
  /** What each provider does with each offer: answer on a day, or let it expire. */
  decisions: Map<string, { action: 'accept' | 'decline' | 'expire'; day: number }>;
  scores: Map<string, number>;
  followUpsDone: Set<number>;
}

let stack: EmbeddedStack;
let call: Call;
let coordinator: string;
let commissioner: string;
let teamLead: string;
const providerToken = (id: string) => (stack.demoUsers.find((u) => u.role === 'provider' && u.providerId === id) as { token: string }).token;
const sims: Sim[] = [];
let periodFrom = '';
let periodTo = '';
const names = new Set<string>();

async function ok(method: string, path: string, token: string, body?: unknown, status = 200): Promise<Json> {
  const res = await call(method, path, { token, ...(body !== undefined ? { body } : {}) });
  if (res.status !== status) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
  return res.json;
}

/** Whether an active plan may need something today, judged from the last view of it (saves a read a day). */
function mayHaveWork(sim: Sim): boolean {
  const v = sim.view;
  if ((v.allocations as Json[]).some((a) => a.status === 'offered')) return true;
  if (sim.script.path === 'consent-withdrawn') return true;
  const next = v.nextReview;
  if (!next) return true;
  const now = stack.clock.now();
  return londonDate(now) >= londonDate(next.dueAt) || now >= next.escalateAt;
}

async function drive(sim: Sim, day: number, r: ReturnType<typeof random>) {
  const s = sim.script;
  const today = londonDate(stack.clock.now());
  if (!sim.planId) {
    if (day < s.referDay) return;
    const name = `Cohort${sims.indexOf(sim)}`;
    names.add(name);
    const created = await ok(
      'POST',
      '/plans',
      coordinator,
      {
        participant: { givenName: name, familyName: 'Synthetic', dateOfBirth: `19${70 + (sims.indexOf(sim) % 30)}-0${1 + (sims.indexOf(sim) % 9)}-1${sims.indexOf(sim) % 10}` },
        referral: { source: s.source, localAuthority: s.localAuthority, urgency: r.next() < 0.2 ? 'urgent' : 'routine' },
        reviewEveryDays: 14,
      },
      201,
    );
    sim.planId = created.planId;
    sim.view = created;
    sim.nextDay = day + r.int(0, 2);
    return;
  }
  const id = sim.planId;
  const stage = sim.view.stage as string;
  if (stage === 'referred' && day >= sim.nextDay) {
    if (s.path === 'withdraw') sim.view = await ok('POST', `/plans/${id}/withdraw`, coordinator, { reason: r.pick(['not-eligible', 'declined-support', 'unreachable']) });
    else {
      sim.view = await ok('POST', `/plans/${id}/record-consent`, coordinator, { scope: { shareWithProviders: s.share, dataCategories: ['needs'] }, givenAt: today, method: 'written' });
      sim.nextDay = day + r.int(1, 4);
    }
    return;
  }
  if (stage === 'assessment' && day >= sim.nextDay) {
    sim.view = await ok('POST', `/plans/${id}/submit-assessment`, coordinator, { needs: s.needs.map((n) => ({ ...n, goals: [] })) });
    sim.assessedDay = day;
    return;
  }
  if (stage === 'allocating' || (stage === 'active' && mayHaveWork(sim))) {
    sim.view = await ok('GET', `/plans/${id}`, coordinator);
    let answered = false;
    for (const a of sim.view.allocations as Json[]) {
      if (a.status !== 'offered') continue;
      let decision = sim.decisions.get(a.allocationId);
      if (!decision) {
        decision = { action: r.weighted([['accept', 6.5], ['decline', 2], ['expire', 1.5]] as const), day: day + r.int(0, 1) };
        sim.decisions.set(a.allocationId, decision);
      }
      if (decision.action === 'expire' || day < decision.day) continue;
      const token = providerToken(a.providerId);
      if (decision.action === 'accept') await ok('POST', `/allocations/${a.allocationId}/accept`, token, {});
      else await ok('POST', `/allocations/${a.allocationId}/decline`, token, { reason: r.pick(['capacity', 'eligibility', 'risk', 'location', 'other']) });
      answered = true;
    }
    if (answered) sim.view = await ok('GET', `/plans/${id}`, coordinator);
  }
  if (sim.view.stage === 'allocating') {
    const since = day - (sim.assessedDay ?? day);
    if (s.path === 'exit-before-active' && since >= 3) sim.view = await ok('POST', `/plans/${id}/exit`, coordinator, { reason: s.exitReason });
    else if (since >= 6) sim.view = await ok('POST', `/plans/${id}/activate`, coordinator, { reason: 'Start with the providers who accepted' });
    if (sim.view.stage === 'exited') sim.exitedAt = stack.clock.now();
    return;
  }
  if (sim.view.stage === 'active') {
    sim.activatedDay ??= day;
    if (s.path === 'consent-withdrawn' && day >= sim.activatedDay + 10) {
      sim.view = await ok('POST', `/plans/${id}/withdraw-consent`, coordinator, {});
      sim.exitedAt = stack.clock.now();
      return;
    }
    const done = (sim.view.reviews as Json[]).length;
    const next = sim.view.nextReview;
    const planned = s.reviews[done];
    const exit = async () => {
      sim.view = await ok('POST', `/plans/${id}/exit`, coordinator, { reason: s.exitReason });
      sim.exitedAt = stack.clock.now();
    };
    if (planned === undefined) return exit();
    if (!next) return;
    // Late means after a team lead was told (the escalation the figures count), not just past the due date.
    if (planned === 'missed') {
      if (next.escalated) await exit();
      return;
    }
    if (planned === 'on-time' ? today < londonDate(next.dueAt) : !next.escalated) return;
    const open = (sim.view.needs as Json[]).filter((n) => n.status === 'open').map((n) => n.domain as string);
    const scores = Object.fromEntries(
      open.map((d) => {
        const score = Math.max(1, Math.min(10, (sim.scores.get(d) ?? r.int(2, 5)) + r.int(-1, 3)));
        sim.scores.set(d, score);
        return [d, score];
      }),
    );
    const accepted = (sim.view.allocations as Json[]).find((a) => a.status === 'accepted');
    if (accepted) await ok('POST', `/allocations/${accepted.allocationId}/record-contact`, providerToken(accepted.providerId), { date: today, kind: 'attended' });
    const last = done === s.reviews.length - 1;
    if (last && s.exitAtReview) {
      sim.view = await ok('POST', `/plans/${id}/record-review`, coordinator, { scores, outcome: 'exit', exitReason: s.exitReason });
      sim.exitedAt = stack.clock.now();
    } else sim.view = await ok('POST', `/plans/${id}/record-review`, coordinator, { scores, outcome: 'continue' });
    return;
  }
  if (sim.view.stage === 'exited' && sim.exitedAt) {
    for (const month of [6, 12] as const) {
      if (sim.followUpsDone.has(month)) continue;
      if (today <= londonDate(addMonths(sim.exitedAt, month))) continue;
      const answer = sim.view.exit?.reason === 'consent-withdrawn' ? 'unknown' : s.followUps[month];
      sim.view = await ok('POST', `/plans/${id}/record-follow-up`, coordinator, { month, reoffended: answer });
      sim.followUpsDone.add(month);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Brute force: each plan as its history tells it

interface Offer {
  provider: string;
  at: string;
  needs: string[];
  state: 'offered' | 'accepted' | 'declined' | 'expired' | 'withdrawn' | 'ended';
  respondedAt?: string;
}
interface FromHistory {
  localAuthority: string;
  source: string;
  referredAt: string;
  consented: boolean;
  assessedAt?: string;
  activatedAt?: string;
  exitedAt?: string;
  exitReason?: string;
  needs: Set<string>;
  supportedBy: Set<string>;
  offers: Offer[];
  gaps: Map<string, { reason: string; at: string }>;
  reviews: { number: number; date: string; scores: Record<string, number> }[];
  overdue: Map<string, string>;
  followUps: Map<number, string>;
}

function replay(items: Json[]): FromHistory {
  const h: FromHistory = {
    localAuthority: '',
    source: '',
    referredAt: '',
    consented: false,
    needs: new Set(),
    supportedBy: new Set(),
    offers: [],
    gaps: new Map(),
    reviews: [],
    overdue: new Map(),
    followUps: new Map(),
  };
  const byId = new Map<string, Offer>();
  const held = () => new Set(h.offers.filter((o) => o.state === 'offered' || o.state === 'accepted').flatMap((o) => o.needs));
  for (const e of [...items].sort((a, b) => a.sequence - b.sequence)) {
    const d = e.data;
    const offer = typeof d.allocationId === 'string' ? byId.get(d.allocationId) : undefined;
    switch (e.type) {
      case 'plan.referred.v1':
        Object.assign(h, { localAuthority: d.localAuthority, source: d.source, referredAt: e.time });
        break;
      case 'plan.consent-recorded.v1':
        h.consented = true;
        break;
      case 'plan.assessment-submitted.v1':
        h.assessedAt = e.time;
        for (const n of d.needs) h.needs.add(n.domain);
        break;
      case 'plan.allocation-proposed.v1': {
        // The step looked again at every open need no live allocation held: its gaps replace theirs.
        const held0 = held();
        for (const need of h.needs) if (!held0.has(need)) h.gaps.delete(need);
        for (const g of d.gaps) h.gaps.set(g.domain, { reason: g.reason, at: e.time });
        break;
      }
      case 'allocation.offered.v1': {
        const o: Offer = { provider: e.providerId, at: e.time, needs: d.needs.map((n: Json) => n.domain), state: 'offered' };
        byId.set(d.allocationId, o);
        h.offers.push(o);
        for (const need of o.needs) h.gaps.delete(need);
        break;
      }
      case 'allocation.accepted.v1':
        Object.assign(offer as Offer, { state: 'accepted', respondedAt: e.time });
        h.supportedBy.add((offer as Offer).provider);
        break;
      case 'allocation.declined.v1':
        Object.assign(offer as Offer, { state: 'declined', respondedAt: e.time });
        break;
      case 'allocation.expired.v1':
        (offer as Offer).state = 'expired';
        break;
      case 'allocation.withdrawn.v1':
        (offer as Offer).state = 'withdrawn';
        break;
      case 'allocation.ended.v1':
        (offer as Offer).state = 'ended';
        break;
      case 'plan.consent-withdrawn.v1':
        if (offer?.state === 'offered') offer.state = 'withdrawn';
        if (offer?.state === 'accepted') offer.state = 'ended';
        break;
      case 'plan.activated.v1':
        if (d.firstActivation) h.activatedAt = e.time;
        if (d.manual) for (const need of d.unmetNeeds) if (!h.gaps.has(need)) h.gaps.set(need, { reason: 'all-candidates-declined-or-expired', at: e.time });
        break;
      case 'review.recorded.v1':
        h.reviews.push({ number: d.reviewNumber, date: londonDate(e.time), scores: d.scores });
        break;
      case 'plan.escalated.v1':
        if (d.kind === 'review-overdue' && !h.overdue.has(d.ref)) h.overdue.set(d.ref, e.time);
        break;
      case 'plan.exited.v1':
        Object.assign(h, { exitedAt: e.time, exitReason: d.reason });
        break;
      case 'follow-up.recorded.v1':
        h.followUps.set(d.month, d.reoffended);
        break;
    }
  }
  return h;
}

type Raw = Record<CountKey, number> & { stats: Record<'rta' | 'ata' | 'rtact' | 'resp', number[]>; scoreSum: number; scorePairs: number };

interface Selector {
  plan: (p: FromHistory) => boolean;
  offer?: (o: Offer, p: FromHistory) => boolean;
  /** Gaps and score changes by their domain. */
  domain?: (domain: string, p: FromHistory) => boolean;
}

const EXIT_KEYS: Record<string, CountKey> = {
  completed: 'exitsCompleted',
  transferred: 'exitsTransferred',
  disengaged: 'exitsDisengaged',
  'moved-away': 'exitsMovedAway',
  custody: 'exitsCustody',
  other: 'exitsOther',
  'consent-withdrawn': 'exitsConsentWithdrawn',
};
const GAP_KEYS: Record<string, CountKey> = {
  'no-service': 'gapsNoService',
  'no-coverage-in-area': 'gapsNoCoverageInArea',
  'no-capacity': 'gapsNoCapacity',
  'not-eligible': 'gapsNotEligible',
  'all-candidates-declined-or-expired': 'gapsAllDeclinedOrExpired',
  'no-consent-to-share': 'gapsNoConsentToShare',
  'not-offered': 'gapsNotOffered',
  'outside-consent': 'gapsOutsideConsent',
};

/** Every count and value list for one group over one period, straight from the histories. */
function bruteForce(plans: FromHistory[], from: string, to: string, sel: Selector): Raw {
  const within = (instantOrDate: string | undefined) => {
    if (!instantOrDate) return false;
    const date = instantOrDate.length === 10 ? instantOrDate : londonDate(instantOrDate);
    return date >= from && date <= to;
  };
  const days = (a: string, b: string) => (Date.parse(b) - Date.parse(a)) / DAY;
  const raw = Object.fromEntries(Object.keys(COUNT_FIGURES).map((k) => [k, 0])) as unknown as Raw;
  raw.stats = { rta: [], ata: [], rtact: [], resp: [] };
  raw.scoreSum = 0;
  raw.scorePairs = 0;
  const byDomain = sel.domain ?? ((_d: string, p: FromHistory) => sel.plan(p));
  for (const p of plans) {
    const member = sel.plan(p);
    if (member && within(p.referredAt)) {
      raw.referrals += 1;
      if (p.consented) raw.consented += 1;
    }
    if (member && within(p.assessedAt)) {
      raw.assessed += 1;
      raw.stats.rta.push(days(p.referredAt, p.assessedAt as string));
    }
    if (member && within(p.activatedAt)) {
      raw.activated += 1;
      raw.stats.ata.push(days(p.assessedAt as string, p.activatedAt as string));
      raw.stats.rtact.push(days(p.referredAt, p.activatedAt as string));
    }
    if (member && p.activatedAt && londonDate(p.activatedAt) <= to && !(p.exitedAt && londonDate(p.exitedAt) <= to)) raw.activeAtEnd += 1;
    if (member && within(p.exitedAt)) {
      raw.exits += 1;
      raw[EXIT_KEYS[p.exitReason as string] as CountKey] += 1;
      for (const month of [6, 12] as const) {
        const answer = p.followUps.get(month);
        if (answer === 'yes' || answer === 'no') raw[month === 6 ? 'followUps6' : 'followUps12'] += 1;
        if (answer === 'yes') raw[month === 6 ? 'reoffended6' : 'reoffended12'] += 1;
      }
    }
    for (const o of p.offers) {
      if (!within(o.at) || !(sel.offer ? sel.offer(o, p) : member)) continue;
      raw.offers += 1;
      const accepted = o.state === 'accepted' || o.state === 'ended';
      if (accepted) raw.offersAccepted += 1;
      if (o.state === 'declined') raw.offersDeclined += 1;
      if (o.state === 'expired') raw.offersExpired += 1;
      if (accepted || o.state === 'declined' || o.state === 'expired') raw.offersResolved += 1;
      else raw.offersWithdrawnOrOpen += 1;
      if (accepted || o.state === 'declined') raw.stats.resp.push((Date.parse(o.respondedAt as string) - Date.parse(o.at)) / 3_600_000);
    }
    let gapped = false;
    for (const [domain, g] of p.gaps) {
      if (!within(g.at) || !byDomain(domain, p)) continue;
      raw.gaps += 1;
      raw[GAP_KEYS[g.reason] as CountKey] += 1;
      gapped = true;
    }
    if (gapped) raw.plansWithGap += 1;
    if (member) {
      const recorded = new Set(p.reviews.map((rv) => String(rv.number)));
      for (const rv of p.reviews) {
        if (!within(rv.date)) continue;
        raw.reviewsDue += 1;
        if (p.overdue.has(String(rv.number))) raw.reviewsLate += 1;
        else raw.reviewsOnTime += 1;
      }
      for (const [ref, at] of p.overdue) {
        if (recorded.has(ref) || !within(at)) continue;
        raw.reviewsDue += 1;
        raw.reviewsLate += 1;
      }
    }
    let scored = false;
    const domains = new Set(p.reviews.flatMap((rv) => Object.keys(rv.scores)));
    for (const domain of domains) {
      const scoring = p.reviews.filter((rv) => rv.scores[domain] !== undefined);
      if (scoring.length < 2 || !within((scoring.at(-1) as { date: string }).date) || !byDomain(domain, p)) continue;
      raw.scoreSum += ((scoring.at(-1) as { scores: Record<string, number> }).scores[domain] as number) - ((scoring[0] as { scores: Record<string, number> }).scores[domain] as number);
      raw.scorePairs += 1;
      scored = true;
    }
    if (scored) raw.scoredPlans += 1;
  }
  return raw;
}

// ---------------------------------------------------------------------------------------------
// Suppression and the published figures, as the definitions describe them

interface Cell {
  value: number;
  hidden: boolean;
}

function publish(groups: { raw: Raw }[], cells: Record<CountKey, Cell>[]) {
  const round = (x: number, d: number) => Math.round(x * 10 ** d) / 10 ** d;
  const sortedCopy = (values: number[]) => [...values].sort((a, b) => a - b);
  const med = (values: number[]) => {
    const s = sortedCopy(values);
    const m = Math.floor(s.length / 2);
    return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
  };
  const p90 = (values: number[]) => sortedCopy(values)[Math.ceil(0.9 * values.length) - 1] as number;
  const statOf: Record<string, [keyof Raw['stats'], (v: number[]) => number]> = {
    daysReferralToAssessmentMedian: ['rta', med],
    daysReferralToAssessmentP90: ['rta', p90],
    daysAssessmentToActiveMedian: ['ata', med],
    daysAssessmentToActiveP90: ['ata', p90],
    daysReferralToActiveMedian: ['rtact', med],
    daysReferralToActiveP90: ['rtact', p90],
    responseHoursMedian: ['resp', med],
  };
  return groups.map(({ raw }, i) => {
    const c = cells[i] as Record<CountKey, Cell>;
    const out = {} as Record<FigureKey, number | string>;
    for (const key of FIGURE_KEYS) {
      const def = FIGURES[key];
      // Shown counts rounded once suppression has decided on the exact ones (every shown count is at least 5, so none rounds to 0).
      if (def.kind === 'count') out[key] = c[key as CountKey].hidden ? SUPPRESSED : rounded(c[key as CountKey].value);
      else if (def.kind === 'rate') {
        const num = c[def.numerator];
        const den = c[def.denominator];
        // From the counts as shown (rounded): an exact rate beside them would give the exact counts back.
        const rate = round(rounded(num.value) / rounded(den.value), 4);
        // Never all or none unless exactly so (48 of 50 reads 0.99, not 1).
        out[key] = num.hidden || den.hidden ? SUPPRESSED : rate > 0.99 && num.value < den.value ? 0.99 : rate < 0.01 && num.value > 0 ? 0.01 : rate;
      } else if (def.kind === 'mean') out[key] = raw.scoredPlans < THRESHOLD || c.scoredPlans.hidden ? SUPPRESSED : round(raw.scoreSum / raw.scorePairs, def.decimals);
      else {
        const [list, f] = statOf[key] as [keyof Raw['stats'], (v: number[]) => number];
        // Nor beside a hidden count it is taken over: shown, it would say that count reaches the threshold.
        const over = { rta: [c.assessed], ata: [c.activated], rtact: [c.activated], resp: [c.offersAccepted, c.offersDeclined] }[list];
        // A 90th percentile over fewer than 10 values is the largest one: one woman's own.
        const least = def.kind === 'p90' ? Math.max(10, 2 * THRESHOLD) : THRESHOLD;
        out[key] = raw.stats[list].length < least || over.some((cell) => cell.hidden) ? SUPPRESSED : round(f(raw.stats[list]), def.decimals);
      }
    }
    return out;
  });
}

/** The expected answer: overall, then each breakdown's groups in order; suppression over all of it. */
function expectedReport(plans: FromHistory[], from: string, to: string, groupBy: Dim[], providers: string[]) {
  const months: { group: string; from: string; to: string }[] = [];
  for (let m = from.slice(0, 7); m <= to.slice(0, 7); ) {
    const [y, mo] = m.split('-').map(Number) as [number, number];
    const end = new Date(Date.UTC(y, mo, 0)).toISOString().slice(0, 10);
    months.push({ group: m, from: `${m}-01` < from ? from : `${m}-01`, to: end > to ? to : end });
    m = mo === 12 ? `${y + 1}-01` : `${y}-${String(mo + 1).padStart(2, '0')}`;
  }
  const groupsOf = (dim: Dim): { group: string; raw: Raw }[] => {
    switch (dim) {
      case 'localAuthority':
        return LOCAL_AUTHORITIES.map((la) => ({ group: la, raw: bruteForce(plans, from, to, { plan: (p) => p.localAuthority === la }) }));
      case 'referralSource':
        return REFERRAL_SOURCES.map((src) => ({ group: src, raw: bruteForce(plans, from, to, { plan: (p) => p.source === src }) }));
      case 'needDomain':
        return NEED_DOMAINS.map((d) => ({
          group: d,
          raw: bruteForce(plans, from, to, { plan: (p) => p.needs.has(d), offer: (o) => o.needs.includes(d), domain: (domain) => domain === d }),
        }));
      case 'provider':
        return providers.map((pr) => ({ group: pr, raw: bruteForce(plans, from, to, { plan: (p) => p.supportedBy.has(pr), offer: (o) => o.provider === pr }) }));
      case 'month':
        return months.map((m) => ({ group: m.group, raw: bruteForce(plans, m.from, m.to, { plan: () => true }) }));
    }
  };
  const overall = { group: 'all', raw: bruteForce(plans, from, to, { plan: () => true }) };
  const breakdowns = groupBy.map((dim) => ({ dim, groups: groupsOf(dim) }));
  const all = [overall, ...breakdowns.flatMap((b) => b.groups)];
  const cells = all.map((g) => Object.fromEntries(Object.keys(COUNT_FIGURES).map((k) => [k, { value: g.raw[k as CountKey], hidden: g.raw[k as CountKey] < THRESHOLD }])) as Record<CountKey, Cell>);
  // Secondary suppression over the published lines: a total and its parts in each group, and each figure
  // over each breakdown's groups.
  const lines: { total: Cell; parts: Cell[] }[] = [];
  for (const c of cells) for (const rel of RELATIONS) lines.push({ total: c[rel.total], parts: rel.parts.map((p) => c[p]) });
  let offset = 1;
  for (const b of breakdowns) {
    const mine = cells.slice(offset, offset + b.groups.length);
    offset += b.groups.length;
    for (const [key, def] of Object.entries(COUNT_FIGURES)) {
      if ((def.additiveOver as readonly string[]).includes(b.dim)) lines.push({ total: (cells[0] as Record<CountKey, Cell>)[key as CountKey], parts: mine.map((c) => c[key as CountKey]) });
    }
  }
  // Which further cells those rules give up (the lines one at a time, the lines each relation's groups
  // make together, the rates spared) is suppression.ts's: its choices are tested in the unit tests and
  // by the linear-programming check of test/support/disclosure.ts; what this test recomputes from the
  // histories is every count it starts from.
  const own = new Map<Cell, SuppressionCell>();
  const mine = (cell: Cell): SuppressionCell => {
    let found = own.get(cell);
    if (!found) own.set(cell, (found = { value: cell.value, suppressed: cell.hidden }));
    return found;
  };
  const lineOf = (line: { total: Cell; parts: Cell[] }) => ({ total: mine(line.total), parts: line.parts.map(mine) });
  const rates = cells.flatMap((c) =>
    FIGURE_KEYS.flatMap((key) => {
      const def = FIGURES[key];
      return def.kind === 'rate' && c[def.denominator].value > 0 ? [{ numerator: mine(c[def.numerator]), denominator: mine(c[def.denominator]) }] : [];
    }),
  );
  let first = 1;
  const tables = breakdowns.flatMap((b) => {
    const groups = cells.slice(first, first + b.groups.length);
    first += b.groups.length;
    return RELATIONS.filter((rel) => [rel.total, ...rel.parts].every((k) => (COUNT_FIGURES[k].additiveOver as readonly string[]).includes(b.dim))).map((rel) => {
      const relLine = (c: Record<CountKey, Cell>) => lineOf({ total: c[rel.total], parts: rel.parts.map((p) => c[p]) });
      return { overall: relLine(cells[0] as Record<CountKey, Cell>), groups: groups.map(relLine) };
    });
  });
  secondarySuppress(lines.map(lineOf), THRESHOLD, rates, tables);
  for (const [cell, suppression] of own) cell.hidden = suppression.suppressed;
  const published = publish(all, cells);
  let i = 1;
  return {
    overall: published[0],
    breakdowns: Object.fromEntries(breakdowns.map((b) => [b.dim, b.groups.map((g) => ({ group: g.group, figures: published[i++] }))])),
    lines,
  };
}

// ---------------------------------------------------------------------------------------------

const histories: FromHistory[] = [];

beforeAll(async () => {
  stack = await startEmbeddedStack({ inMemory: true, port: 0, sweepIntervalMs: 0, clockMode: 'simulated', publisher: { publish: async () => undefined } });
  call = makeCall(stack.url);
  const token = (role: string) => (stack.demoUsers.find((u) => u.role === role) as { token: string }).token;
  coordinator = token('coordinator');
  commissioner = token('commissioner');
  teamLead = token('team-lead');
  const r = random(20260305);
  for (const script of cohort(4242)) sims.push({ script, nextDay: 0, decisions: new Map(), scores: new Map(), followUpsDone: new Set() });
  // Periods are whole calendar quarters: from the first day of the quarter the cohort starts in.
  periodFrom = firstOfQuarter(londonDate(stack.clock.now()));
  // Day by day, sweeping once a day so reminders, expiries and escalations fire on the way, until every
  // plan that will exit has, and a year and a month has passed for the last follow-ups.
  for (let day = 0; ; day += 1) {
    for (const sim of sims) await drive(sim, day, r);
    const waitingForFollowUps = sims.every((s) => s.planId && ['withdrawn', 'closed', 'exited'].includes(s.view.stage));
    if (sims.every((s) => s.planId && ['withdrawn', 'closed'].includes(s.view.stage)) || day > 560) break;
    // Once every plan has ended, only follow-ups remain: a week at a time.
    const step = waitingForFollowUps ? 7 * DAY : DAY;
    await stack.advanceClock(step, step);
    if (waitingForFollowUps) day += 6;
  }
  // To the end of the last complete quarter (figures come only from complete quarters).
  periodTo = addDaysToDate(firstOfQuarter(londonDate(stack.clock.now())), -1);
  for (const sim of sims) {
    const history = await ok('GET', `/plans/${sim.planId}/history`, coordinator);
    histories.push(replay(history.items));
  }
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

const providers = () => stack.directory.organizations.map((o) => o.id).sort();

function compare(actual: Json, expected: ReturnType<typeof expectedReport>, groupBy: Dim[]) {
  expect(actual.overall).toEqual(expected.overall);
  for (const dim of groupBy) {
    const got = actual.breakdowns[dim] as Json[];
    const want = expected.breakdowns[dim] as Json[];
    expect(got.map((g) => g.group), dim).toEqual(want.map((g) => g.group));
    got.forEach((g, i) => expect(g.figures, `${dim} ${g.group}`).toEqual(want[i].figures));
  }
}

describe('a synthetic cohort through the API', () => {
  it('has the variety the figures need', () => {
    // Every plan has ended by now: withdrawn before it started, or closed after its last follow-up.
    expect(new Set(sims.map((s) => s.view.stage))).toEqual(new Set(['closed', 'withdrawn']));
    expect(histories.filter((h) => h.activatedAt).length).toBeGreaterThan(PLANS / 2);
    expect(histories.some((h) => h.exitedAt && !h.activatedAt)).toBe(true);
    expect(histories.some((h) => !h.consented)).toBe(true);
    const offers = histories.flatMap((h) => h.offers);
    for (const state of ['ended', 'declined', 'expired'] as const) expect(offers.some((o) => o.state === state), state).toBe(true);
    expect(new Set(histories.map((h) => h.exitReason).filter(Boolean)).size).toBeGreaterThanOrEqual(5);
    expect(histories.some((h) => h.gaps.size > 0)).toBe(true);
    expect(histories.some((h) => h.overdue.size > 0)).toBe(true);
    expect(histories.some((h) => h.followUps.get(12) === 'yes')).toBe(true);
    expect(new Set(histories.map((h) => h.localAuthority)).size).toBeGreaterThanOrEqual(5);
  });
});

describe('GET /metrics as a commissioner', () => {
  it('matches every figure worked out by brute force from the histories, suppression and rounding included', async () => {
    const groupBy = [...DIMS];
    const res = await call('GET', `/metrics?from=${periodFrom}&to=${periodTo}&groupBy=${groupBy.join(',')}`, { token: commissioner });
    expect(res.status).toBe(200);
    expect(res.json.period).toEqual({ from: periodFrom, to: periodTo });
    expect(res.json.suppression).toMatchObject({ threshold: THRESHOLD, roundCountsTo: ROUND_TO });
    const expected = expectedReport(histories, periodFrom, periodTo, groupBy, providers());
    compare(res.json, expected, groupBy);
    // The cohort is large enough that some cells show and small enough that others hide.
    const values = [res.json.overall, ...groupBy.flatMap((d) => res.json.breakdowns[d].map((g: Json) => g.figures))].flatMap((f) => Object.values(f));
    expect(values.filter((v) => v === SUPPRESSED).length).toBeGreaterThan(100);
    expect(values.filter((v) => typeof v === 'number' && v > 0).length).toBeGreaterThan(60);
    // Published counts are rounded by default: 44 referrals read 45, and every shown count is a multiple of 5.
    expect(res.json.overall.referrals).toBe(45);
    const counts = [res.json.overall, ...groupBy.flatMap((d) => res.json.breakdowns[d].map((g: Json) => g.figures))].flatMap((f) => Object.keys(COUNT_FIGURES).map((k) => f[k]));
    expect(counts.filter((v) => typeof v === 'number' && v % ROUND_TO !== 0)).toEqual([]);
    // No published line is left with a single hidden cell, nor with hidden parts a shown total pins
    // (the total minus the shown parts is their sum: hidden zeros adding up to 0 would all be 0).
    for (const line of expected.lines) {
      expect([line.total, ...line.parts].filter((c) => c.hidden).length).not.toBe(1);
      const hiddenParts = line.parts.filter((c) => c.hidden);
      if (!line.total.hidden && hiddenParts.length > 0) expect(hiddenParts.reduce((sum, c) => sum + c.value, 0)).toBeGreaterThanOrEqual(THRESHOLD);
    }
  });

  it('matches for a shorter period, by month and local authority', async () => {
    // The first quarter end at which plans were still being supported (at least the threshold of them).
    const ends = [0, 1, 2, 3].map((k) => lastOfQuarter(addDaysToDate(periodFrom, 1 + 92 * k)));
    const to = ends.find((end) => typeof expectedReport(histories, periodFrom, end, [], providers()).overall?.activeAtEnd === 'number') as string;
    expect(to).toBeDefined();
    const groupBy: Dim[] = ['month', 'localAuthority'];
    const res = await call('GET', `/metrics?from=${periodFrom}&to=${to}&groupBy=${groupBy.join(',')}`, { token: commissioner });
    expect(res.status).toBe(200);
    compare(res.json, expectedReport(histories, periodFrom, to, groupBy, providers()), groupBy);
    // Plans were still being supported at the end of this period.
    expect(res.json.overall.activeAtEnd).toBeGreaterThanOrEqual(THRESHOLD);
  });

  it('defines every figure', async () => {
    const res = await call('GET', `/metrics?from=${periodFrom}&to=${periodTo}`, { token: teamLead });
    expect(res.status).toBe(200);
    expect(Object.keys(res.json.definitions.figures)).toEqual(FIGURE_KEYS);
    for (const key of FIGURE_KEYS) expect(res.json.definitions.figures[key]).toMatchObject({ label: expect.any(String), kind: FIGURES[key].kind, definition: expect.any(String) });
  });

  it('GET /metrics.csv carries the same figures, suppressed cells marked the same way', async () => {
    const groupBy = [...DIMS];
    const query = `?from=${periodFrom}&to=${periodTo}&groupBy=${groupBy.join(',')}`;
    const [csv, json] = await Promise.all([call('GET', `/metrics.csv${query}`, { token: commissioner }), call('GET', `/metrics${query}`, { token: commissioner })]);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    // The notes after the rows (lines starting with #) are not rows.
    const rows = csv.text.trimEnd().split('\r\n').filter((line) => !line.startsWith('#')).map((line) => line.split(','));
    expect(rows[0]).toEqual(['from', 'to', 'dimension', 'group', ...FIGURE_KEYS, 'boundedRates']);
    const expectedRows = [
      ['overall', 'all', json.json.overall],
      ...groupBy.flatMap((dim) => json.json.breakdowns[dim].map((g: Json) => [dim, g.group, g.figures])),
    ] as [string, string, Record<string, unknown>][];
    expect(rows.length - 1).toBe(expectedRows.length);
    expectedRows.forEach(([dim, group, figures], i) => {
      // The last column names the row's rates that read 0.99 or 0.01 only because they are not exactly all or none.
      const bounded = (json.json.boundedRates as Json[]).filter((b) => b.dimension === dim && b.group === group).map((b) => `${b.figure}:${b.bound}`);
      expect(rows[i + 1]).toEqual([periodFrom, periodTo, dim, group, ...FIGURE_KEYS.map((k) => String(figures[k])), bounded.join(' ')]);
    });
  });

  it('gives commissioners aggregates only: no plan reference, name or date of birth anywhere', async () => {
    const query = `?from=${periodFrom}&to=${periodTo}&groupBy=${DIMS.join(',')}`;
    for (const path of [`/metrics${query}`, `/metrics.csv${query}`]) {
      const res = await call('GET', path, { token: commissioner });
      expect(res.text).not.toMatch(/pl_[a-z0-9]/);
      expect(res.text).not.toMatch(/pt_[a-z0-9]|al_[a-z0-9]/);
      for (const sim of sims) expect(res.text).not.toContain(sim.planId as string);
      for (const name of names) expect(res.text).not.toContain(name);
      expect(res.text).not.toContain('Synthetic');
    }
    const planId = sims[0]?.planId as string;
    for (const path of ['/plans', `/plans/${planId}`, `/plans/${planId}/history`, '/escalations']) {
      expect((await call('GET', path, { token: commissioner })).status, path).toBe(403);
    }
    // Providers and coordinators do not get the figures.
    expect((await call('GET', '/metrics', { token: providerToken('anawim') })).status).toBe(403);
    expect((await call('GET', '/metrics', { token: coordinator })).status).toBe(403);
    expect((await call('GET', '/metrics')).status).toBe(401);
  });

  it('is fresh once a quarter is complete: a change shows in the first answer that covers its quarter, not before', async () => {
    const today = londonDate(stack.clock.now());
    const query = `/metrics?from=${periodFrom}&to=2030-12-31`;
    const before = await ok('GET', query, commissioner);
    // Four more referrals: 48, which reads 50 (44 read 45; one more alone would still read 45, as rounding means).
    for (let n = 0; n < 4; n += 1) {
      await ok('POST', '/plans', coordinator, { participant: { givenName: 'Latecomer', familyName: 'Synthetic', dateOfBirth: `1999-09-0${n + 1}` }, referral: { source: 'self', localAuthority: 'solihull' } }, 201);
    }
    // Their quarter is not over: no answer has them, and none moves while it fills.
    const during = await ok('GET', query, commissioner);
    expect(during.overall.referrals).toBe(before.overall.referrals);
    expect(before.overall.referrals).toBe(rounded(PLANS));
    expect(during.period).toEqual({ from: periodFrom, to: periodTo, requestedTo: '2030-12-31' });
    // The first day of the next quarter: theirs is complete, and the next answer has them.
    const nextQuarter = addDaysToDate(lastOfQuarter(today), 1);
    await stack.advanceClock(Date.parse(`${nextQuarter}T12:00:00Z`) - Date.parse(stack.clock.now()), DAY);
    const after = await ok('GET', query, commissioner);
    expect(after.period).toEqual({ from: periodFrom, to: lastOfQuarter(today), requestedTo: '2030-12-31' });
    expect(after.overall.referrals).toBe(rounded(PLANS + 4));
    expect(rounded(PLANS + 4)).not.toBe(rounded(PLANS));
  });

  it('refuses bad input with 400 naming the parameter', async () => {
    const cases: [string, string][] = [
      ['from=2026-04-01&to=2026-03-31', 'from'],
      ['groupBy=provider,postcode', 'groupBy'],
      ['from=2020-01-01&to=2025-12-31', 'to'],
      ['from=2026-13-01', 'from'],
      ['to=soon', 'to'],
      // Periods are whole quarters: the auditor's day-by-day periods are refused on the day sent.
      ['from=2026-11-30', 'from'],
      ['from=2026-10-01&to=2026-12-01', 'to'],
      // Given twice: named, not the last one read (API Gateway joins them with a comma; so does the embedded gateway).
      ['from=2026-01-01&from=2026-04-01', 'from'],
      ['planId=pl_abcdefghij', 'planId'],
    ];
    for (const [query, param] of cases) {
      const res = await call('GET', `/metrics?${query}`, { token: commissioner });
      expect(res.status, query).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/problem\+json/);
      expect(res.json.errors.map((e: Json) => e.path), query).toEqual([param]);
      const csv = await call('GET', `/metrics.csv?${query}`, { token: commissioner });
      expect(csv.status, query).toBe(400);
    }
  });
});

describe('the metrics projection across restarts', () => {
  let dataDir: string;
  let running: EmbeddedStack | undefined;
  const clock = controllableClock(START);
  // Threshold 1 and exact counts: every count but zero shows as it is, so a handful of plans is enough to see the figures.
  const start = () =>
    startEmbeddedStack({ inMemory: false, dataDir, port: 0, sweepIntervalMs: 0, clock, publisher: { publish: async () => undefined }, metrics: { suppressionThreshold: 1, roundCountsTo: 1 } });
  // Figures come only from complete quarters: the clock moves to the next quarter's first day, so the
  // plans made so far are in a complete quarter. The period answered grows by a quarter each time, with
  // nothing in it, so the figures are compared without it.
  const figures = async (s: EmbeddedStack) => {
    clock.set(`${addDaysToDate(lastOfQuarter(clock.today()), 1)}T10:00:00.000Z`);
    const commissionerToken = (s.demoUsers.find((u) => u.role === 'commissioner') as { token: string }).token;
    const res = await makeCall(s.url)('GET', `/metrics?from=${firstOfQuarter(START.slice(0, 10))}&to=2028-12-31&groupBy=localAuthority`, { token: commissionerToken });
    expect(res.status).toBe(200);
    const { period: _period, ...rest } = res.json as Json;
    return rest;
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'wraparound-metrics-'));
  });
  afterAll(async () => {
    await running?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('reads the stored facts back, and rebuilds them from the plans when they are missing', async () => {
    running = await start();
    const t = wrapStack(running, clock);
    await planInStage(t, 'referred');
    await planInStage(t, 'assessment');
    await planInStage(t, 'allocating', [{ domain: 'mental-health', level: 'high', priority: true }]);
    const before = await figures(running);
    expect(before.overall).toMatchObject({ referrals: 3, consented: 2, assessed: 1, offers: 1 });
    expect(before.overall.activeAtEnd).toBe(SUPPRESSED); // zero is still below a threshold of 1
    await running.stop();

    // A clean stop saved the columns: this start reads them from the data directory, and at once the
    // marker stops naming them, so a crash from here on means reading the fact items again.
    running = await start();
    expect((await running.metrics.start()).from).toBe('snapshot');
    expect(running.metrics.size).toBe(3);
    expect(await figures(running)).toEqual({ ...before, asOf: expect.any(String) });
    expect((await running.plans.client.send(new GetCommand({ TableName: running.plans.tableName, Key: metricsKeys.marker() }))).Item).not.toHaveProperty('snapshot');
    // Without the marker saying every plan has stored facts, they are worked out from the plans again
    // (and no snapshot is named on a marker that is not there).
    await running.plans.deleteItem(metricsKeys.marker());
    await running.stop();
    running = await start();
    expect((await running.metrics.start()).from).toBe('plans');
    expect(running.metrics.size).toBe(3);
    expect(await figures(running)).toEqual({ ...before, asOf: expect.any(String) });
  });

  it('a plan saved after a start from the snapshot is in the figures after the next restart', async () => {
    running ??= await start();
    await running.stop();
    running = await start();
    expect((await running.metrics.start()).from).toBe('snapshot');
    const t = wrapStack(running, clock);
    await planInStage(t, 'referred');
    const before = await figures(running);
    expect(before.overall).toMatchObject({ referrals: 4 });
    await running.stop();
    running = await start();
    expect((await running.metrics.start()).from).toBe('snapshot');
    expect(await figures(running)).toEqual({ ...before, asOf: expect.any(String) });
  });

  it('a damaged fact item does not stop the start: every plan\'s facts are worked out again, and the item written afresh', async () => {
    running ??= await start();
    const before = await figures(running);
    const { client, tableName } = running.plans;
    const scanned = await client.send(new ScanCommand({ TableName: tableName, FilterExpression: '#type = :facts', ExpressionAttributeNames: { '#type': 'type' }, ExpressionAttributeValues: { ':facts': 'metrics-facts' }, ConsistentRead: true }));
    const damaged = scanned.Items?.[0] as Record<string, unknown>;
    expect(damaged).toMatchObject({ schema: FACTS_SCHEMA_VERSION });
    // A hand edit (or a bug) leaves one fact item unreadable; then a start without the snapshot file
    // (as after a crash) reads the fact items.
    await client.send(new PutCommand({ TableName: tableName, Item: { ...damaged, facts: '{"plan' } }));
    await running.stop();
    await rm(join(dataDir, 'metrics-facts.snapshot'));
    running = await start();
    expect((await running.metrics.start()).from).toBe('plans');
    expect(await figures(running)).toEqual({ ...before, asOf: expect.any(String) });
    const rewritten = (await running.plans.client.send(new GetCommand({ TableName: tableName, Key: { pk: damaged.pk, sk: damaged.sk }, ConsistentRead: true }))).Item;
    expect(JSON.parse(String(rewritten?.facts))).toMatchObject({ version: expect.any(Number) });
  });
});

describe('GET /metrics.csv while the figures leave plans out', () => {
  // On AWS the figures come from the stored facts (StoredFactsSource), and after a deploy that changed
  // how facts are worked out, plans whose facts are of the older schema are left out until the sweeper
  // has rebuilt them. Here the embedded stack stores the plans and their facts, and a second gateway
  // on the same table and tokens answers GET /metrics as the Lambda does; a fact item put back in the
  // older schema leaves its plan out, as after such a deploy.
  let t: TestStack;
  let aws: Awaited<ReturnType<typeof startGateway>>;
  let awsCall: Call;
  const planIds: string[] = [];
  const warnings: { message: string; details: Record<string, unknown> }[] = [];
  const query = '?groupBy=localAuthority,month';

  beforeAll(async () => {
    t = await startTestStack({ metrics: { suppressionThreshold: 1, roundCountsTo: 1 }, webDistDir: false });
    let reads = 0;
    // Every answer reads the facts afresh (a Lambda container rereads them once they are maxAgeMs old).
    const source = new StoredFactsSource(new FactStore(t.stack.plans.client, t.stack.plans.tableName), t.stack.directory.organizations.map((o) => o.id), { maxAgeMs: 0, now: () => (reads += 1), warn: (message, details) => warnings.push({ message, details }) });
    const functions = { 'api-metrics': makeMetricsApi({ source, clock: t.clock, config: { suppressionThreshold: 1, roundCountsTo: 1 } }) as unknown as ApiFunction } as Record<ApiFunctionName, ApiFunction>;
    aws = await startGateway({ port: 0, host: '127.0.0.1', functions, tokens: t.stack.tokens });
    awsCall = makeCall(`http://127.0.0.1:${aws.port}`);
    for (const stage of ['referred', 'assessment', 'allocating'] as const) planIds.push((await planInStage(t, stage)).planId);
    // Figures come only from complete quarters: the first day of the next one, so these plans are in the answers.
    t.clock.set(`${addDaysToDate(lastOfQuarter(t.clock.today()), 1)}T10:00:00.000Z`);
  });
  afterAll(async () => {
    await aws?.close();
    await t?.stop();
  });

  const boundedOf = (json: Json, dim: string, group: string) =>
    (json.boundedRates as Json[])
      .filter((b) => b.dimension === dim && b.group === group)
      .map((b) => `${b.figure}:${b.bound}`)
      .join(' ');
  /** The CSV GET /metrics.csv gives for a JSON answer of GET /metrics, worked out here: header, overall, each group, then the notes; CRLF after each. */
  const csvOf = (json: Json) => {
    const rows = [
      ['from', 'to', 'dimension', 'group', ...FIGURE_KEYS, 'boundedRates'],
      [json.period.from, json.period.to, 'overall', 'all', ...FIGURE_KEYS.map((k) => String(json.overall[k])), boundedOf(json, 'overall', 'all')],
      ...json.groupBy.flatMap((dim: string) => json.breakdowns[dim].map((g: Json) => [json.period.from, json.period.to, dim, g.group, ...FIGURE_KEYS.map((k) => String(g.figures[k])), boundedOf(json, dim, g.group)])),
    ];
    return [...rows.map((r) => r.join(',')), ...metricsCsvNotes(json as MetricsReport)].join('\r\n') + '\r\n';
  };
  const fileName = (res: { headers: Headers }) => /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1];

  it('says so in its first line, its file name and a header; complete figures are the file as it always was', async () => {
    const asked = (c: Call) => Promise.all([c('GET', `/metrics.csv${query}`, { token: t.commissioner }), c('GET', `/metrics${query}`, { token: t.commissioner })]);
    const [completeCsv, completeJson] = await asked(awsCall);
    expect(completeJson.json.incomplete).toBeUndefined();
    expect(completeJson.json.overall.referrals).toBe(3);
    expect(completeCsv.status).toBe(200);
    // Complete: byte for byte the header row first, the figures of the JSON, the usual name, no extra header.
    expect(completeCsv.text).toBe(csvOf(completeJson.json));
    const { from, to } = completeJson.json.period;
    expect(fileName(completeCsv)).toBe(`wraparound-metrics-${from}-to-${to}.csv`);
    expect(completeCsv.headers.get('figures-incomplete')).toBeNull();
    // The embedded stack's own answer (its in-memory projection) is the same file.
    expect((await t.call('GET', `/metrics.csv${query}`, { token: t.commissioner })).text).toBe(completeCsv.text);

    // A deploy changed how facts are worked out: one plan's stored facts are of the older schema.
    const { client, tableName } = t.stack.plans;
    const key = metricsKeys.facts(planIds[0] as string);
    const stored = (await client.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }))).Item as Record<string, unknown>;
    expect(stored).toMatchObject({ schema: FACTS_SCHEMA_VERSION });
    await client.send(new PutCommand({ TableName: tableName, Item: { ...stored, schema: FACTS_SCHEMA_VERSION - 1 } }));

    const [csv, json] = await asked(awsCall);
    expect(json.json.incomplete).toMatchObject({ reason: expect.stringMatching(/\w/), staleFacts: 1 });
    expect(json.json.overall.referrals).toBe(2);
    expect(csv.status).toBe(200);
    // The reason is the JSON's, word for word, in one field (quoted: it has commas) before the header row.
    const note = `These figures are incomplete. ${json.json.incomplete.reason} Plans not yet counted: 1.`;
    expect(csv.text).toBe(`"${note.replaceAll('"', '""')}"\r\n${csvOf(json.json)}`);
    expect(csv.text.split('\r\n')[1]).toBe(['from', 'to', 'dimension', 'group', ...FIGURE_KEYS, 'boundedRates'].join(','));
    expect(fileName(csv)).toBe(`wraparound-metrics-${from}-to-${to}-incomplete.csv`);
    expect(csv.headers.get('figures-incomplete')).toBe('1');

    // Rebuilt: complete again, and the file is again exactly what it was.
    await client.send(new PutCommand({ TableName: tableName, Item: stored }));
    const [again] = await asked(awsCall);
    expect(again.text).toBe(completeCsv.text);
    expect(fileName(again)).toBe(`wraparound-metrics-${from}-to-${to}.csv`);
    expect(again.headers.get('figures-incomplete')).toBeNull();
  });

  it('leaves out a plan whose stored facts cannot be read, says so, and names the plan in the log (not a 500)', async () => {
    const { client, tableName } = t.stack.plans;
    const key = metricsKeys.facts(planIds[1] as string);
    const stored = (await client.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }))).Item as Record<string, unknown>;
    await client.send(new PutCommand({ TableName: tableName, Item: { ...stored, facts: '{"version":' } }));
    try {
      const res = await awsCall('GET', `/metrics${query}`, { token: t.commissioner });
      expect(res.status, res.text).toBe(200);
      expect(res.json.overall.referrals).toBe(2);
      expect(res.json.incomplete).toEqual({ reason: expect.stringContaining('The stored facts of one plan could not be read'), staleFacts: 1 });
      expect(res.json.incomplete.reason).not.toContain('deploy');
      expect(warnings.at(-1)).toEqual({ message: expect.stringContaining('cannot be read'), details: { plans: 1, planIds: [planIds[1]] } });
      const csv = await awsCall('GET', `/metrics.csv${query}`, { token: t.commissioner });
      expect(csv.headers.get('figures-incomplete')).toBe('1');
    } finally {
      await client.send(new PutCommand({ TableName: tableName, Item: stored }));
    }
  });
});
