import { addMonths } from '../domain/calendar.ts';
import type { NeedDomain } from '../domain/taxonomy.ts';
import type { SimCalendar } from './calendar.ts';
import type { SimulationClient } from './client.ts';
import { EXIT_RISK, type ExitIntent, type Level, type Persona } from './persona.ts';
import { Rng } from './prng.ts';

/** The parts of the API's plan view the simulator reads. */
export interface PlanJson {
  planId: string;
  stage: string;
  version: number;
  referral: { source: string; localAuthority: string };
  needs: { domain: NeedDomain; level: Level; priority: boolean; status: 'open' | 'closed' }[];
  allocations: { allocationId: string; providerId: string; serviceId: string; needs: NeedDomain[]; status: string; respondBy: string; manualReason?: string; declineReason?: string }[];
  gaps: { domain: NeedDomain; reason: string }[];
  reviews: { reviewNumber: number; date: string; outcome: string; scores: Record<string, number> }[];
  contacts: { allocationId: string; kind: string }[];
  escalations: { kind: string; ref?: string; resolvedAt?: string }[];
  consent?: { givenAt: string };
  assessedAt?: string;
  activatedAt?: string;
  closedAt?: string;
  manualActivation?: { reason: string };
  exit?: { reason: string; exitedAt: string };
  withdrawal?: { reason: string };
  followUps: { month: 6 | 12; reoffended: 'yes' | 'no' | 'unknown' }[];
  nextReview: { reviewNumber: number; dueAt: string; overdue: boolean } | null;
}

export interface ServiceInfo {
  serviceId: string;
  providerId: string;
  needDomains: string[];
  areas: string[];
}

export interface Tokens {
  coordinator: string;
  teamLead: string;
  provider(providerId: string): string;
}

/** What every agent shares: the API, the calendar, the tokens, the seed and the run's tag. */
export interface World {
  client: SimulationClient;
  calendar: SimCalendar;
  tokens: Tokens;
  seed: string;
  /** Makes this run's Idempotency-Keys (and so its plan ids and identities) its own. */
  runTag: string;
  /** Live directory look-up for manual offers: services offering a domain with a free place. */
  servicesWithRoom(domain: NeedDomain): Promise<(ServiceInfo & { available: number })[]>;
  /** Counts of what the simulator chose to do (not what the API recorded). */
  tally(what: string): void;
}

type LocalStage = 'waiting' | 'referred' | 'assessment' | 'allocating' | 'active' | 'exited' | 'closed' | 'withdrawn' | 'stuck';

const GIVEN = ['Amara', 'Bethany', 'Chantelle', 'Danielle', 'Eleanor', 'Farah', 'Gemma', 'Hannah', 'Imani', 'Jasmine', 'Kayleigh', 'Leanne', 'Marcia', 'Nadia', 'Olivia', 'Priya', 'Rachel', 'Samira', 'Tanya', 'Una', 'Vicky', 'Wendy', 'Yasmin', 'Zoe', 'Aisha', 'Bridget', 'Ciara', 'Demi', 'Esther', 'Grace'];
const FAMILY = ['Ahmed', 'Baker', 'Clarke', 'Davies', 'Evans', 'Francis', 'Green', 'Hussain', 'Iqbal', 'Jones', 'Khan', 'Lewis', 'Morris', 'Nowak', 'Okafor', 'Patel', 'Quinn', 'Roberts', 'Singh', 'Taylor', 'Underwood', 'Walker', 'Wright', 'Young', 'Begum', 'Campbell', 'Doyle', 'Edwards', 'Fletcher', 'Gordon'];
const WORDS = [
  'Feeling safer at home now.',
  'I have my own place and the kids visit.',
  'Some weeks are hard but I keep coming.',
  'I was not ready before. I am now.',
  'The group helps. I am not on my own.',
  'Money is still a worry.',
  'Sleeping better, drinking less.',
  'I want to get back to work.',
];
const ACTIVATION_REASONS = [
  'She wants to start now; the gap is with the team lead.',
  'Start with the support in place; housing to follow.',
  'Key work can begin while we look for the rest.',
];
const MANUAL_REASONS = ['Travel agreed with her: she can get there by bus.', 'Spoke to the service manager, who agreed to take her.', 'She knows this worker and asked for her.'];
/** Needs that come up at a review (an eviction, debts, a relapse, children's services). */
const ARISING: { domain: NeedDomain; level: Level; priority: boolean }[] = [
  { domain: 'accommodation', level: 'high', priority: true },
  { domain: 'finance-benefit-debt', level: 'medium', priority: false },
  { domain: 'mental-health', level: 'medium', priority: false },
  { domain: 'children-families', level: 'high', priority: true },
  { domain: 'education-training-employment', level: 'low', priority: false },
];

interface ReviewSchedule {
  number: number;
  day: number;
  late: boolean;
  adjust: 'none' | 'add' | 'close';
}

/**
 * One woman's plan, driven through the API by the coordinator and her providers. Everything it
 * decides comes from its persona and its own random stream, and from what the API answered, so the
 * same seed replays the same plan whatever else runs at the same time.
 */
export class PlanAgent {
  readonly p: Persona;
  private readonly rng: Rng;
  planId: string | undefined;
  stage: LocalStage = 'waiting';
  view: PlanJson | undefined;
  wake: number;
  failures = 0;
  private seq = 0;
  private consentDay = 0;
  private withdrawDay = Infinity;
  private assessDay = 0;
  private activatedDay: number | undefined;
  private exitDay = Infinity;
  private disengageDay = Infinity;
  private allocatingSince = 0;
  private readonly contactDue = new Map<string, number>();
  private review: ReviewSchedule | undefined;
  private readonly scores = new Map<string, number>();
  private followUp: { due: Record<6 | 12, number>; outcome: Record<6 | 12, 'yes' | 'no' | 'unknown'>; done: Set<number> } | undefined;
  private readonly triedManual = new Set<string>();

  private readonly runTag: string;

  constructor(persona: Persona, seed: string, runTag: string) {
    this.p = persona;
    this.rng = Rng.for(seed, 'plan', persona.index);
    this.runTag = runTag;
    this.wake = persona.referDay;
  }

  /** Whether providers may have an open offer of this plan (as far as this agent last saw). */
  mayHaveOpenOffers(): boolean {
    if (this.stage === 'allocating') return true;
    if (this.stage !== 'active') return false;
    return !this.view || this.view.allocations.some((a) => a.status === 'offered');
  }

  /** Someone else changed the plan (a provider answered an offer): read it again. */
  async reload(w: World): Promise<void> {
    if (this.planId && !this.done) await this.refresh(w);
  }

  get done(): boolean {
    return this.stage === 'closed' || this.stage === 'withdrawn' || this.stage === 'stuck';
  }

  /**
   * Whether today's step may change what services hold (assessment, manual offers, exits, adjusting
   * reviews): such steps run one plan at a time, in plan order, so the allocation engine sees the
   * same loads in the same order on every run with the seed.
   */
  changesCapacity(day: number): boolean {
    if (this.stage === 'assessment' || this.stage === 'allocating') return true;
    if (this.stage !== 'active') return false;
    if (this.exitDay <= day) return true;
    return Boolean(this.review && this.review.day <= day && (this.review.adjust !== 'none' || this.completesAtReview(day)));
  }

  private completesAtReview(day: number): boolean {
    return this.p.exit === 'completed' && this.p.completeAtReview && day >= this.exitDay;
  }

  /** Every POST's Idempotency-Key: the run, the plan, the command's place in the plan's story. */
  private key(what: string): string {
    this.seq += 1;
    return `sim-${this.runTag}-${this.p.index}-${this.seq}-${what}`;
  }

  async act(w: World, day: number): Promise<void> {
    // Coordinators and providers work on working days: anything due at a weekend waits for Monday.
    if (!w.calendar.isWorkingDay(day)) return void (this.wake = w.calendar.onOrAfter(day));
    try {
      switch (this.stage) {
        case 'waiting':
          return await this.refer(w, day);
        case 'referred':
          return await this.fromReferred(w, day);
        case 'assessment':
          return await this.fromAssessment(w, day);
        case 'allocating':
          return await this.whileAllocating(w, day);
        case 'active':
          return await this.whileActive(w, day);
        case 'exited':
          return await this.followUps(w, day);
        default:
          this.wake = Infinity;
      }
    } finally {
      if (this.done) this.wake = Infinity;
      else if (this.wake <= day) this.wake = day + 1;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Talking to the API

  /**
   * Read the plan again only when someone else may have changed it: a provider answering an offer,
   * or the sweeper expiring one. Timers otherwise add only reminders and escalations, which the
   * coordinator's next step does not depend on.
   */
  private async refreshIfNeeded(w: World): Promise<boolean> {
    const view = this.view;
    if (view && view.stage === this.stage && this.stage === 'active' && !view.allocations.some((a) => a.status === 'offered')) return true;
    return this.refresh(w);
  }

  private async refresh(w: World): Promise<boolean> {
    const got = await w.client.get<PlanJson>(`/plans/${this.planId}`, w.tokens.coordinator, 'GET /plans/{id}');
    if (!got.ok) return false;
    this.view = got.json;
    return true;
  }

  /** A coordinator command on the plan; `still` says whether it still applies after a conflicting change. */
  private async command(w: World, day: number, segment: string, body: unknown, still: (v: PlanJson) => boolean = () => true): Promise<boolean> {
    const result = await w.client.post<PlanJson>(segment, `/plans/${this.planId}/${segment}`, w.tokens.coordinator, body, this.key(segment), async () => (await this.refresh(w)) && still(this.view as PlanJson));
    if (!result.ok) return this.failed(day);
    this.absorb(w, result.json, day);
    return true;
  }

  /** A provider's command on one of its allocations (contacts, ending its part). */
  private async providerCommand(w: World, day: number, providerId: string, allocationId: string, segment: string, body: unknown): Promise<boolean> {
    const result = await w.client.post(segment, `/allocations/${allocationId}/${segment}`, w.tokens.provider(providerId), body, this.key(`${segment}-${allocationId.split('_').at(-1)}`), async () =>
      (await this.refresh(w)) ? Boolean(this.view?.allocations.some((a) => a.allocationId === allocationId && a.status === 'accepted')) : false,
    );
    if (!result.ok) return this.failed(day);
    // Ending a part closes needs and may re-allocate: read the plan again before relying on it.
    if (segment !== 'record-contact') this.view = undefined;
    return true;
  }

  private failed(day: number): false {
    this.failures += 1;
    // Give up on a plan the simulator keeps getting wrong, rather than hammering the API.
    if (this.failures >= 5) {
      this.stage = 'stuck';
      this.wake = Infinity;
    } else {
      this.wake = day + 1;
      this.view = undefined;
    }
    return false;
  }

  /** Take in the plan as the API returned it, and schedule what follows a change of stage. */
  private absorb(w: World, view: PlanJson, day: number) {
    this.view = view;
    const before = this.stage;
    const now = view.stage as LocalStage;
    if (now === before) return;
    this.stage = now;
    switch (now) {
      case 'assessment':
        this.assessDay = w.calendar.addWorkingDays(day, this.p.assessAfter);
        break;
      case 'allocating':
        this.allocatingSince = day;
        break;
      case 'active':
        if (this.activatedDay === undefined) {
          // A provider's accept may have activated it before the coordinator looked.
          this.activatedDay = view.activatedAt ? Math.min(day, w.calendar.dayOf(view.activatedAt)) : day;
          this.exitDay = this.activatedDay + this.p.exitAfterDays;
          if (this.p.disengageAfterDays !== undefined) this.disengageDay = this.activatedDay + this.p.disengageAfterDays;
        }
        this.review = undefined;
        break;
      case 'exited':
        this.scheduleFollowUps(w, view);
        break;
      default:
        break;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Referral, consent, assessment

  private identity(w: World, day: number) {
    const rng = Rng.for(w.seed, w.runTag, 'identity', this.p.index);
    // Born `age` years and 1-330 days before the referral: exactly `age` on the day.
    const referral = w.calendar.date(day);
    const year = Number(referral.slice(0, 4)) - this.p.age;
    const anniversary = `${year}${referral.slice(4)}`.replace(/-02-29$/, '-02-28');
    const born = new Date(Date.parse(`${anniversary}T12:00:00Z`) - rng.int(1, 330) * 86_400_000).toISOString().slice(0, 10);
    return { givenName: rng.pick(GIVEN), familyName: `${rng.pick(FAMILY)}-${rng.pick(FAMILY)}`, dateOfBirth: born };
  }

  private async refer(w: World, day: number) {
    const body = {
      participant: this.identity(w, day),
      referral: { source: this.p.source, localAuthority: this.p.localAuthority, urgency: this.p.urgency, ...(this.rng.chance(0.3) ? { note: 'Referred with her agreement.' } : {}) },
    };
    const result = await w.client.post<PlanJson>('refer', '/plans', w.tokens.coordinator, body, this.key('refer'));
    if (!result.ok) {
      this.stage = 'stuck';
      this.wake = Infinity;
      return;
    }
    this.planId = result.json.planId;
    this.absorb(w, result.json, day);
    this.consentDay = w.calendar.addWorkingDays(day, this.p.consentAfter);
    const early = this.p.earlyEnd;
    if (early?.at === 'referred') this.withdrawDay = w.calendar.addWorkingDays(day, early.afterDays);
    this.wake = Math.min(this.consentDay, this.withdrawDay);
  }

  private async fromReferred(w: World, day: number) {
    const early = this.p.earlyEnd;
    if (early?.at === 'referred' && day >= this.withdrawDay) {
      await this.command(w, day, 'withdraw', { reason: early.reason, ...(early.reason === 'unreachable' ? { note: 'No answer to calls, texts or a letter.' } : {}) });
      return;
    }
    if (day < this.consentDay) return void (this.wake = this.consentDay);
    const share = this.p.shareWithProviders;
    const categories = share ? ['needs', ...(this.rng.chance(0.5) ? ['risks'] : []), ...(this.rng.chance(0.4) ? ['adjustments'] : [])] : ['needs'];
    // Consent taken in custody or at court is often given on the day of the referral, before it is keyed in.
    const atReferral = this.p.source === 'custody-diversion' || this.p.source === 'court' || this.p.source === 'problem-solving-court';
    const givenAt = w.calendar.date(atReferral ? this.p.referDay : day);
    if (await this.command(w, day, 'record-consent', { scope: { shareWithProviders: share, dataCategories: categories }, givenAt, method: this.p.consentMethod })) this.wake = this.assessDay;
  }

  private async fromAssessment(w: World, day: number) {
    if (day < this.assessDay) return void (this.wake = this.assessDay);
    const early = this.p.earlyEnd;
    if (early?.at === 'assessment') {
      if (early.kind === 'withdraw') await this.command(w, day, 'withdraw', { reason: early.reason });
      else if (early.kind === 'withdraw-consent') await this.command(w, day, 'withdraw-consent', { note: 'She no longer wants her information shared.' });
      else await this.command(w, day, 'exit', { reason: early.reason });
      return;
    }
    const body = { needs: this.p.needs, risks: this.p.risks, adjustments: this.p.adjustments };
    if (await this.command(w, day, 'submit-assessment', body)) {
      w.tally('assessments');
      this.wake = day + 1;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Allocation: wait for providers, step in when the engine found nobody

  private async whileAllocating(w: World, day: number) {
    if (!(await this.refresh(w))) return void this.failed(day);
    const view = this.view as PlanJson;
    this.absorb(w, view, day);
    if (this.stage !== 'allocating') return this.planNext(w, day);
    await this.recordContacts(w, day);
    if (day >= this.exitDay && this.p.exit !== 'completed') return this.leave(w, day);

    const open = view.needs.filter((n) => n.status === 'open');
    const live = view.allocations.filter((a) => a.status === 'offered' || a.status === 'accepted');
    const held = new Set(live.flatMap((a) => a.needs));
    const unmet = open.filter((n) => n.priority && !held.has(n.domain));
    const pending = view.allocations.filter((a) => a.status === 'offered');
    const waited = w.calendar.workingDaysBetween(this.allocatingSince, day);
    if (unmet.length === 0 || (pending.length > 0 && waited < 5)) return void (this.wake = w.calendar.addWorkingDays(day, 1));

    const gapOf = (domain: NeedDomain) => view.gaps.find((g) => g.domain === domain)?.reason;
    // Out of area, nobody covers her: most are referred on to a service where she lives.
    if (this.p.outOfArea && unmet.every((n) => gapOf(n.domain) === 'no-coverage-in-area') && (this.p.exit === 'transferred' || this.p.exit === 'moved-away' || this.rng.chance(0.5))) {
      w.tally('transferred out of area');
      await this.command(w, day, 'exit', { reason: 'transferred', note: 'Referred on to her local women’s service.' }, (v) => v.stage === 'allocating' || v.stage === 'active');
      return;
    }
    const candidates = unmet.filter((n) => gapOf(n.domain) !== 'no-consent-to-share' && !this.triedManual.has(n.domain));
    if (candidates.length > 0 && this.rng.chance(this.p.manualOffers)) {
      const need = candidates[0] as (typeof candidates)[number];
      this.triedManual.add(need.domain);
      const tried = new Set(view.allocations.filter((a) => a.needs.includes(need.domain)).map((a) => a.serviceId));
      const rooms = (await w.servicesWithRoom(need.domain)).filter((s) => !tried.has(s.serviceId));
      const local = rooms.filter((s) => s.areas.includes(this.p.localAuthority));
      const choice = (local.length > 0 ? local : rooms)[0];
      if (choice) {
        w.tally('manual offers');
        await this.command(w, day, 'offer-manually', { serviceId: choice.serviceId, needs: [need.domain], reason: this.rng.pick(MANUAL_REASONS) }, (v) => v.stage === 'allocating');
        this.wake = w.calendar.addWorkingDays(day, 1);
        return;
      }
    }
    const accepted = view.allocations.some((a) => a.status === 'accepted');
    if (accepted || waited >= 4 || !this.p.shareWithProviders) {
      w.tally('manual activations');
      await this.command(w, day, 'activate', { reason: this.p.shareWithProviders ? this.rng.pick(ACTIVATION_REASONS) : 'Consent does not cover sharing: coordinator-led support only.' }, (v) => v.stage === 'allocating');
      return this.planNext(w, day);
    }
    this.wake = w.calendar.addWorkingDays(day, 1);
  }

  // -------------------------------------------------------------------------------------------
  // Active: sessions, reviews, exit

  private async whileActive(w: World, day: number) {
    if (!(await this.refreshIfNeeded(w))) return void this.failed(day);
    this.absorb(w, this.view as PlanJson, day);
    if (this.stage !== 'active') return this.planNext(w, day);
    await this.recordContacts(w, day);
    if (day >= this.exitDay && !(this.p.exit === 'completed' && this.p.completeAtReview)) {
      await this.leave(w, day);
      return this.planNext(w, day);
    }
    this.scheduleReview(w, day);
    if (this.review && this.review.day <= day) await this.holdReview(w, day, this.review);
    this.planNext(w, day);
  }

  private engaged(day: number) {
    return day < this.disengageDay;
  }

  private async recordContacts(w: World, day: number) {
    const view = this.view as PlanJson;
    const accepted = view.allocations.filter((a) => a.status === 'accepted');
    for (const id of [...this.contactDue.keys()]) if (!accepted.some((a) => a.allocationId === id)) this.contactDue.delete(id);
    for (const a of accepted) {
      if (!this.contactDue.has(a.allocationId)) this.contactDue.set(a.allocationId, w.calendar.onOrAfter(day + this.rng.int(1, 5)));
      const due = this.contactDue.get(a.allocationId) as number;
      if (due > day) continue;
      const sinceDisengaging = day - this.disengageDay;
      // After she stops engaging, a few more sessions are recorded as missed; then providers stop booking.
      if (sinceDisengaging > 21) {
        this.contactDue.set(a.allocationId, Infinity);
        continue;
      }
      const attendance = this.engaged(day) ? this.p.attendance : 0.1;
      const kind = this.rng.chance(attendance) ? 'attended' : this.rng.chance(0.65) ? 'missed' : 'cancelled';
      await this.providerCommand(w, day, a.providerId, a.allocationId, 'record-contact', { date: w.calendar.date(day), kind });
      // A session every one and a half to three weeks with each provider.
      this.contactDue.set(a.allocationId, w.calendar.onOrAfter(day + this.rng.int(10, 21)));
    }
  }

  private scheduleReview(w: World, day: number) {
    if (!this.view) return;
    const next = this.view.nextReview;
    if (!next) return void (this.review = undefined);
    if (this.review?.number === next.reviewNumber) return;
    const dueDay = w.calendar.dayOf(next.dueAt);
    const late = this.rng.chance(this.p.lateReviews + (this.engaged(dueDay) ? 0 : 0.3));
    // On time: within a few days of the due date, before the grace period ends; late: after the escalation.
    const target = late ? dueDay + this.rng.int(6, 16) : dueDay + this.rng.int(-3, 1);
    const adjust = this.rng.weighted({ none: 84, add: 8, close: 8 });
    this.review = { number: next.reviewNumber, day: w.calendar.onOrAfter(Math.max(target, day + 1)), late, adjust };
  }

  private nextScore(domain: string, level: Level, day: number): number {
    const previous = this.scores.get(domain);
    let score: number;
    if (previous === undefined) score = level === 'high' ? this.rng.int(1, 4) : this.rng.int(2, 5);
    else if (this.engaged(day)) score = previous + Math.round(this.rng.around(this.p.progress, 1.3));
    else score = previous + Math.round(this.rng.around(-0.6, 1));
    score = Math.min(10, Math.max(1, score));
    this.scores.set(domain, score);
    return score;
  }

  private async holdReview(w: World, day: number, review: ReviewSchedule) {
    const view = this.view as PlanJson;
    const open = view.needs.filter((n) => n.status === 'open');
    if (open.length === 0) {
      // Every need was closed (providers finished their parts): nothing left to review.
      await this.command(w, day, 'exit', { reason: 'completed' }, (v) => v.stage === 'active');
      return;
    }
    const scores = Object.fromEntries(open.map((n) => [n.domain, this.nextScore(n.domain, n.level, day)]));
    const body: Record<string, unknown> = { scores, outcome: 'continue' };
    if (this.completesAtReview(day)) Object.assign(body, { outcome: 'exit', exitReason: 'completed' });
    else if (review.adjust === 'add') {
      const arising = ARISING.filter((n) => !open.some((o) => o.domain === n.domain));
      if (arising.length > 0) {
        const need = this.rng.pick(arising);
        Object.assign(body, { outcome: 'adjust', addNeeds: [{ ...need, goals: [] }] });
      }
    } else if (review.adjust === 'close' && open.length >= 2) {
      const met = open.find((n) => (scores[n.domain] ?? 0) >= 7);
      if (met) Object.assign(body, { outcome: 'adjust', closeNeeds: [met.domain] });
    }
    const attendees: { role: string; providerId?: string }[] = [{ role: 'coordinator' }];
    if (this.engaged(day) || this.rng.chance(0.3)) attendees.push({ role: 'participant' });
    const lead = view.allocations.find((a) => a.status === 'accepted' && this.rng.chance(0.5));
    if (lead) attendees.push({ role: 'provider', providerId: lead.providerId });
    if ((this.p.source === 'problem-solving-court' && this.rng.chance(0.8)) || (this.p.source === 'court' && this.rng.chance(0.3))) attendees.push({ role: 'judge' });
    body.attendees = attendees;
    if (this.rng.chance(0.6)) body.participantWords = this.rng.pick(WORDS);
    if (await this.command(w, day, 'record-review', body, (v) => v.stage === 'active')) {
      w.tally(review.late ? 'reviews held late' : 'reviews held on time');
      this.review = undefined;
    }
  }

  /** She leaves: the exit her persona holds, through the command the coordinator would use. */
  private async leave(w: World, day: number) {
    const reason: ExitIntent = this.p.exit;
    const still = (v: PlanJson) => ['assessment', 'allocating', 'active'].includes(v.stage);
    if (reason === 'consent-withdrawn') {
      await this.command(w, day, 'withdraw-consent', { note: 'She asked us to stop sharing her information.' }, still);
      return;
    }
    if (reason === 'completed') {
      // Providers close their parts first, then the coordinator ends the plan.
      for (const a of (this.view as PlanJson).allocations.filter((x) => x.status === 'accepted'))
        await this.providerCommand(w, day, a.providerId, a.allocationId, 'end', { outcome: this.rng.chance(0.8) ? 'completed' : 'partially-completed' });
      if (this.stage !== 'exited') await this.command(w, day, 'exit', { reason: 'completed' }, still);
      return;
    }
    await this.command(w, day, 'exit', { reason }, still);
  }

  private planNext(w: World, day: number) {
    switch (this.stage) {
      case 'allocating':
        this.wake = w.calendar.addWorkingDays(day, 1);
        return;
      case 'active': {
        this.scheduleReview(w, day);
        const days = [...this.contactDue.values(), this.review?.day ?? Infinity, this.exitDay];
        this.wake = Math.max(day + 1, Math.min(...days));
        return;
      }
      case 'exited':
        this.wake = this.nextFollowUpDay();
        return;
      case 'closed':
      case 'withdrawn':
      case 'stuck':
        this.wake = Infinity;
        return;
      default:
        this.wake = day + 1;
    }
  }

  // -------------------------------------------------------------------------------------------
  // After exit: follow-ups at 6 and 12 months

  private scheduleFollowUps(w: World, view: PlanJson) {
    const exit = view.exit;
    if (!exit) return;
    const reason = exit.reason as ExitIntent;
    // Support works better for some cohorts; the full effect only for women who completed.
    const factor = reason === 'completed' ? this.p.cohortRisk : Math.sqrt(this.p.cohortRisk);
    const p12 = Math.min(0.95, (EXIT_RISK[reason] ?? 0.4) * factor);
    const u = this.rng.float();
    const lost = (m: number) => (reason === 'consent-withdrawn' ? this.rng.chance(0.75) : this.rng.chance(m === 6 ? 0.04 : 0.06));
    const outcome = {
      6: lost(6) ? 'unknown' : u < p12 * 0.55 ? 'yes' : 'no',
      12: lost(12) ? 'unknown' : u < p12 ? 'yes' : 'no',
    } as const;
    const delay = () => (this.rng.chance(0.85) ? this.rng.int(0, 9) : this.rng.int(16, 40));
    const due6 = w.calendar.onOrAfter(w.calendar.dayOf(addMonths(exit.exitedAt, 6)) + delay());
    const due12 = Math.max(due6 + 1, w.calendar.onOrAfter(w.calendar.dayOf(addMonths(exit.exitedAt, 12)) + delay()));
    this.followUp = { due: { 6: due6, 12: due12 }, outcome, done: new Set() };
  }

  private nextFollowUpDay(): number {
    const f = this.followUp;
    if (!f) return Infinity;
    return Math.min(...([6, 12] as const).filter((m) => !f.done.has(m)).map((m) => f.due[m]));
  }

  private async followUps(w: World, day: number) {
    const f = this.followUp;
    if (!f) {
      if (await this.refresh(w)) this.scheduleFollowUps(w, this.view as PlanJson);
      this.wake = this.followUp ? this.nextFollowUpDay() : Infinity;
      return;
    }
    for (const month of [6, 12] as const) {
      if (f.done.has(month) || f.due[month] > day) continue;
      if (!(await this.command(w, day, 'record-follow-up', { month, reoffended: f.outcome[month] }))) return;
      f.done.add(month);
    }
    this.planNext(w, day);
  }
}
