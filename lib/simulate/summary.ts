import type { PlanJson } from './agent.ts';
import type { RunCounters, ApiError } from './client.ts';
import { cohortsOf } from './persona.ts';

type Counts = Record<string, number>;

/** What the cohort went through, read back from the API at the end: the same for the same seed. */
export interface SimulationOutcome {
  plans: number;
  /** Plans the simulator could not create or gave up on (its own mistakes; see errors). */
  stuck: number;
  period: { from: string; to: string; days: number };
  /** Plans by the stage they are in now. */
  stages: Counts;
  /** Plans that have been through each stage at some point. */
  reached: Counts;
  referrals: { bySource: Counts; byLocalAuthority: Counts; outOfArea: number };
  offers: { made: number; accepted: number; declined: number; expired: number; withdrawn: number; stillOpen: number; manual: number; declineReasons: Counts; byProvider: Record<string, Counts> };
  activations: { automatic: number; manual: number };
  gaps: { byReason: Counts; outOfArea: number };
  contacts: Counts;
  reviews: { recorded: number; onTime: number; late: number; overdueNow: number; byOutcome: Counts };
  /** Per-domain scores from the first to the last review (domains scored at least twice). */
  scores: { domains: number; improved: number; same: number; worse: number; meanChange: number | null };
  escalations: Counts;
  exits: Counts;
  withdrawals: Counts;
  followUps: { month6: Counts; month12: Counts };
  /** Reoffending within 12 (and 6) months of exit, for each need cohort: known = yes or no. */
  reoffending: Record<string, { known12: number; yes12: number; rate12: number | null; known6: number; yes6: number; rate6: number | null }>;
}

export interface SimulationRun {
  elapsedMs: number;
  setupMs: number;
  simulateMs: number;
  commands: number;
  reads: number;
  clockAdvances: number;
  commandsPerSecond: number;
  conflictRetries: number;
  networkRetries: number;
  /** What the simulator chose to do (manual offers, activations, late reviews...). */
  choices: Counts;
  /** Requests by kind: how many, and their mean time in ms (a clock step includes its sweeps). */
  requests: Record<string, { count: number; meanMs: number }>;
}

export interface SimulationErrors {
  /** 4xx the API returned for the simulator's own mistakes, by "command status". */
  client: Counts;
  /** 5xx (or no answer): never expected. */
  server: number;
  samples: ApiError[];
}

export interface SimulationSummary {
  seed: string;
  url: string;
  outcome: SimulationOutcome;
  errors: SimulationErrors;
  run: SimulationRun;
}

const inc = (counts: Counts, key: string, by = 1) => {
  counts[key] = (counts[key] ?? 0) + by;
};

const sorted = (counts: Counts): Counts => Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));

export function buildOutcome(input: { plans: PlanJson[]; requested: number; stuck: number; period: SimulationOutcome['period']; outOfArea: ReadonlySet<string> }): SimulationOutcome {
  const stages: Counts = {};
  const reached: Counts = {};
  const bySource: Counts = {};
  const byLocalAuthority: Counts = {};
  const offers: SimulationOutcome['offers'] = { made: 0, accepted: 0, declined: 0, expired: 0, withdrawn: 0, stillOpen: 0, manual: 0, declineReasons: {}, byProvider: {} };
  const activations = { automatic: 0, manual: 0 };
  const gaps = { byReason: {} as Counts, outOfArea: 0 };
  const contacts: Counts = {};
  const reviews = { recorded: 0, onTime: 0, late: 0, overdueNow: 0, byOutcome: {} as Counts };
  const escalations: Counts = {};
  const changes: number[] = [];
  const exits: Counts = {};
  const withdrawals: Counts = {};
  const followUps = { month6: {} as Counts, month12: {} as Counts };
  const cohorts: Record<string, { known12: number; yes12: number; known6: number; yes6: number }> = {};
  let outOfAreaPlans = 0;

  for (const plan of input.plans) {
    inc(stages, plan.stage);
    const through = {
      referred: true,
      assessment: Boolean(plan.consent),
      allocating: Boolean(plan.assessedAt),
      active: Boolean(plan.activatedAt),
      exited: Boolean(plan.exit),
      closed: Boolean(plan.closedAt),
      withdrawn: Boolean(plan.withdrawal),
    };
    for (const [stage, yes] of Object.entries(through)) if (yes) inc(reached, stage);
    inc(bySource, plan.referral.source);
    inc(byLocalAuthority, plan.referral.localAuthority);
    const outside = input.outOfArea.has(plan.referral.localAuthority);
    if (outside) outOfAreaPlans += 1;
    for (const a of plan.allocations) {
      offers.made += 1;
      const byProvider = (offers.byProvider[a.providerId] ??= {});
      inc(byProvider, 'offered');
      if (a.manualReason) offers.manual += 1;
      // An ended allocation was accepted first; a withdrawn one was still an open offer when the plan moved on.
      const status = a.status === 'ended' ? 'accepted' : a.status === 'offered' ? 'stillOpen' : a.status;
      if (status === 'accepted' || status === 'declined' || status === 'expired' || status === 'withdrawn' || status === 'stillOpen') offers[status] += 1;
      inc(byProvider, status);
      if (a.declineReason) inc(offers.declineReasons, a.declineReason);
    }
    if (plan.activatedAt) activations[plan.manualActivation ? 'manual' : 'automatic'] += 1;
    for (const g of plan.gaps) {
      inc(gaps.byReason, g.reason);
      if (outside) gaps.outOfArea += 1;
    }
    for (const c of plan.contacts) inc(contacts, c.kind);
    for (const r of plan.reviews) {
      reviews.recorded += 1;
      inc(reviews.byOutcome, r.outcome);
      const late = plan.escalations.some((e) => e.kind === 'review-overdue' && e.ref === String(r.reviewNumber));
      reviews[late ? 'late' : 'onTime'] += 1;
    }
    if (plan.nextReview?.overdue) reviews.overdueNow += 1;
    const scored = new Map<string, number[]>();
    for (const r of plan.reviews) for (const [domain, score] of Object.entries(r.scores)) scored.set(domain, [...(scored.get(domain) ?? []), score]);
    for (const list of scored.values()) if (list.length >= 2) changes.push((list.at(-1) as number) - (list[0] as number));
    for (const e of plan.escalations) inc(escalations, e.kind.replace(/:\d+$/, ''));
    if (plan.exit) inc(exits, plan.exit.reason);
    if (plan.withdrawal) inc(withdrawals, plan.withdrawal.reason);
    for (const f of plan.followUps) inc(f.month === 6 ? followUps.month6 : followUps.month12, f.reoffended);
    const f6 = plan.followUps.find((f) => f.month === 6)?.reoffended;
    const f12 = plan.followUps.find((f) => f.month === 12)?.reoffended;
    if (!plan.exit || (f6 === undefined && f12 === undefined)) continue;
    for (const cohort of cohortsOf(plan.needs)) {
      const c = (cohorts[cohort] ??= { known12: 0, yes12: 0, known6: 0, yes6: 0 });
      if (f12 === 'yes' || f12 === 'no') {
        c.known12 += 1;
        if (f12 === 'yes') c.yes12 += 1;
      }
      if (f6 === 'yes' || f6 === 'no') {
        c.known6 += 1;
        if (f6 === 'yes') c.yes6 += 1;
      }
    }
  }
  const rate = (yes: number, known: number) => (known === 0 ? null : Math.round((yes / known) * 1000) / 1000);
  return {
    plans: input.requested,
    stuck: input.stuck,
    period: input.period,
    stages: sorted(stages),
    reached: sorted(reached),
    referrals: { bySource: sorted(bySource), byLocalAuthority: sorted(byLocalAuthority), outOfArea: outOfAreaPlans },
    offers: { ...offers, declineReasons: sorted(offers.declineReasons), byProvider: Object.fromEntries(Object.entries(offers.byProvider).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, sorted(v)])) },
    activations,
    gaps: { byReason: sorted(gaps.byReason), outOfArea: gaps.outOfArea },
    contacts: sorted(contacts),
    reviews: { ...reviews, byOutcome: sorted(reviews.byOutcome) },
    scores: {
      domains: changes.length,
      improved: changes.filter((c) => c > 0).length,
      same: changes.filter((c) => c === 0).length,
      worse: changes.filter((c) => c < 0).length,
      meanChange: changes.length === 0 ? null : Math.round((changes.reduce((a, b) => a + b, 0) / changes.length) * 100) / 100,
    },
    escalations: sorted(escalations),
    exits: sorted(exits),
    withdrawals: sorted(withdrawals),
    followUps: { month6: sorted(followUps.month6), month12: sorted(followUps.month12) },
    reoffending: Object.fromEntries(
      Object.entries(cohorts)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, c]) => [k, { known12: c.known12, yes12: c.yes12, rate12: rate(c.yes12, c.known12), known6: c.known6, yes6: c.yes6, rate6: rate(c.yes6, c.known6) }]),
    ),
  };
}

export function runFigures(
  counters: RunCounters,
  timing: { setupMs: number; simulateMs: number; elapsedMs: number },
  choices: Counts,
  timings: ReadonlyMap<string, { count: number; totalMs: number }>,
): SimulationRun {
  return {
    ...timing,
    commands: counters.commands,
    reads: counters.reads,
    clockAdvances: counters.clockAdvances,
    commandsPerSecond: Math.round((counters.commands / Math.max(0.001, timing.simulateMs / 1000)) * 10) / 10,
    conflictRetries: counters.conflictRetries,
    networkRetries: counters.networkRetries,
    choices: sorted(choices),
    requests: Object.fromEntries(
      [...timings.entries()].sort(([, a], [, b]) => b.totalMs - a.totalMs).map(([label, t]) => [label, { count: t.count, meanMs: Math.round((t.totalMs / t.count) * 10) / 10 }]),
    ),
  };
}

// ---------------------------------------------------------------------------------------------
// The text a person reads at the end of `wraparound simulate`

const line = (counts: Counts, order?: readonly string[]) => {
  const keys = order ? [...order.filter((k) => k in counts), ...Object.keys(counts).filter((k) => !order.includes(k))] : Object.keys(counts);
  return keys.length === 0 ? '—' : keys.map((k) => `${k} ${counts[k]}`).join(' · ');
};
const pct = (n: number, of: number) => (of === 0 ? '—' : `${Math.round((n / of) * 100)}%`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export const STAGE_ORDER = ['referred', 'assessment', 'allocating', 'active', 'exited', 'closed', 'withdrawn'] as const;

export function formatSummary(s: SimulationSummary): string {
  const o = s.outcome;
  const r = s.run;
  const reviewsDone = o.reviews.onTime + o.reviews.late;
  const lines = [
    `Synthetic cohort: ${o.plans} plans, seed ${s.seed}, ${o.period.from} → ${o.period.to} (${o.period.days} simulated days) on ${s.url}`,
    '',
    `Plans by stage   ${line(o.stages, STAGE_ORDER)}${o.stuck ? ` · not driven to the end: ${o.stuck}` : ''}`,
    `  ever reached   ${line(o.reached, STAGE_ORDER)}`,
    `Referrals        ${line(o.referrals.bySource)}`,
    `  by area        ${line(o.referrals.byLocalAuthority)} (out of area: ${o.referrals.outOfArea})`,
    `Offers           ${o.offers.made} made · accepted ${o.offers.accepted} (${pct(o.offers.accepted, o.offers.made)}) · declined ${o.offers.declined} · expired ${o.offers.expired} · withdrawn ${o.offers.withdrawn} · still open ${o.offers.stillOpen} · by hand ${o.offers.manual}`,
    `  decline reasons ${line(o.offers.declineReasons)}`,
    ...Object.entries(o.offers.byProvider).map(([p, c]) => `  ${p.padEnd(21)}${line(c, ['offered', 'accepted', 'declined', 'expired', 'withdrawn', 'stillOpen'])}`),
    `Activations      automatic ${o.activations.automatic} · by hand ${o.activations.manual}`,
    `Gaps by reason   ${line(o.gaps.byReason)} (unmet needs on the plans at the end; out of area: ${o.gaps.outOfArea})`,
    `Sessions         ${line(o.contacts, ['attended', 'missed', 'cancelled'])}`,
    `Reviews          ${o.reviews.recorded} recorded · on time ${o.reviews.onTime} (${pct(o.reviews.onTime, reviewsDone)}) · late ${o.reviews.late} · overdue now ${o.reviews.overdueNow} · outcomes ${line(o.reviews.byOutcome)}`,
    `Scores           first → last review, ${o.scores.domains} need domains: improved ${o.scores.improved} · same ${o.scores.same} · worse ${o.scores.worse} · mean change ${o.scores.meanChange ?? '—'}`,
    `Escalations      ${line(o.escalations)}`,
    `Exits by reason  ${line(o.exits)}`,
    `Withdrawals      ${line(o.withdrawals)}`,
    `Follow-ups       6 months: ${line(o.followUps.month6, ['no', 'yes', 'unknown'])} · 12 months: ${line(o.followUps.month12, ['no', 'yes', 'unknown'])}`,
    'Reoffending by need cohort (known follow-ups; a plan is in every cohort of its needs)',
    ...Object.entries(o.reoffending).map(
      ([cohort, c]) => `  ${cohort.padEnd(30)} 12 months ${String(c.yes12).padStart(3)}/${String(c.known12).padEnd(4)} ${(c.rate12 === null ? '—' : `${Math.round(c.rate12 * 100)}%`).padStart(4)}   6 months ${String(c.yes6).padStart(3)}/${String(c.known6).padEnd(4)} ${(c.rate6 === null ? '—' : `${Math.round(c.rate6 * 100)}%`).padStart(4)}`,
    ),
    '',
    `Elapsed          ${seconds(r.elapsedMs)} (setup ${seconds(r.setupMs)}, simulation ${seconds(r.simulateMs)})`,
    `Commands sent    ${r.commands} (${r.commandsPerSecond}/s) · reads ${r.reads} · clock steps ${r.clockAdvances} · conflicts retried ${r.conflictRetries}${r.networkRetries ? ` · transport retries ${r.networkRetries}` : ''}`,
    `Requests         ${Object.entries(r.requests).slice(0, 8).map(([label, t]) => `${label} ${t.count}×${t.meanMs}ms`).join(' · ')}`,
    `Simulator errors ${Object.keys(s.errors.client).length === 0 ? 'none' : line(s.errors.client)}`,
  ];
  if (s.errors.server > 0) lines.push(`SERVER ERRORS    ${s.errors.server} (5xx or no answer): see the messages above`);
  for (const e of s.errors.samples.slice(0, 5)) lines.push(`  e.g. ${e.method} ${e.path} → ${e.status}: ${e.detail}`);
  return lines.join('\n');
}
