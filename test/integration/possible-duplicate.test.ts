/**
 * A possible duplicate referral, over real HTTP on the embedded stack (dynalite): a referral whose name
 * and date of birth nearly match those of another woman with an open plan ("Jo Smith" against "Joanne
 * Smith" born the same day, the day and month of birth swapped) is refused with a 409 problem of type
 * possible-duplicate naming the open plans (never who she is) and changing nothing; sent again with
 * notDuplicateOf listing them all, it goes ahead, and the audit record says the coordinator confirmed
 * she is a different woman. The near-match items are written with the referral only (one BatchGetItem and
 * two UpdateItems per referral, none on other commands) and deleted with her identity (erasure request,
 * retention sweep).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../lib/local/clock.ts';
import { startEmbeddedStack, type EmbeddedStack } from '../../lib/local/embedded-stack.ts';
import { PossibleDuplicateProblem } from '../../lib/domain/schemas.ts';
import { makeCall, scanTable, type Call, type CallResult, type Json } from '../support/http.ts';

const RETENTION_DAYS = 30;
const DAY_MS = 86_400_000;
let stack: EmbeddedStack;
let call: Call;
let coordinator: string;
let teamLead: string;
/** Jo's plan (confirmed a different woman from Joanne), exited and so kept past the others' retention. */
let joPlanId: string | undefined;
const confirmedPlanId = () => joPlanId;

/** Storage requests that read or write near-match items (NEAR#), by the command that sent them. */
let nearRequests: string[] = [];
const pkOf = (key: unknown) => {
  const pk = (key as { pk?: unknown } | undefined)?.pk;
  return typeof pk === 'string' ? pk : String((pk as { S?: unknown } | undefined)?.S ?? '');
};

beforeAll(async () => {
  stack = await startEmbeddedStack({ inMemory: true, port: 0, sweepIntervalMs: 0, clockMode: 'simulated', webhooks: { intervalMs: 0 }, webDistDir: false, retentionDays: RETENTION_DAYS });
  call = makeCall(stack.url);
  const token = (role: string) => stack.demoUsers.find((u) => u.role === role)?.token as string;
  coordinator = token('coordinator');
  teamLead = token('team-lead');
  stack.plans.client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { Key?: unknown; RequestItems?: Record<string, { Keys?: unknown[] }> };
      const keysNamed = [input.Key, ...Object.values(input.RequestItems ?? {}).flatMap((r) => r.Keys ?? [])];
      if (keysNamed.some((k) => pkOf(k).startsWith('NEAR#'))) nearRequests.push(String(context.commandName).replace(/Item/, '').replace(/Command$/, ''));
      return next(args);
    },
    { step: 'initialize', name: 'countNearRequests' },
  );
});
afterAll(async () => {
  await stack?.stop();
});

const referral = { source: 'custody-diversion', localAuthority: 'sandwell', urgency: 'routine' };
type Person = { givenName: string; familyName: string; dateOfBirth: string };
const refer = (participant: Person, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  call('POST', '/plans', { token: coordinator, body: { participant, referral, ...extra }, headers });
async function referred(participant: Person, extra: Record<string, unknown> = {}): Promise<Json> {
  const res = await refer(participant, extra);
  expect(res.status, res.text).toBe(201);
  return res.json;
}
async function ok(method: string, path: string, body?: unknown): Promise<Json> {
  const res = await call(method, path, { token: coordinator, ...(body === undefined ? {} : { body }) });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
  return res.json;
}
const today = () => stack.clock.now().slice(0, 10);
const nearItems = async () => (await scanTable(stack)).filter((i) => String(i.pk).startsWith('NEAR#'));
const plansFiled = async () => new Set((await nearItems()).flatMap((i) => [...((i.planIds as Set<string> | undefined) ?? [])]));

/** A possible-duplicate refusal naming exactly `planIds`, saying nothing of who she is, and changing nothing. */
async function warned(participant: Person, planIds: string[], extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<CallResult> {
  const before = await scanTable(stack, { withAudit: true });
  const res = await refer(participant, extra, headers);
  expect(res.status, res.text).toBe(409);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  expect(res.json).toMatchObject({ type: 'possible-duplicate', title: 'Possible duplicate referral', status: 409 });
  // The body is the schema the OpenAPI document describes.
  expect(PossibleDuplicateProblem.safeParse(res.json).error).toBeUndefined();
  expect(res.json.possibleDuplicates.map((p: { planId: string }) => p.planId)).toEqual(planIds);
  for (const p of res.json.possibleDuplicates) expect(p).toEqual({ planId: expect.any(String), stage: expect.any(String), referredOn: today() });
  expect(res.json.errors).toEqual([{ path: 'notDuplicateOf', message: expect.stringContaining(planIds[0] as string) }]);
  for (const id of planIds) expect(res.json.detail).toContain(`plan ${id} (`);
  // Each plan's referral day, as possibleDuplicates gives it: not the time another woman was referred.
  expect(res.json.detail).not.toMatch(/referred on [^)]* at \d{2}:\d{2}/);
  expect(res.json.detail).toMatch(/referred on \d{1,2} [A-Z][a-z]+ \d{4}\)/);
  expect(res.json.detail).toContain('if she is a different woman, send the referral again with notDuplicateOf');
  // Nothing of either woman: not the name typed, not the date of birth.
  for (const secret of [participant.givenName, participant.familyName, participant.dateOfBirth]) expect(res.text).not.toContain(secret);
  // The referral changes nothing; the warning itself is on the audit record (it showed the coordinator plans
  // linked to the name and date of birth she typed), with its refusal, naming the plans and nothing of her.
  const after = await scanTable(stack, { withAudit: true });
  const isAudit = (item: Record<string, unknown>) => String(item.pk).startsWith('AUDIT#');
  expect(after.filter((i) => !isAudit(i)), 'a warned referral changed the store').toEqual(before.filter((i) => !isAudit(i)));
  const added = after.filter((a) => isAudit(a) && !before.some((b) => b.pk === a.pk && b.sk === a.sk));
  expect(added.map((i) => i.action ?? 'outcome')).toEqual(['refer-warned-possible-duplicate', 'outcome']);
  expect(added[0]).toMatchObject({ possibleDuplicates: planIds, role: 'coordinator' });
  expect(added[1]).toMatchObject({ outcome: { result: 'refused', status: 409, problem: 'Possible duplicate referral' } });
  for (const secret of [participant.givenName, participant.familyName, participant.dateOfBirth]) expect(JSON.stringify(added)).not.toContain(secret);
  return res;
}

describe('a referral nearly matching another woman with an open plan', () => {
  const joanne = { givenName: 'Joanne', familyName: 'Smithfield', dateOfBirth: '1990-03-04' };
  let joannePlan: Json;
  let confirmed: Json;

  it('a first referral files her plan under her near-match keys: one BatchGetItem and two UpdateItems, nothing of her in them', async () => {
    nearRequests = [];
    joannePlan = await referred(joanne);
    expect(nearRequests.sort()).toEqual(['BatchGet', 'Update', 'Update']);
    const items = await nearItems();
    expect(items).toHaveLength(2);
    for (const item of items) {
      expect(item).toEqual({ pk: expect.stringMatching(/^NEAR#[0-9a-f]{40}$/), sk: 'NEAR', type: 'near-match', planIds: new Set([joannePlan.planId]) });
      for (const secret of ['Joanne', 'joanne', 'Smithfield', 'smithfield', '1990', '03-04']) expect(JSON.stringify([...(item.planIds as Set<string>), item.pk])).not.toContain(secret);
    }
  });

  it('"Jo Smithfield" born the same day is warned of, naming her plan only: 409 possible-duplicate, the referral not recorded, the warning audited', async () => {
    await warned({ ...joanne, givenName: 'Jo' }, [joannePlan.planId]);
  });

  it('so is the same name with day and month of birth swapped (04/03 for 03/04), and a changed family name', async () => {
    await warned({ ...joanne, dateOfBirth: '1990-04-03' }, [joannePlan.planId]);
    await warned({ ...joanne, familyName: 'Okafor' }, [joannePlan.planId]);
    await warned({ givenName: joanne.familyName, familyName: joanne.givenName, dateOfBirth: joanne.dateOfBirth }, [joannePlan.planId]);
  });

  it('a woman sharing one name but not the date of birth is not warned of', async () => {
    const res = await referred({ ...joanne, givenName: 'Joanna', dateOfBirth: '1990-03-05' });
    expect(res.previousPlanIds).toEqual([]);
    await ok('POST', `/plans/${res.planId}/withdraw`, { reason: 'unreachable' });
  });

  it('sent again with notDuplicateOf naming the plan, it goes ahead as another woman, and the audit record says she was confirmed different', async () => {
    const jo = { ...joanne, givenName: 'Jo' };
    await warned(jo, [joannePlan.planId], {}, { 'Idempotency-Key': 'jo-smithfield-1' });
    // The same key, now with the confirmation: the refusal was not remembered, so this is a new request.
    const res = await refer(jo, { notDuplicateOf: [joannePlan.planId] }, { 'Idempotency-Key': 'jo-smithfield-1' });
    expect(res.status, res.text).toBe(201);
    confirmed = res.json;
    joPlanId = confirmed.planId;
    expect(confirmed.previousPlanIds).toEqual([]);
    expect(confirmed.participantId).not.toBe(joannePlan.participantId);
    expect(confirmed.participant).toMatchObject(jo);

    const audit = await call('GET', `/audit?from=${today()}&to=${today()}&planId=${confirmed.planId}`, { token: teamLead });
    expect(audit.status, audit.text).toBe(200);
    const referralRecord = audit.json.items.find((r: { action: string }) => r.action.startsWith('refer'));
    expect(referralRecord).toMatchObject({ action: 'refer-confirmed-different-woman', planId: confirmed.planId, notDuplicateOf: [joannePlan.planId], outcome: { result: 'succeeded', status: 201 } });
  });

  it('a retry of that accepted referral with its Idempotency-Key answers as before, even though her plan is still open', async () => {
    const res = await refer({ ...joanne, givenName: 'Jo' }, { notDuplicateOf: [joannePlan.planId] }, { 'Idempotency-Key': 'jo-smithfield-1' });
    expect(res.status, res.text).toBe(201);
    expect(res.headers.get('idempotent-replayed')).toBe('true');
    expect(res.json.planId).toBe(confirmed.planId);
  });

  it('with two open plans to check, naming one of them is not enough: both are named again', async () => {
    // "Jo" is now filed too: a third, "Joey", nearly matches both women.
    const joey = { ...joanne, givenName: 'Joey' };
    const both = [joannePlan.planId, confirmed.planId];
    await warned(joey, both);
    await warned(joey, both, { notDuplicateOf: [joannePlan.planId] });
    const res = await refer(joey, { notDuplicateOf: both });
    expect(res.status, res.text).toBe(201);
    await ok('POST', `/plans/${res.json.planId}/withdraw`, { reason: 'unreachable' });
  });

  it('a notDuplicateOf that is not a list of plan ids is a 400 naming it, changing nothing', async () => {
    const before = await scanTable(stack);
    const res = await refer({ ...joanne, givenName: 'Jo' }, { notDuplicateOf: ['Joanne Smithfield'] });
    expect(res.status, res.text).toBe(400);
    expect(res.json.errors).toEqual([expect.objectContaining({ path: 'notDuplicateOf.0' })]);
    expect(await scanTable(stack)).toEqual(before);
  });

  it('commands on a plan other than a referral send no storage request for near matches', async () => {
    nearRequests = [];
    await ok('POST', `/plans/${confirmed.planId}/record-consent`, { scope: { shareWithProviders: true, dataCategories: ['needs'] }, givenAt: today(), method: 'written' });
    await ok('GET', `/plans/${confirmed.planId}`);
    await ok('POST', `/plans/${confirmed.planId}/exit`, { reason: 'moved-away' });
    expect(nearRequests).toEqual([]);
  });

  it('a plan no longer open is not warned of: once her plan is withdrawn, "Jo" is referred without a word', async () => {
    await ok('POST', `/plans/${joannePlan.planId}/withdraw`, { reason: 'unreachable' });
    // Jo's own plan has exited; Joanne's is withdrawn: neither is open.
    const res = await referred({ ...joanne, givenName: 'Josephine' });
    await ok('POST', `/plans/${res.planId}/withdraw`, { reason: 'unreachable' });
  });
});

describe('erasure removes her near-match items', () => {
  it('an erasure request deletes her near-match items; a near match of her afterwards is not warned of her plan', async () => {
    const maria = { givenName: 'Mariam', familyName: 'Thistlewood', dateOfBirth: '1985-07-09' };
    const first = await referred(maria);
    await ok('POST', `/plans/${first.planId}/withdraw`, { reason: 'unreachable' });
    // Referred again (the same woman, exact match): both her plans are filed under her keys.
    const second = await referred(maria);
    expect(second.previousPlanIds).toEqual([first.planId]);
    for (const id of [first.planId, second.planId]) expect((await plansFiled()).has(id), id).toBe(true);
    await ok('POST', `/plans/${second.planId}/withdraw`, { reason: 'unreachable' });

    const erased = await call('POST', `/plans/${second.planId}/erase-identity`, { token: coordinator, body: { reason: 'her-request' } });
    expect(erased.status, erased.text).toBe(200);
    const filed = await plansFiled();
    for (const id of [first.planId, second.planId]) expect(filed.has(id), `${id} still filed`).toBe(false);
    // Her keys held her plans only: no item is left under them.
    for (const item of await nearItems()) expect((item.planIds as Set<string>).size, String(item.pk)).toBeGreaterThan(0);

    // A near match of her now (her plans withdrawn and erased) is referred without a warning naming them.
    const res = await referred({ ...maria, givenName: 'Mary' });
    expect(res.previousPlanIds).toEqual([]);
    await ok('POST', `/plans/${res.planId}/withdraw`, { reason: 'unreachable' });
  });

  it('a near-match item shared with another woman keeps hers when one is erased', async () => {
    const twinA = { givenName: 'Rosalind', familyName: 'Quennell', dateOfBirth: '1979-11-23' };
    const twinB = { givenName: 'Rowena', familyName: 'Quennell', dateOfBirth: '1979-11-23' };
    const a = await referred(twinA);
    await ok('POST', `/plans/${a.planId}/withdraw`, { reason: 'unreachable' });
    const b = await referred(twinB);
    await ok('POST', `/plans/${b.planId}/withdraw`, { reason: 'unreachable' });
    const erased = await call('POST', `/plans/${a.planId}/erase-identity`, { token: coordinator, body: { reason: 'her-request' } });
    expect(erased.status, erased.text).toBe(200);
    const filed = await plansFiled();
    expect(filed.has(a.planId)).toBe(false);
    expect(filed.has(b.planId)).toBe(true);
  });

  it('the retention sweep deletes them with her identity', async () => {
    const nadia = { givenName: 'Nadira', familyName: 'Ellsworth-Pike', dateOfBirth: '1992-05-27' };
    const plan = await referred(nadia);
    await ok('POST', `/plans/${plan.planId}/withdraw`, { reason: 'unreachable' });
    expect((await plansFiled()).has(plan.planId)).toBe(true);
    if (!(stack.clock instanceof SimulatedClock)) throw new Error('the clock is not simulated');
    await stack.clock.advance((RETENTION_DAYS + 1) * DAY_MS);
    const report = await stack.sweep();
    expect(report.failedSteps).toEqual([]);
    expect(report.identitiesErased).toBeGreaterThanOrEqual(1);
    expect((await plansFiled()).has(plan.planId)).toBe(false);
    // Every plan above that ended (withdrawn) is past its retention period now: only plans still held are filed
    // (Jo's exited plan waits for its follow-ups), each under an item with a plan left in it.
    for (const id of await plansFiled()) expect((await ok('GET', `/plans/${id}`)).identityErasedAt, id).toBeUndefined();
    expect([...(await plansFiled())]).toEqual([confirmedPlanId()]);
    const res = await referred({ ...nadia, givenName: 'Nadia' });
    expect(res.previousPlanIds).toEqual([]);
  });
});
