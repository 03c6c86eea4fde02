import type { NeedDomain, LocalAuthority, ReferralSource } from '../domain/taxonomy.ts';
import { Rng } from './prng.ts';

/**
 * Who each synthetic woman is and what will happen to her, drawn from the seed before the run starts.
 * The figures are illustrative, shaped on the New Chance evidence (co-occurring needs; lower
 * reoffending for women with mental-health and substance-misuse needs who are supported), not
 * measured from any real cohort. Everything that depends on what the API answers (which provider
 * was offered what, when a review falls due) is decided during the run, from the plan's own stream.
 */

export const WEST_MIDLANDS: readonly LocalAuthority[] = ['birmingham', 'coventry', 'dudley', 'sandwell', 'solihull', 'walsall', 'wolverhampton'];
export const OUT_OF_AREA: readonly LocalAuthority[] = ['staffordshire', 'warwickshire', 'worcestershire', 'shropshire', 'telford-and-wrekin'];

/** Roughly by population, so Birmingham sends the most referrals; 6% come from outside the area. */
const AREA_WEIGHTS: Partial<Record<LocalAuthority, number>> = {
  birmingham: 33,
  coventry: 10,
  dudley: 9,
  sandwell: 10,
  solihull: 6,
  walsall: 9,
  wolverhampton: 9,
  staffordshire: 2,
  warwickshire: 1.5,
  worcestershire: 1,
  shropshire: 0.75,
  'telford-and-wrekin': 0.75,
};

const SOURCE_WEIGHTS: Record<ReferralSource, number> = {
  'custody-diversion': 26,
  'out-of-court-disposal': 18,
  court: 9,
  'problem-solving-court': 8,
  probation: 16,
  self: 10,
  'other-agency': 13,
};

export type Level = 'low' | 'medium' | 'high';
export interface NeedPlan {
  domain: NeedDomain;
  level: Level;
  priority: boolean;
  goals: string[];
}

interface Archetype {
  weight: number;
  /** Needs every woman of this profile has, as priorities. */
  core: NeedDomain[];
  /** Needs she may also have: probability of each. */
  extras: Partial<Record<NeedDomain, number>>;
}

/** Need profiles with co-occurring needs: the women who fall between single-issue services. */
export const ARCHETYPES = {
  'dual-diagnosis': { weight: 20, core: ['substance-misuse', 'mental-health'], extras: { trauma: 0.5, accommodation: 0.4, 'finance-benefit-debt': 0.3, 'physical-health': 0.2 } },
  'domestic-abuse': { weight: 19, core: ['domestic-abuse'], extras: { trauma: 0.6, 'emotional-resilience': 0.5, 'children-families': 0.5, accommodation: 0.4, 'mental-health': 0.3 } },
  complex: { weight: 15, core: ['substance-misuse', 'mental-health', 'domestic-abuse', 'accommodation'], extras: { trauma: 0.5, 'finance-benefit-debt': 0.4, 'children-families': 0.3 } },
  poverty: { weight: 15, core: ['finance-benefit-debt'], extras: { accommodation: 0.7, 'education-training-employment': 0.6, 'children-families': 0.4, 'mental-health': 0.3 } },
  'mental-health': { weight: 12, core: ['mental-health'], extras: { 'emotional-resilience': 0.6, 'interpersonal-skills': 0.5, 'thinking-behaviour': 0.4, trauma: 0.3 } },
  alcohol: { weight: 8, core: ['alcohol'], extras: { 'physical-health': 0.5, 'mental-health': 0.4, 'finance-benefit-debt': 0.3 } },
  exploitation: { weight: 6, core: ['sexual-exploitation'], extras: { trauma: 0.6, 'substance-misuse': 0.5, accommodation: 0.5, 'emotional-resilience': 0.3 } },
  'thinking-behaviour': { weight: 5, core: ['thinking-behaviour'], extras: { 'interpersonal-skills': 0.6, 'education-training-employment': 0.5, alcohol: 0.2 } },
} as const satisfies Record<string, Archetype>;
export type ArchetypeName = keyof typeof ARCHETYPES;

const GOALS: Record<NeedDomain, string[]> = {
  accommodation: ['Secure a tenancy', 'Stay in her home', 'Move out of the hostel'],
  'education-training-employment': ['Start a college course', 'Find part-time work', 'Volunteer weekly'],
  'physical-health': ['Register with a GP', 'Attend health checks'],
  'mental-health': ['See the mental health team', 'Manage anxiety day to day'],
  'substance-misuse': ['Engage with recovery service', 'Stabilise on a script', 'Stay drug-free'],
  alcohol: ['Cut down drinking', 'Attend recovery group'],
  'finance-benefit-debt': ['Sort out benefits', 'Make a debt plan', 'Open a bank account'],
  'children-families': ['Regular contact with her children', 'Work with children’s services'],
  'thinking-behaviour': ['Complete thinking-skills course'],
  'domestic-abuse': ['Safety plan in place', 'Work with an advocate'],
  'sexual-exploitation': ['Exit safely', 'Work with a specialist worker'],
  trauma: ['Start trauma recovery work'],
  'emotional-resilience': ['Build confidence', 'Join a women’s group'],
  'interpersonal-skills': ['Healthier relationships'],
};

export type ExitIntent = 'completed' | 'disengaged' | 'transferred' | 'moved-away' | 'custody' | 'other' | 'consent-withdrawn';

/** What happens to her before support starts, if it never does. */
export type EarlyEnd =
  | { at: 'referred'; kind: 'withdraw'; reason: 'unreachable' | 'declined-support' | 'not-eligible' | 'other'; afterDays: number }
  | { at: 'assessment'; kind: 'withdraw'; reason: 'declined-support' | 'not-eligible' }
  | { at: 'assessment'; kind: 'withdraw-consent' }
  | { at: 'assessment'; kind: 'exit'; reason: 'custody' | 'moved-away' };

export interface Persona {
  index: number;
  referDay: number;
  source: ReferralSource;
  localAuthority: LocalAuthority;
  outOfArea: boolean;
  urgency: 'routine' | 'urgent';
  age: number;
  archetype: ArchetypeName;
  needs: NeedPlan[];
  risks: { domesticAbuse: 'none' | 'standard' | 'medium' | 'high'; selfHarm: boolean; safeguardingChildren: boolean };
  adjustments: ('neurodiversity' | 'learning-difficulty' | 'brain-injury' | 'language' | 'female-worker')[];
  shareWithProviders: boolean;
  consentMethod: 'written' | 'verbal' | 'digital';
  /** Working days from referral to consent, and from consent to the assessment. */
  consentAfter: number;
  assessAfter: number;
  earlyEnd?: EarlyEnd;
  /** How she leaves once support has started, and after how many days of it. */
  exit: ExitIntent;
  exitAfterDays: number;
  /** Completed plans end at a review (exit outcome) or with providers ending their parts first. */
  completeAtReview: boolean;
  /** Day (after activation) she stops engaging; only for some. */
  disengageAfterDays?: number;
  /** Chance a session is attended while she engages. */
  attendance: number;
  /** Mean score change per review while she engages. */
  progress: number;
  /** Chance a given review is held late (past its grace period). */
  lateReviews: number;
  /** Chance the coordinator offers a need by hand when the engine found nobody. */
  manualOffers: number;
  /** Reoffending propensity within 12 months of exit, before the exit reason is known. */
  cohortRisk: number;
}

/** Reoffending is lower for supported women with these needs (the evaluation's cohorts). */
const COHORT_FACTOR: Partial<Record<NeedDomain, number>> = {
  'mental-health': 0.64,
  'substance-misuse': 0.47,
  'domestic-abuse': 0.85,
  alcohol: 0.8,
  'sexual-exploitation': 1.15,
  'thinking-behaviour': 1.1,
};

/** 12-month reoffending by how the plan ended, before the cohort factors. */
export const EXIT_RISK: Record<ExitIntent, number> = {
  completed: 0.26,
  transferred: 0.34,
  'moved-away': 0.34,
  other: 0.38,
  disengaged: 0.55,
  custody: 0.7,
  'consent-withdrawn': 0.4,
};

function levelFor(rng: Rng, core: boolean): Level {
  return core ? rng.weighted({ high: 60, medium: 40 }) : rng.weighted({ low: 40, medium: 45, high: 15 });
}

function drawNeeds(rng: Rng, archetype: ArchetypeName): NeedPlan[] {
  const a: Archetype = ARCHETYPES[archetype];
  const needs: NeedPlan[] = a.core.map((domain) => ({ domain, level: levelFor(rng, true), priority: true, goals: [rng.pick(GOALS[domain])] }));
  for (const [domain, p] of Object.entries(a.extras) as [NeedDomain, number][]) {
    if (!rng.chance(p)) continue;
    const level = levelFor(rng, false);
    // A housing crisis is always a priority; otherwise only what is assessed high.
    needs.push({ domain, level, priority: level === 'high' || (domain === 'accommodation' && rng.chance(0.5)), goals: rng.chance(0.7) ? [rng.pick(GOALS[domain])] : [] });
  }
  return needs;
}

/**
 * When she is referred: a quarter in the first fortnight (the programme opens with women already
 * waiting), most of the rest over the first third of the span, and a trickle to the end so some plans
 * are still early in their life when the run stops.
 */
function drawReferDay(rng: Rng, totalDays: number): number {
  const window = Math.max(14, Math.round(totalDays * 0.33));
  const lastDay = Math.max(1, totalDays - 5);
  const r = rng.float();
  if (r < 0.25) return rng.int(0, Math.min(13, lastDay));
  if (r < 0.85) return rng.int(0, Math.min(window, lastDay));
  return rng.int(Math.min(window, lastDay), lastDay);
}

/** Working days to consent: most within the week; some slow, and a few past the assessment deadline. */
function consentAfter(rng: Rng): number {
  const speed = rng.weighted({ quick: 75, slow: 17, late: 8 });
  return speed === 'quick' ? rng.int(0, 4) : speed === 'slow' ? rng.int(5, 9) : rng.int(10, 18);
}

export function drawPersona(seed: string, index: number, totalDays: number): Persona {
  const rng = Rng.for(seed, 'persona', index);
  const localAuthority = rng.weighted(AREA_WEIGHTS);
  const outOfArea = OUT_OF_AREA.includes(localAuthority);
  const source = rng.weighted(SOURCE_WEIGHTS);
  const archetype = rng.weighted(Object.fromEntries(Object.entries(ARCHETYPES).map(([k, v]) => [k, v.weight])) as Record<ArchetypeName, number>);
  const needs = drawNeeds(rng, archetype);
  const has = (d: NeedDomain) => needs.some((n) => n.domain === d);
  // A few 17-year-olds: only some services take them (an eligibility gap).
  const age = rng.chance(0.02) ? 17 : Math.round(rng.around(33, 14, 18, 64));
  const domesticAbuse = has('domestic-abuse') ? rng.weighted({ high: 35, medium: 40, standard: 25 }) : rng.weighted({ none: 85, standard: 15 });
  const adjustments: Persona['adjustments'] = [];
  if (rng.chance(0.1)) adjustments.push('neurodiversity');
  if (rng.chance(0.06)) adjustments.push('learning-difficulty');
  if (rng.chance(0.03)) adjustments.push('brain-injury');
  if (rng.chance(0.04)) adjustments.push('language');
  if (rng.chance(0.2)) adjustments.push('female-worker');

  const earlyRoll = rng.float();
  let earlyEnd: EarlyEnd | undefined;
  if (earlyRoll < 0.07)
    earlyEnd = { at: 'referred', kind: 'withdraw', reason: rng.weighted({ unreachable: 45, 'declined-support': 35, 'not-eligible': 15, other: 5 }), afterDays: rng.int(4, 22) };
  else if (earlyRoll < 0.095) earlyEnd = { at: 'assessment', kind: 'withdraw', reason: rng.weighted({ 'declined-support': 70, 'not-eligible': 30 }) };
  else if (earlyRoll < 0.105) earlyEnd = { at: 'assessment', kind: 'withdraw-consent' };
  else if (earlyRoll < 0.13) earlyEnd = { at: 'assessment', kind: 'exit', reason: rng.weighted({ custody: 60, 'moved-away': 40 }) };

  const substance = has('substance-misuse') || has('alcohol');
  const exit = rng.weighted<ExitIntent>({
    completed: 50,
    disengaged: substance ? 19 : 14,
    transferred: outOfArea ? 24 : 6,
    'moved-away': outOfArea ? 18 : 6,
    custody: substance ? 10 : 6,
    other: 4,
    'consent-withdrawn': 5,
  });
  // Early leavers are common: a third of the women who do not complete leave within five weeks.
  const early = rng.chance(0.35);
  const exitAfterDays =
    exit === 'completed'
      ? rng.int(110, 260)
      : exit === 'disengaged'
        ? 0 // set from the disengagement below
        : early
          ? rng.int(5, 35)
          : rng.int(36, 210);
  const disengageAfterDays = exit === 'disengaged' ? (early ? rng.int(7, 21) : rng.int(22, 120)) : rng.chance(0.08) ? rng.int(30, 120) : undefined;
  const cohortRisk = needs.reduce((risk, n) => risk * (COHORT_FACTOR[n.domain] ?? 1), 1);
  return {
    index,
    referDay: drawReferDay(rng, totalDays),
    source,
    localAuthority,
    outOfArea,
    urgency: rng.chance(domesticAbuse === 'high' ? 0.45 : 0.12) ? 'urgent' : 'routine',
    age,
    archetype,
    needs,
    risks: { domesticAbuse, selfHarm: rng.chance(has('mental-health') ? 0.25 : 0.05), safeguardingChildren: rng.chance(has('children-families') ? 0.5 : 0.08) },
    adjustments,
    shareWithProviders: !rng.chance(0.025),
    consentMethod: rng.weighted({ written: 60, verbal: 30, digital: 10 }),
    consentAfter: consentAfter(rng),
    assessAfter: rng.chance(0.88) ? rng.int(1, 5) : rng.int(6, 12),
    ...(earlyEnd ? { earlyEnd } : {}),
    exit,
    exitAfterDays: exit === 'disengaged' ? (disengageAfterDays ?? 30) + rng.int(21, 60) : exitAfterDays,
    completeAtReview: rng.chance(0.7),
    ...(disengageAfterDays !== undefined ? { disengageAfterDays } : {}),
    attendance: rng.around(0.8, 0.15, 0.45, 0.97),
    progress: rng.around(0.55, 0.35, 0.1, 1),
    lateReviews: rng.around(0.14, 0.12, 0.02, 0.4),
    manualOffers: rng.around(0.5, 0.3, 0.1, 0.9),
    cohortRisk,
  };
}

/** The need cohorts a plan belongs to: every need domain it has had (as the commissioner figures count them). */
export function cohortsOf(needs: readonly { domain: string }[]): string[] {
  return [...new Set(needs.map((n) => n.domain))].sort();
}
