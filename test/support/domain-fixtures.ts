/**
 * Fixtures for the pure domain: a fixed clock, deterministic event ids, the default policy, a
 * weekends-only calendar and a small New Chance directory. Plans in each stage are built by
 * driving decide() (and the Allocate providers step) through real commands, never by hand.
 */
import { DomainError } from '../../lib/domain/errors.ts';
import { consentCoversProvider } from '../../lib/domain/consent.ts';
import { allocatePlan } from '../../lib/domain/allocate-plan.ts';
import { addDays, addMonths, londonDate, weekendsOnly, type WorkingDayCalendar } from '../../lib/domain/calendar.ts';
import { decide, type Command, type CommandActor, type DecideContext, type Decision } from '../../lib/domain/decide.ts';
import { Directory, type ServiceLoad } from '../../lib/domain/directory.ts';
import { LIFECYCLE, type Actor, type CommandName, type Stage } from '../../lib/domain/lifecycle.ts';
import { DEFAULT_POLICY, type DeadlinePolicy } from '../../lib/domain/policy.ts';
import { lateSessionLastDay, lateSessionRefusal, sessionCorrectionRefusal } from '../../lib/domain/session-correction.ts';
import type { Allocation, Plan, PlanEvent } from '../../lib/domain/schemas.ts';

export const NOW = '2026-03-02T10:00:00.000Z'; // a Monday, GMT
export const PLAN_ID = 'pl_fixture00000001';
export const PARTICIPANT_ID = 'pt_fixture00000001';

/** The identity the API stores apart from the plan: none of it may ever reach the plan or an event. */
export const PARTICIPANT = { givenName: 'Jasmine', familyName: 'Okonkwo-Blythe', dateOfBirth: '1991-07-14' } as const;
export const AGE_AT_REFERRAL = 34;

export const PARTNERS = ['anawim', 'bcwa', 'changing-lives', 'green-square-accord'] as const;

/**
 * The four New Chance partners. In Birmingham: mental health only at Anawim, accommodation at Changing
 * Lives (Housing First) and Green Square Accord, alcohol only at Changing Lives, finance only at Green
 * Square Accord. Black Country Women's Aid covers the Black Country, not Birmingham.
 */
export const DIRECTORY: Directory = Directory.parse({
  name: 'New Chance partners (test fixture)',
  illustrative: true,
  organizations: [
    { id: 'anawim', name: 'Anawim' },
    { id: 'bcwa', name: "Black Country Women's Aid" },
    { id: 'changing-lives', name: 'Changing Lives' },
    { id: 'green-square-accord', name: 'Green Square Accord' },
  ],
  services: [
    {
      id: 'anawim-womens-centre',
      organizationId: 'anawim',
      name: "Anawim women's centre",
      needDomains: ['mental-health', 'trauma', 'emotional-resilience', 'interpersonal-skills', 'children-families'],
      serviceAreas: ['birmingham', 'solihull'],
      capacity: 30,
    },
    {
      id: 'bcwa-domestic-abuse',
      organizationId: 'bcwa',
      name: 'Domestic abuse and exploitation support',
      needDomains: ['domestic-abuse', 'sexual-exploitation', 'trauma', 'children-families'],
      serviceAreas: ['dudley', 'sandwell', 'walsall', 'wolverhampton'],
      capacity: 25,
    },
    {
      id: 'changing-lives-housing-first',
      organizationId: 'changing-lives',
      name: 'Housing First',
      needDomains: ['accommodation'],
      serviceAreas: ['birmingham', 'coventry'],
      capacity: 10,
    },
    {
      id: 'changing-lives-recovery',
      organizationId: 'changing-lives',
      name: 'Drug and alcohol recovery',
      needDomains: ['substance-misuse', 'alcohol', 'sexual-exploitation'],
      serviceAreas: ['birmingham', 'coventry', 'sandwell', 'walsall'],
      capacity: 20,
    },
    {
      id: 'green-square-accord-housing',
      organizationId: 'green-square-accord',
      name: 'Housing, money and work',
      needDomains: ['accommodation', 'finance-benefit-debt', 'education-training-employment'],
      serviceAreas: ['birmingham', 'sandwell', 'walsall', 'wolverhampton'],
      capacity: 15,
    },
  ],
});

export function makeContext(options: { now?: string; directory?: Directory; calendar?: WorkingDayCalendar; policy?: DeadlinePolicy; idPrefix?: string } = {}): DecideContext {
  let n = 0;
  const prefix = options.idPrefix ?? 'ev';
  return {
    now: options.now ?? NOW,
    newEventId: () => `${prefix}_${String((n += 1)).padStart(5, '0')}`,
    policy: options.policy ?? DEFAULT_POLICY,
    calendar: options.calendar ?? weekendsOnly,
    directory: options.directory ?? DIRECTORY,
  };
}

/** The same context (same id sequence) at another instant. */
export const at = (ctx: DecideContext, now: string): DecideContext => ({ ...ctx, now });

export const COORDINATOR: CommandActor = { role: 'coordinator', sub: 'coordinator-1' };
export const TIMER: CommandActor = { role: 'timer', sub: 'timer' };
export const TEAM_LEAD: CommandActor = { role: 'team-lead', sub: 'team-lead-1', name: 'Dana Team-Lead' };
export const providerActor = (providerId: string): CommandActor => ({ role: 'provider', sub: `${providerId}-worker`, providerId });

export function command(name: CommandName, payload: unknown, extra: Partial<Omit<Command, 'name' | 'payload'>> = {}): Command {
  return { name, planId: PLAN_ID, payload, actor: COORDINATOR, ...extra };
}

export const REFER_PAYLOAD = {
  participantId: PARTICIPANT_ID,
  ageAtReferral: AGE_AT_REFERRAL,
  referral: { source: 'custody-diversion', localAuthority: 'birmingham', urgency: 'routine' },
};

export const consentPayload = (ctx: DecideContext, shareWithProviders = true) => ({
  scope: { shareWithProviders, dataCategories: ['needs'] },
  givenAt: londonDate(ctx.now),
  method: 'written',
});

/** Two priority needs no single partner covers in Birmingham, and two other needs. */
export const ASSESSMENT_PAYLOAD = {
  needs: [
    { domain: 'mental-health', level: 'high', priority: true, goals: ['See a counsellor weekly'] },
    { domain: 'accommodation', level: 'high', priority: true, goals: ['A tenancy of her own'] },
    { domain: 'alcohol', level: 'medium', priority: false },
    { domain: 'finance-benefit-debt', level: 'low', priority: false },
  ],
  risks: { domesticAbuse: 'standard', selfHarm: false, safeguardingChildren: false },
  adjustments: ['female-worker'],
};

export interface Step {
  plan: Plan;
  decision: Decision;
  /** Events of the command plus those of the Allocate providers step, in order. */
  events: PlanEvent[];
}

/** What the PlanCommand state machine does for one command: decide, then allocate when needs changed. */
export function run(plan: Plan | undefined, cmd: Command, ctx: DecideContext, load: ServiceLoad = {}): Step {
  const decision = decide(plan, cmd, ctx);
  if (!decision.needsAllocation) return { plan: decision.plan, decision, events: decision.events };
  const allocated = allocatePlan(decision.plan, ctx, load);
  return { plan: allocated.plan, decision, events: [...decision.events, ...allocated.events] };
}

export const allocationOf = (plan: Plan, serviceId: string, status?: Allocation['status']): Allocation => {
  const found = plan.allocations.find((a) => a.serviceId === serviceId && (status === undefined || a.status === status));
  if (!found) throw new Error(`no ${status ?? ''} allocation for ${serviceId} in ${JSON.stringify(plan.allocations.map((a) => [a.serviceId, a.status]))}`);
  return found;
};

export const respond = (name: 'accept-offer' | 'decline-offer' | 'record-contact' | 'correct-contact' | 'end-allocation', a: Allocation, payload: unknown): Command =>
  command(name, payload, { allocationId: a.allocationId, actor: providerActor(a.providerId) });

/** A story reaching every stage; each stage's plan is the one after the listed step. */
export interface BuiltPlan {
  plan: Plan | undefined;
  ctx: DecideContext;
  /** Every event so far, in order. */
  events: PlanEvent[];
}

/**
 * Drive a plan into a stage through real commands:
 *  - referred: refer
 *  - assessment: + record-consent
 *  - allocating: + submit-assessment (offers to Anawim, Changing Lives x2, Green Square Accord) + Anawim accepts,
 *    so it has both an accepted allocation and open offers
 *  - active: + Changing Lives accepts accommodation (every priority need accepted); alcohol and finance offers stay open
 *  - exited: + exit (completed)
 *  - closed: + follow-ups at 6 and 12 months
 *  - withdrawn: referred + withdraw
 * `refer` overrides fields of the referral command (a court source, earlier plans, a review cadence).
 */
export function planInStage(stage: Stage, options: { ctx?: DecideContext; refer?: { referral?: typeof REFER_PAYLOAD.referral; previousPlanIds?: string[]; reviewEveryDays?: number } } = {}): BuiltPlan {
  let ctx = options.ctx ?? makeContext();
  const events: PlanEvent[] = [];
  let plan: Plan | undefined;
  const step = (cmd: Command) => {
    const result = run(plan, cmd, ctx);
    plan = result.plan;
    events.push(...result.events);
  };
  const reached = (s: Stage) => {
    if (plan?.stage !== s) throw new Error(`fixture expected stage ${s}, got ${plan?.stage}`);
    return stage === s;
  };
  if (stage === 'none') return { plan, ctx, events };
  step(command('refer', { ...REFER_PAYLOAD, ...options.refer }));
  if (reached('referred')) return { plan, ctx, events };
  if (stage === 'withdrawn') {
    step(command('withdraw', { reason: 'declined-support' }));
    reached('withdrawn');
    return { plan, ctx, events };
  }
  ctx = at(ctx, addDays(ctx.now, 1));
  step(command('record-consent', consentPayload(ctx)));
  if (reached('assessment')) return { plan, ctx, events };
  ctx = at(ctx, addDays(ctx.now, 1));
  step(command('submit-assessment', ASSESSMENT_PAYLOAD));
  ctx = at(ctx, addDays(ctx.now, 1));
  step(respond('accept-offer', allocationOf(plan!, 'anawim-womens-centre', 'offered'), {}));
  if (reached('allocating')) return { plan, ctx, events };
  step(respond('accept-offer', allocationOf(plan!, 'changing-lives-housing-first', 'offered'), {}));
  if (reached('active')) return { plan, ctx, events };
  ctx = at(ctx, addDays(ctx.now, 20));
  step(command('exit', { reason: 'completed' }));
  if (reached('exited')) return { plan, ctx, events };
  const exitedAt = ctx.now;
  ctx = at(ctx, addMonths(exitedAt, 6));
  step(command('record-follow-up', { month: 6, reoffended: 'no' }));
  ctx = at(ctx, addMonths(exitedAt, 12));
  step(command('record-follow-up', { month: 12, reoffended: 'no' }));
  reached('closed');
  return { plan, ctx, events };
}

const actorFor = (name: CommandName): Actor => LIFECYCLE[name].actors[0];
const actorOfRole = (role: Actor, providerId = 'anawim'): CommandActor => (role === 'provider' ? providerActor(providerId) : role === 'timer' ? TIMER : role === 'team-lead' ? TEAM_LEAD : COORDINATOR);

export interface ValidCommand {
  command: Command;
  /** The context to send it in: timers are sent once their deadline is due, follow-ups once their months have passed since exit. */
  ctx: DecideContext;
  /** False when the plan holds nothing this command could act on (the command is still well-formed). */
  feasible: boolean;
}

/**
 * A well-formed command of this name from a permitted actor, addressed to something real in the plan
 * when there is something (an offered allocation to accept, a due deadline to fire, an open need to score).
 */
export function validCommand(name: CommandName, plan: Plan | undefined, ctx: DecideContext): ValidCommand {
  const today = londonDate(ctx.now);
  const live = (status: Allocation['status']) => plan?.allocations.find((a) => a.status === status);
  const addressed = (a: Allocation | undefined, payload: unknown): ValidCommand => {
    const actor = name === 'end-allocation' || !a ? actorOfRole(actorFor(name), a?.providerId) : providerActor(a.providerId);
    const allocationId = a?.allocationId ?? `al_${PLAN_ID.slice(3)}_1`;
    return { command: command(name, payload, { allocationId, actor }), ctx, feasible: Boolean(a) };
  };
  const openNeeds = plan?.needs.filter((n) => n.status === 'open') ?? [];
  switch (name) {
    case 'refer':
      return { command: command(name, REFER_PAYLOAD), ctx, feasible: plan === undefined };
    case 'record-consent':
      return { command: command(name, consentPayload(ctx)), ctx, feasible: true };
    case 'change-consent': {
      // A narrowing: she no longer agrees to the provider of a live allocation (or the directory's last), so the cascade runs.
      const excluded = (live('accepted') ?? live('offered'))?.providerId ?? ctx.directory.organizations.at(-1)?.id ?? 'anawim';
      const scope = { shareWithProviders: true, dataCategories: ['needs'], providers: { kind: 'all-except', providerIds: [excluded] } };
      return { command: command(name, { scope, givenAt: today, method: 'verbal', note: 'Does not want them told: an ex-partner works there' }), ctx, feasible: plan?.consent !== undefined };
    }
    case 'withdraw':
      return { command: command(name, { reason: 'unreachable', note: 'Three calls, no answer' }), ctx, feasible: true };
    case 'submit-assessment':
      return { command: command(name, ASSESSMENT_PAYLOAD), ctx, feasible: true };
    case 'offer-manually': {
      for (const need of openNeeds) {
        if (plan?.allocations.some((a) => a.status === 'accepted' && a.needs.includes(need.domain))) continue;
        const offeredTo = new Set(plan?.allocations.filter((a) => a.status === 'offered' && a.needs.includes(need.domain)).map((a) => a.serviceId));
        // Only to a provider her consent covers: anything else is refused.
        const services = ctx.directory.services.filter((s) => s.status === 'active' && s.needDomains.includes(need.domain) && consentCoversProvider(plan?.consent, s.organizationId));
        const service = services.find((s) => !offeredTo.has(s.id)) ?? services[0];
        if (service) return { command: command(name, { serviceId: service.id, needs: [need.domain], reason: 'Known to the participant already' }), ctx, feasible: true };
      }
      return { command: command(name, { serviceId: 'anawim-womens-centre', needs: ['mental-health'], reason: 'Known to the participant already' }), ctx, feasible: false };
    }
    case 'activate':
      return { command: command(name, { reason: 'Start with the providers who accepted' }), ctx, feasible: true };
    case 'accept-offer':
      return addressed(live('offered'), { note: 'Key worker assigned' });
    case 'decline-offer':
      return addressed(live('offered'), { reason: 'capacity', note: 'Waiting list closed' });
    case 'record-contact': {
      // An accepted allocation, or else one ended not long ago (its plan exited too), with a session held the day it ended (session-correction.ts).
      const accepted = live('accepted');
      if (accepted) return addressed(accepted, { date: today, kind: 'attended' });
      const ended = plan?.allocations.find((x) => x.status === 'ended' && !lateSessionRefusal(plan, x, ctx.now));
      return addressed(ended, { date: (ended && lateSessionLastDay(ended)) ?? today, kind: 'attended' });
    }
    case 'end-allocation':
      return addressed(live('accepted'), { outcome: 'completed' });
    case 'correct-contact': {
      // The last session still counted on an allocation whose sessions may be corrected now (accepted, or
      // ended not long ago: session-correction.ts), withdrawn as recorded twice.
      const a = plan?.allocations.find((x) => !sessionCorrectionRefusal(plan, x, ctx.now) && plan.contacts.some((c) => c.allocationId === x.allocationId && !c.withdrawnAt));
      const sessions = plan?.contacts.filter((c) => c.allocationId === a?.allocationId) ?? [];
      const session = sessions.findLastIndex((c) => !c.withdrawnAt) + 1;
      return addressed(a, { session: Math.max(session, 1), withdrawn: true, reason: 'recorded-twice' });
    }
    case 'record-review': {
      const scored = openNeeds[0]?.domain ?? 'mental-health';
      return { command: command(name, { scores: { [scored]: 6 }, outcome: 'continue', participantWords: 'Things are calmer at home.' }), ctx, feasible: openNeeds.length > 0 };
    }
    case 'exit':
      return { command: command(name, { reason: 'disengaged' }), ctx, feasible: true };
    case 'withdraw-consent':
      return { command: command(name, { note: 'Asked us to stop' }), ctx, feasible: true };
    case 'record-follow-up': {
      const month = plan?.followUps.some((f) => f.month === 6) ? 12 : 6;
      // A follow-up can only be recorded once its months have passed since exit: send it then at the earliest.
      const dueFrom = plan?.exit ? addMonths(plan.exit.exitedAt, month) : ctx.now;
      const when = dueFrom > ctx.now ? dueFrom : ctx.now;
      return { command: command(name, { month, reoffended: 'unknown' }), ctx: at(ctx, when), feasible: !plan?.followUps.some((f) => f.month === month) };
    }
    case 'correct-follow-up': {
      // The latest recorded follow-up, turned to another answer (a correction to the same answer is refused).
      const recorded = plan?.followUps.at(-1);
      return { command: command(name, { month: recorded?.month ?? 6, reoffended: recorded?.reoffended === 'yes' ? 'no' : 'yes', reason: 'keyed-in-error' }), ctx, feasible: recorded !== undefined };
    }
    case 'acknowledge-escalation': {
      const open = plan?.escalations.find((e) => !e.resolvedAt && !e.acknowledged);
      return { command: command(name, { kind: open?.kind ?? 'assessment-overdue', ...(open?.ref ? { ref: open.ref } : {}) }, { actor: TEAM_LEAD }), ctx, feasible: open !== undefined };
    }
    default: {
      const deadline = plan?.deadlines.filter((d) => d.command === name).sort((a, b) => a.dueAt.localeCompare(b.dueAt))[0];
      if (!deadline) return { command: command(name, { deadlineId: `${name}:gone` }, { actor: TIMER }), ctx, feasible: false };
      const when = deadline.dueAt > ctx.now ? deadline.dueAt : ctx.now;
      return { command: command(name, { deadlineId: deadline.deadlineId }, { actor: TIMER }), ctx: at(ctx, when), feasible: true };
    }
  }
}

/**
 * The built plan after nobody acted until its stage's escalation fired (run through the timer
 * commands, as the sweeper would): an open escalation for a team lead to pick up.
 */
export function withOpenEscalation(built: BuiltPlan): BuiltPlan {
  const timers: Partial<Record<Stage, CommandName[]>> = {
    referred: ['assessment-overdue'],
    assessment: ['assessment-overdue'],
    allocating: ['activation-overdue'],
    active: ['no-contact'],
    exited: ['follow-up-due', 'follow-up-due'],
  };
  let { plan, ctx } = built;
  const events = [...built.events];
  for (const name of timers[plan?.stage ?? 'none'] ?? []) {
    const valid = validCommand(name, plan, ctx);
    if (!valid.feasible) throw new Error(`withOpenEscalation: no ${name} deadline in stage ${plan?.stage}`);
    const step = run(plan, valid.command, valid.ctx);
    ({ plan, ctx } = { plan: step.plan, ctx: valid.ctx });
    events.push(...step.events);
  }
  if (!plan?.escalations.some((e) => !e.resolvedAt)) throw new Error(`withOpenEscalation: nothing escalated in stage ${plan?.stage}`);
  return { plan, ctx, events };
}

/** Every string that identifies the participant: none may appear in a plan or an event. */
export const IDENTIFYING_STRINGS = [PARTICIPANT.givenName, PARTICIPANT.familyName, PARTICIPANT.dateOfBirth];

/** The DomainError a refused command throws; fails the test when the command was applied instead. */
export function refusal(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('expected a DomainError, but the command was applied');
}
