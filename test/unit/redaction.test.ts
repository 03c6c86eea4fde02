/**
 * What an erasure replaces on a plan (lib/domain/redaction.ts): every free-text field of the Plan schema,
 * found by walking the schema, so a free-text field added later that the redaction does not know about
 * fails here until it is classed as free text (and redacted) or as a code the engine writes.
 */
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { REDACTED, redactAnswerText, redactEvent, redactPlan } from '../../lib/domain/redaction.ts';
import { Plan, type PlanEvent } from '../../lib/domain/schemas.ts';
import { planView } from '../../lib/domain/views.ts';
import { providerAllocationView } from '../../lib/domain/provider-views.ts';
import { planInStage } from '../support/domain-fixtures.ts';

/** Paths (`a.b[].c`) of the plain strings in a schema: no format, no pattern, no enum. */
function freeStringPaths(schema: z.ZodType, path = ''): string[] {
  // zod 4's definition objects: the public API has no walker.
  const def = (schema as unknown as { _zod: { def: Record<string, unknown> } })._zod.def;
  const inner = (s: unknown, p: string) => freeStringPaths(s as z.ZodType, p);
  switch (def.type) {
    case 'object':
      return Object.entries(def.shape as Record<string, unknown>).flatMap(([k, v]) => inner(v, path ? `${path}.${k}` : k));
    case 'array':
      return inner(def.element, `${path}[]`);
    case 'optional':
    case 'default':
    case 'nullable':
    case 'prefault':
    case 'readonly':
      return inner(def.innerType, path);
    case 'union':
      return [...new Set((def.options as unknown[]).flatMap((o) => inner(o, path)))];
    case 'record':
      return inner(def.valueType, `${path}{}`);
    case 'pipe':
      return inner(def.out, path);
    case 'string': {
      const checks = (def.checks as { _zod: { def: { format?: string } } }[] | undefined) ?? [];
      return def.format || checks.some((c) => c._zod.def.format) ? [] : [path];
    }
    default:
      return [];
  }
}

/** What a person types: each is replaced at erasure. `why` and `explanation` quote a typed reason in two cases. */
const isFreeText = (path: string) => /(^|\.)(note|participantWords|manualReason|consentWithdrawalNote|reconfirmedNote)$/.test(path) || path === 'needs[].goals[]' || path === 'manualActivation.reason';
const QUOTES_FREE_TEXT = ['allocations[].why', 'gaps[].explanation'];
/** Ids, codes, keys and bookkeeping the engine writes: no person's words. */
const NOT_FREE_TEXT = [
  'participantId',
  'allocations[].outcome',
  'escalations[].kind',
  'escalations[].ref',
  // The team lead who picked it up: staff, not her; her own words are never here.
  'escalations[].acknowledged.by',
  'escalations[].acknowledged.byName',
  'remindersSent[]',
  'deadlines[].deadlineId',
  'deadlines[].ref',
  'writtenBy',
  'outbox[].id',
  'outbox[].type',
  'applied[].key',
  'applied[].command',
  'applied[].fingerprint',
];

const SECRET = 'Rowanbeckett';

/** Put `value` at `path` in a copy of `target`, making the arrays and objects on the way. */
function plant(target: unknown, path: string, value: string): unknown {
  const [head, ...rest] = path.split('.');
  const key = (head as string).replace(/\[\]$/, '').replace(/\{\}$/, '');
  const isArray = (head as string).endsWith('[]');
  const object = { ...(target as Record<string, unknown>) };
  const put = (current: unknown) => (rest.length === 0 ? value : plant(current ?? {}, rest.join('.'), value));
  if (isArray) {
    const list = Array.isArray(object[key]) ? [...(object[key] as unknown[])] : [];
    if (list.length === 0) list.push(rest.length === 0 ? value : {});
    object[key] = list.map((item) => put(item));
  } else object[key] = put(object[key]);
  return object;
}

describe('redaction at erasure', () => {
  // A closed plan with no free text in it (the fixture's assessment sets goals).
  const fixture = planInStage('closed').plan as Plan;
  const closed: Plan = { ...fixture, needs: fixture.needs.map((n) => ({ ...n, goals: [] })) };

  it('knows every plain string of the Plan schema: free text, text quoting it, or a code', () => {
    const paths = freeStringPaths(Plan);
    const unclassed = paths.filter((p) => !isFreeText(p) && !QUOTES_FREE_TEXT.includes(p) && !NOT_FREE_TEXT.includes(p));
    expect(unclassed, 'a plain string on the plan: is it free text (redaction.ts) or a code (this test)?').toEqual([]);
    expect(paths.filter(isFreeText).length).toBeGreaterThanOrEqual(7);
  });

  it('replaces each free-text field of a plan, wherever it is, and keeps the rest', () => {
    for (const path of freeStringPaths(Plan).filter(isFreeText)) {
      const planted = plant(closed, path, `Lives with ${SECRET}`) as Plan;
      expect(JSON.stringify(planted), path).toContain(SECRET);
      const redacted = redactPlan(planted);
      expect(JSON.stringify(redacted), path).not.toContain(SECRET);
      expect(JSON.stringify(redacted), path).toContain(REDACTED);
      // Only that field changed: the plan with the marker planted there instead.
      expect(redacted, path).toEqual(plant(closed, path, REDACTED));
    }
  });

  it('keeps the engine\'s words and replaces only the reason they quote', () => {
    const withQuotes: Plan = {
      ...closed,
      manualActivation: { reason: `${SECRET} asked to start`, at: closed.createdAt, unmetNeeds: ['alcohol'] },
      allocations: closed.allocations.map((a, i) => (i === 0 ? { ...a, manualReason: `${SECRET} knows them`, why: `Offered by hand: ${SECRET} knows them` } : a)),
      gaps: [
        { domain: 'alcohol', reason: 'all-candidates-declined-or-expired', explanation: `Activated without a provider for alcohol: ${SECRET} asked to start`, recordedAt: closed.createdAt },
        { domain: 'finance-benefit-debt', reason: 'no-service', explanation: 'No service offers finance-benefit-debt support', recordedAt: closed.createdAt },
      ],
    };
    const redacted = redactPlan(withQuotes);
    expect(JSON.stringify(redacted)).not.toContain(SECRET);
    expect(redacted.allocations[0]).toMatchObject({ manualReason: REDACTED, why: `Offered by hand: ${REDACTED}` });
    expect(redacted.allocations.slice(1)).toEqual(closed.allocations.slice(1));
    expect(redacted.gaps.map((g) => g.explanation)).toEqual([`Activated without a provider for alcohol: ${REDACTED}`, 'No service offers finance-benefit-debt support']);
    expect(redacted.manualActivation).toEqual({ ...withQuotes.manualActivation, reason: REDACTED });
    // A gap explanation quoting the reason in an event of the plan's history goes too.
    const event: PlanEvent = { id: 'e1', type: 'plan.allocation-proposed.v1', time: closed.createdAt, planId: closed.planId, sequence: 3, data: { planRef: closed.planId, offers: [], gaps: withQuotes.gaps } };
    expect(JSON.stringify(redactEvent(event))).not.toContain(SECRET);
  });

  it('changes nothing the figures or the plan\'s history are made of, and twice is once', () => {
    expect(redactPlan(closed)).toEqual(closed);
    const planted = plant(plant(closed, 'needs[].goals[]', SECRET), 'exit.note', SECRET) as Plan;
    expect(redactPlan(redactPlan(planted))).toEqual(redactPlan(planted));
    expect(redactPlan(planted).needs.map((n) => n.goals.length)).toEqual(planted.needs.map((n) => n.goals.length));
  });

  it('redacts an answer kept for a retry: a plan view or a provider\'s view of an allocation', () => {
    const planted = plant(plant(closed, 'needs[].goals[]', SECRET), 'referral.note', SECRET) as Plan;
    for (const view of [planView(planted, planted.updatedAt), providerAllocationView({ ...planted, stage: 'active', allocations: planted.allocations.map((a) => ({ ...a, status: 'accepted' })) }, planted.allocations[0]?.allocationId as string)]) {
      const text = JSON.stringify(view);
      expect(text).toContain(SECRET);
      expect(redactAnswerText(text)).not.toContain(SECRET);
    }
    expect(redactAnswerText('not json')).toBe('not json');
  });
});
