import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { toCloudEvent } from '../../lib/adapters/events/publisher.ts';
import { addDays, londonDate } from '../../lib/domain/calendar.ts';
import type { Command, DecideContext } from '../../lib/domain/decide.ts';
import { DomainError } from '../../lib/domain/errors.ts';
import { CloudEventEnvelope, cloudEventSchema, EVENT_CATALOGUE, EVENT_TYPE_PATTERN, EVENT_TYPES, isEventType, RELEASE_REASONS, type EventType } from '../../lib/domain/events.ts';
import { COMMAND_NAMES, isAllowedIn, STAGES, type CommandName } from '../../lib/domain/lifecycle.ts';
import { providerAllocationView } from '../../lib/domain/provider-views.ts';
import type { Plan, PlanEvent } from '../../lib/domain/schemas.ts';
import { EXAMPLE_EVENT, eventJsonSchema, renderEvents, renderEventSchemas, SCHEMA_DIR } from '../../scripts/render-events.ts';
import {
  allocationOf,
  ASSESSMENT_PAYLOAD,
  at,
  command,
  consentPayload,
  IDENTIFYING_STRINGS,
  makeContext,
  planInStage,
  REFER_PAYLOAD,
  respond,
  run,
  validCommand,
  withOpenEscalation,
  type BuiltPlan,
} from '../support/domain-fixtures.ts';

const committed = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

/** Keys that would identify the participant or describe offending: none may appear in provider-facing data. */
const FORBIDDEN_KEYS = ['givenName', 'familyName', 'dateOfBirth'];
const FORBIDDEN_KEY_PATTERN = /name|birth|dob|offen|conviction|charge/i;

const SOURCE = 'wraparound';

// ---------------------------------------------------------------------------------------------
// Driving plans through every command

interface Emitted {
  events: PlanEvent[];
  /** Commands that were applied at least once. */
  applied: Set<CommandName>;
}

type Next = { command: Command; ctx?: DecideContext };

/** Continue a built plan through a list of commands, collecting every event; returns the story's plan and events. */
function story(start: BuiltPlan, steps: ((plan: Plan, ctx: DecideContext) => Next)[], out: Emitted) {
  let plan = start.plan as Plan;
  let ctx = start.ctx;
  const events = [...start.events];
  for (const next of steps) {
    const { command: cmd, ctx: when } = next(plan, ctx);
    ctx = when ?? ctx;
    const result = run(plan, cmd, ctx);
    plan = result.plan;
    events.push(...result.events);
    out.applied.add(cmd.name);
  }
  out.events.push(...events);
  return { plan, events };
}

/** From referral to submitted assessment with the given consent scope; returns the assessed plan, its context and its events. */
function assessed(scope: { shareWithProviders: boolean; dataCategories: string[] }, out: Emitted) {
  let ctx = makeContext();
  const referred = run(undefined, command('refer', REFER_PAYLOAD), ctx);
  ctx = at(ctx, addDays(ctx.now, 1));
  const consented = run(referred.plan, command('record-consent', { ...consentPayload(ctx), scope }), ctx);
  const submitted = run(consented.plan, command('submit-assessment', ASSESSMENT_PAYLOAD), ctx);
  const events = [...referred.events, ...consented.events, ...submitted.events];
  out.events.push(...events);
  return { plan: submitted.plan, ctx, events };
}

function driveEverything() {
  const out: Emitted = { events: [], applied: new Set() };

  // 1. Every command allowed in every stage, sent to the plan the fixtures build for that stage.
  for (const stage of STAGES) {
    for (const name of COMMAND_NAMES) {
      if (!isAllowedIn(name, stage)) continue;
      const built = name === 'acknowledge-escalation' ? withOpenEscalation(planInStage(stage)) : planInStage(stage);
      const valid = validCommand(name, built.plan, built.ctx);
      if (!valid.feasible) continue;
      try {
        const result = run(built.plan, valid.command, valid.ctx);
        out.events.push(...result.events);
        out.applied.add(name);
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
      }
    }
  }

  // 2. Whole stories: referral to closed, and a withdrawn referral.
  for (const stage of ['closed', 'withdrawn'] as const) out.events.push(...planInStage(stage).events);

  // 3. A review that adjusts the plan (a new priority need; a need closed while its offer is open), then one that exits into custody.
  const custody = story(
    planInStage('active'),
    [
      (_plan, ctx) => ({
        command: command('record-review', {
          scores: { 'mental-health': 5 },
          outcome: 'adjust',
          addNeeds: [{ domain: 'substance-misuse', level: 'high', priority: true, goals: ['Stay in treatment'] }],
          closeNeeds: ['finance-benefit-debt'],
        }),
        ctx: at(ctx, addDays(ctx.now, 7)),
      }),
      (plan) => ({ command: respond('accept-offer', plan.allocations.find((a) => a.status === 'offered' && a.needs.includes('substance-misuse'))!, {}) }),
      (_plan, ctx) => ({ command: command('record-review', { scores: { 'mental-health': 6 }, outcome: 'exit', exitReason: 'custody' }), ctx: at(ctx, addDays(ctx.now, 14)) }),
    ],
    out,
  );

  // 4. A follow-up left unrecorded: first a reminder, then an escalation.
  story(planInStage('exited'), [(plan, ctx) => validCommand('follow-up-due', plan, ctx), (plan, ctx) => validCommand('follow-up-due', plan, ctx)], out);

  // 4b. A recorded follow-up corrected; consent withdrawn while the other is still due.
  story(
    planInStage('exited'),
    [
      (plan, ctx) => validCommand('record-follow-up', plan, ctx),
      (plan, ctx) => validCommand('correct-follow-up', plan, ctx),
      () => ({ command: command('withdraw-consent', {}) }),
    ],
    out,
  );

  // 4c. A session recorded twice: the second withdrawn; the first's date corrected.
  story(
    planInStage('active'),
    [
      (plan, ctx) => validCommand('record-contact', plan, ctx),
      (plan, ctx) => validCommand('record-contact', plan, ctx),
      (plan, ctx) => validCommand('correct-contact', plan, ctx),
      (plan, ctx) => {
        const a = plan.allocations.find((x) => x.status === 'accepted')!;
        return { command: respond('correct-contact', a, { session: 1, kind: 'missed', reason: 'wrong-kind' }), ctx };
      },
    ],
    out,
  );

  // 5. Consent that does not allow sharing: no offers, every need a gap.
  assessed({ shareWithProviders: false, dataCategories: ['needs'] }, out);
  // 6. Consent covering needs, risks and adjustments: the offers are as thin as ever; the detail has goals, risks and adjustments.
  const sharesAll = assessed({ shareWithProviders: true, dataCategories: ['needs', 'risks', 'adjustments'] }, out);
  // 7. Consent given for sharing but not for the needs category (contact details only): the detail has no goals either.
  const sharesNone = assessed({ shareWithProviders: true, dataCategories: ['contact-details'] }, out);

  // 8. Consent withdrawn after a decline and an expiry: every provider ever offered is told.
  const consentWithdrawn = story(
    planInStage('allocating'),
    [
      (plan) => ({ command: respond('decline-offer', allocationOf(plan, 'green-square-accord-housing', 'offered'), { reason: 'capacity' }) }),
      (plan, ctx) => validCommand('offer-expired', plan, ctx),
      () => ({ command: command('withdraw-consent', {}) }),
    ],
    out,
  );
  // 9. Risks and adjustments taken out of her consent: each provider with a live offer is told to delete them.
  story(
    sharesAll,
    [(_plan, ctx) => ({ command: command('change-consent', { scope: { shareWithProviders: true, dataCategories: ['needs'] }, givenAt: londonDate(ctx.now), method: 'verbal' }) })],
    out,
  );
  return { ...out, consentWithdrawn, custody, sharesAll, sharesNone };
}

const emitted = driveEverything();
const byType = (type: EventType) => emitted.events.filter((e) => e.type === type);
const catalogued = (e: PlanEvent): e is PlanEvent & { type: EventType } => isEventType(e.type);

// ---------------------------------------------------------------------------------------------

/** Every key anywhere in a JSON value. */
function keysOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keysOf);
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => [k, ...keysOf(v)]);
  return [];
}

interface ObjectSchema {
  properties?: Record<string, ObjectSchema>;
  anyOf?: ObjectSchema[];
  items?: ObjectSchema;
  additionalProperties?: unknown;
}

/** Every property name a JSON Schema allows, at any depth. */
function propertyNames(schema: ObjectSchema | undefined): string[] {
  if (!schema) return [];
  return [
    ...Object.entries(schema.properties ?? {}).flatMap(([name, sub]) => [name, ...propertyNames(sub)]),
    ...(schema.anyOf ?? []).flatMap(propertyNames),
    ...propertyNames(schema.items),
  ];
}

const dataSchemaOf = (type: EventType) => (eventJsonSchema(type).properties as Record<string, ObjectSchema>).data;

/** The top-level property names each shape of an event's data may have. */
function allowedKeySets(type: EventType): Set<string>[] {
  const data = dataSchemaOf(type)!;
  return (data.anyOf ?? [data]).map((shape) => new Set(Object.keys(shape.properties ?? {})));
}

describe('event catalogue: generated files', () => {
  it.each(Object.entries(renderEvents()))('%s is committed as rendered now (run `node scripts/render-events.ts`)', (path, rendered) => {
    expect(committed(path)).toBe(rendered);
  });

  it(`${SCHEMA_DIR}/ holds one schema per catalogued type and nothing else`, () => {
    const onDisk = readdirSync(new URL(`../../${SCHEMA_DIR}/`, import.meta.url)).map((name) => `${SCHEMA_DIR}/${name}`);
    expect(onDisk.sort()).toEqual(Object.keys(renderEventSchemas()).sort());
  });

  it('every schema is JSON Schema 2020-12 of a strict CloudEvent; providerid is required exactly for provider-facing types', () => {
    for (const type of EVENT_TYPES) {
      const schema = eventJsonSchema(type);
      expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
      expect(schema.additionalProperties, type).toBe(false);
      const required = schema.required ?? [];
      expect(required).toEqual(expect.arrayContaining(['specversion', 'id', 'source', 'type', 'subject', 'time', 'datacontenttype', 'sequence', 'data']));
      expect(required.includes('providerid'), type).toBe(EVENT_CATALOGUE[type].audience === 'provider');
      expect(Object.keys(schema.properties ?? {}).includes('providerid'), type).toBe(EVENT_CATALOGUE[type].audience === 'provider');
    }
  });

  it('the documented example is a valid event', () => {
    expect(cloudEventSchema('allocation.offered.v1').parse(EXAMPLE_EVENT)).toEqual(EXAMPLE_EVENT);
  });

  it('types are versioned like allocation.offered.v1 and every entry is described', () => {
    for (const type of EVENT_TYPES) {
      expect(type).toMatch(EVENT_TYPE_PATTERN);
      expect(EVENT_CATALOGUE[type].description.length, type).toBeGreaterThan(10);
    }
  });

  it('no provider-facing schema has a field for identity or offending, at any depth', () => {
    for (const type of EVENT_TYPES.filter((t) => EVENT_CATALOGUE[t].audience === 'provider')) {
      const names = propertyNames(dataSchemaOf(type));
      expect(names.length, type).toBeGreaterThan(0);
      for (const key of FORBIDDEN_KEYS) expect(names, type).not.toContain(key);
      expect(names.filter((k) => FORBIDDEN_KEY_PATTERN.test(k)), type).toEqual([]);
    }
  });
});

describe('event catalogue: every emitted event', () => {
  it('drives every command at least once', () => {
    expect([...emitted.applied].sort()).toEqual([...COMMAND_NAMES].sort());
  });

  it('emits only catalogued types, and every catalogued type at least once', () => {
    const seen = new Set(emitted.events.map((e) => e.type));
    expect([...seen].filter((t) => !isEventType(t)), 'emitted but not in the catalogue').toEqual([]);
    expect(EVENT_TYPES.filter((t) => !seen.has(t)), 'catalogued but never emitted').toEqual([]);
  });

  it('every event’s data matches its catalogue schema', () => {
    const failures = emitted.events.flatMap((e) => {
      if (!catalogued(e)) return [`${e.type}: not catalogued`];
      const parsed = EVENT_CATALOGUE[e.type].data.safeParse(e.data);
      return parsed.success ? [] : [`${e.type} #${e.sequence}: ${parsed.error.message}`];
    });
    expect(failures).toEqual([]);
  });

  it('every event, as published and as received over the wire, matches the schema of its whole CloudEvent', () => {
    for (const e of emitted.events.filter(catalogued)) {
      const cloudEvent = toCloudEvent(e, SOURCE);
      const schema = cloudEventSchema(e.type);
      expect(schema.safeParse(cloudEvent).error, e.type).toBeUndefined();
      expect(schema.safeParse(JSON.parse(JSON.stringify(cloudEvent))).error, e.type).toBeUndefined();
      expect(CloudEventEnvelope.safeParse(cloudEvent).error, e.type).toBeUndefined();
    }
  });

  it('provider-facing events, and only those, are addressed to a provider', () => {
    for (const e of emitted.events.filter(catalogued)) expect(Boolean(e.providerId), e.type).toBe(EVENT_CATALOGUE[e.type].audience === 'provider');
  });

  it('each shape of every event is exercised', () => {
    const ended = byType('allocation.ended.v1').map((e) => e.data);
    expect(ended.some((d) => 'outcome' in d)).toBe(true);
    expect(ended.some((d) => 'reason' in d)).toBe(true);
    const reasons = new Set([...byType('allocation.withdrawn.v1'), ...byType('allocation.ended.v1')].map((e) => e.data.reason).filter(Boolean));
    expect([...reasons].sort()).toEqual([...RELEASE_REASONS].sort());
    expect(byType('follow-up.due.v1').map((e) => e.data.month)).toEqual(expect.arrayContaining([6]));
    expect(byType('review.recorded.v1').some((e) => (e.data.attendees as string[]).length > 0)).toBe(true);
    expect(byType('plan.referred.v1').every((e) => e.data.rereferral === false)).toBe(true);
    expect(byType('plan.activated.v1').map((e) => e.data.manual)).toEqual(expect.arrayContaining([true, false]));
    expect(byType('plan.escalated.v1').map((e) => e.data.kind)).toEqual(expect.arrayContaining(['assessment-overdue', 'activation-overdue', 'review-overdue', 'no-contact', 'follow-up-due:6']));
    const proposals = byType('plan.allocation-proposed.v1').map((e) => e.data as { offers: unknown[] });
    expect(proposals.some((d) => d.offers.length === 0)).toBe(true);
  });
});

describe('provider-facing data', () => {
  const providerEvents = emitted.events.filter(catalogued).filter((e) => EVENT_CATALOGUE[e.type].audience === 'provider');

  it('never carries identity: no name or date-of-birth key and none of the participant’s details anywhere', () => {
    expect(providerEvents.length).toBeGreaterThan(0);
    for (const e of providerEvents) {
      const keys = keysOf(e.data);
      for (const key of FORBIDDEN_KEYS) expect(keys, e.type).not.toContain(key);
      expect(keys.filter((k) => FORBIDDEN_KEY_PATTERN.test(k)), e.type).toEqual([]);
      const text = JSON.stringify(toCloudEvent(e, SOURCE));
      for (const value of IDENTIFYING_STRINGS) expect(text, e.type).not.toContain(value);
    }
  });

  it('has no key other than the catalogue’s', () => {
    for (const e of providerEvents) {
      const keys = Object.keys(e.data);
      const fits = allowedKeySets(e.type).some((allowed) => keys.every((k) => allowed.has(k)));
      expect(fits, `${e.type}: ${keys.join(', ')}`).toBe(true);
    }
  });

  it('an offer is thin whatever the consent: planRef, allocation, needs by domain and level, lead, respondBy and the detail link', () => {
    const offers = byType('allocation.offered.v1');
    expect(offers.length).toBeGreaterThan(0);
    for (const e of offers) {
      expect(Object.keys(e.data).sort(), String(e.data.allocationId)).toEqual(['allocationId', 'detail', 'lead', 'needs', 'planRef', 'respondBy', 'serviceId']);
      expect(e.data.detail).toBe(`/allocations/${String(e.data.allocationId)}`);
      for (const need of e.data.needs as object[]) expect(Object.keys(need).sort()).toEqual(['domain', 'level']);
    }
    // Even with consent to share every category, the event carries none of it.
    const shared = emitted.sharesAll.events.filter((e) => e.type === 'allocation.offered.v1');
    expect(shared.length).toBeGreaterThan(0);
    for (const e of shared) expect(keysOf(e.data).filter((k) => ['goals', 'risks', 'adjustments'].includes(k))).toEqual([]);
  });

  it('the detail an offer links to has goals, risks and adjustments only as far as consent allows at the time of reading', () => {
    const { sharesAll, sharesNone } = emitted;
    const anawim = (plan: Plan) => allocationOf(plan, 'anawim-womens-centre', 'offered').allocationId;
    const all = providerAllocationView(sharesAll.plan, anawim(sharesAll.plan));
    expect(all).toMatchObject({
      needs: [{ domain: 'mental-health', level: 'high', status: 'open', goals: ['See a counsellor weekly'] }],
      risks: ASSESSMENT_PAYLOAD.risks,
      adjustments: ASSESSMENT_PAYLOAD.adjustments,
    });
    const none = providerAllocationView(sharesNone.plan, anawim(sharesNone.plan));
    expect(none).toHaveProperty('needs', [{ domain: 'mental-health', level: 'high', status: 'open' }]);
    expect(none).not.toHaveProperty('risks');
    expect(none).not.toHaveProperty('adjustments');
    // Only its own needs, whatever the consent.
    expect(JSON.stringify(all)).not.toMatch(/accommodation|alcohol|finance/);
    for (const view of [all, none]) for (const value of IDENTIFYING_STRINGS) expect(JSON.stringify(view)).not.toContain(value);

    // Read after consent is withdrawn, the same allocation shows none of it.
    const withdrawn = run(sharesAll.plan, command('withdraw-consent', {}), sharesAll.ctx).plan;
    const after = providerAllocationView(withdrawn, anawim(sharesAll.plan));
    expect(after).toMatchObject({ status: 'withdrawn', needs: [{ domain: 'mental-health' }] });
    expect(keysOf(after).filter((k) => ['goals', 'risks', 'adjustments'].includes(k))).toEqual([]);
  });

  it('an exit tells providers only that the plan exited, never why', () => {
    const { events } = emitted.custody;
    expect(events.find((e) => e.type === 'plan.exited.v1')?.data.reason).toBe('custody');
    const released = events.filter((e) => (e.type === 'allocation.ended.v1' || e.type === 'allocation.withdrawn.v1') && 'reason' in e.data && String(e.data.reason).startsWith('plan-exited'));
    expect(released.length).toBeGreaterThan(0);
    for (const e of released) expect(e.data.reason).toBe('plan-exited');
    for (const e of events.filter((x) => x.providerId)) expect(JSON.stringify(e.data), e.type).not.toContain('custody');
  });

  it('consent withdrawn carries only planRef, allocationId and the instruction', () => {
    const withdrawn = byType('plan.consent-withdrawn.v1');
    expect(withdrawn.length).toBeGreaterThan(0);
    for (const e of withdrawn) {
      expect(Object.keys(e.data).sort()).toEqual(['allocationId', 'instruction', 'planRef']);
      expect(e.data.instruction).toBe('stop-processing-and-purge');
      expect(e.data.planRef).toBe(e.planId);
    }
  });

  it('consent withdrawn reaches every allocation ever made, declined and expired ones too, once each', () => {
    const { plan, events } = emitted.consentWithdrawn;
    expect(plan.allocations.map((a) => a.status)).toEqual(expect.arrayContaining(['declined', 'expired']));
    const told = events.filter((e) => e.type === 'plan.consent-withdrawn.v1').map((e) => `${String(e.data.allocationId)}@${e.providerId}`);
    expect(told.sort()).toEqual(plan.allocations.map((a) => `${a.allocationId}@${a.providerId}`).sort());
  });
});
