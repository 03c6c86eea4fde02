/**
 * An erasure request and a referral of the same woman at the same moment, over real HTTP on the embedded
 * stack (dynalite), each held at a chosen write so the interleaving is the test's, not the scheduler's:
 * her identity is never deleted under a referral that holds it, and neither request half-happens.
 * - a referral held between its claim on her person record and its plan write: the erasure is refused
 *   (409, nothing changed), whether it looked before or after the claim; the referral then completes;
 * - an erasure held once it has marked her person record: the referral is refused (409, nothing changed);
 *   a referral that read her record before the erasure and claims after it is refused too, and is then
 *   recorded as someone new, linked to none of her erased plans;
 * - an erasure that died after marking her record blocks her only until the mark is stale: a referral
 *   after that clears it, and another erasure after that replaces it.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Participant } from '../../lib/domain/schemas.ts';
import { injectFaults, putsAuditRecord, referralBody, scanTable, secretParticipant, startSecurityStack, type SecurityStack } from './support.ts';

let s: SecurityStack;

beforeAll(async () => {
  s = await startSecurityStack();
});
afterAll(async () => {
  await s?.stop();
});

/** The partition key a storage request names (document or raw form). */
function keyPk(input: Record<string, unknown>): string {
  const pk = (input.Key as Record<string, unknown> | undefined)?.pk;
  return typeof pk === 'string' ? pk : String((pk as { S?: unknown } | undefined)?.S ?? '');
}
const onPerson = (input: Record<string, unknown>) => keyPk(input).startsWith('PERSON#');
/** A referral's claim on her person record, and an erasure's mark on it. */
const isClaim = (name: string, input: Record<string, unknown>) => name.startsWith('Update') && onPerson(input) && String(input.UpdateExpression).includes('#claim = :claim');
const isMark = (name: string, input: Record<string, unknown>) => name.startsWith('Update') && onPerson(input) && String(input.UpdateExpression).includes('#erasing = :mark');
/** An erasure that cannot go on (its audit record not written) and cannot take its mark off either: the store failing under it, as a crash would leave it. */
const diesAfterMarking = (name: string, input: Record<string, unknown>) => putsAuditRecord(name, input) || (name.startsWith('Update') && onPerson(input) && String(input.UpdateExpression).startsWith('REMOVE #erasing'));

interface Hold {
  /** Resolves once the held request has reached the write. */
  reached: Promise<void>;
  release(): void;
}

/**
 * Hold the first storage request `matches` picks, `before` it is sent or `after` it is written, until
 * released: the request it belongs to waits there while the test runs the other one.
 */
function holdAt(matches: (name: string, input: Record<string, unknown>) => boolean, when: 'before' | 'after'): Hold {
  let reach!: () => void;
  let release!: () => void;
  const reached = new Promise<void>((resolve) => (reach = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  const name = `hold${randomBytes(4).toString('hex')}`;
  let armed = true;
  s.stack.plans.client.middlewareStack.add(
    (next, context) => async (args) => {
      if (!armed || !matches(String(context.commandName), args.input as Record<string, unknown>)) return next(args);
      armed = false;
      if (when === 'before') {
        reach();
        await released;
        return next(args);
      }
      const out = await next(args);
      reach();
      await released;
      return out;
    },
    { step: 'initialize', name },
  );
  return {
    reached,
    release: () => {
      s.stack.plans.client.middlewareStack.remove(name);
      release();
    },
  };
}

const erase = (planId: string) => s.call('POST', `/plans/${planId}/erase-identity`, { token: s.coordinator, body: { reason: 'her-request' } });
const refer = (participant: Participant) => s.call('POST', '/plans', { token: s.coordinator, body: referralBody(participant) });

/** A woman referred once, her plan withdrawn: nothing of hers is open, so her identity may be erased. */
async function endedPlan() {
  const participant = secretParticipant();
  const first = await refer(participant);
  expect(first.status, first.text).toBe(201);
  const withdrawn = await s.call('POST', `/plans/${first.json.planId}/withdraw`, { token: s.coordinator, body: { reason: 'unreachable' } });
  expect(withdrawn.status, withdrawn.text).toBe(200);
  return { participant, planId: first.json.planId as string, participantId: first.json.participantId as string };
}

const identityItems = async (participantId: string) => (await scanTable(s.stack)).filter((i) => i.pk === `PARTICIPANT#${participantId}`);
const personItems = async (participantId: string) => (await scanTable(s.stack)).filter((i) => String(i.pk).startsWith('PERSON#') && i.participantId === participantId);

describe('a referral of her held between its claim and its plan write', () => {
  it('refuses an erasure request that comes after the claim, changing nothing; the referral then completes with her identity', async () => {
    const her = await endedPlan();
    const hold = holdAt(isClaim, 'after');
    const referral = refer(her.participant);
    await hold.reached;

    const before = await scanTable(s.stack, { withAudit: true });
    const res = await erase(her.planId);
    expect(res.status, res.text).toBe(409);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.json.detail).toContain('A referral of her is being recorded right now');
    expect(await scanTable(s.stack, { withAudit: true })).toEqual(before);

    hold.release();
    const referred = await referral;
    expect(referred.status, referred.text).toBe(201);
    expect(referred.json.participantId).toBe(her.participantId);
    expect(referred.json.participant).toMatchObject({ familyName: her.participant.familyName, dateOfBirth: her.participant.dateOfBirth });
    expect(await identityItems(her.participantId)).toHaveLength(1);
  });

  it('refuses an erasure request that looked before the claim and would delete after it, changing nothing', async () => {
    const her = await endedPlan();
    // The erasure has read her records and found nothing open and no referral in flight; it waits at its mark.
    const erasureHeld = holdAt(isMark, 'before');
    const erasure = erase(her.planId);
    await erasureHeld.reached;
    // Meanwhile a referral of her claims her person record, and waits before writing its plan.
    const referralHeld = holdAt(isClaim, 'after');
    const referral = refer(her.participant);
    await referralHeld.reached;

    const before = await scanTable(s.stack, { withAudit: true });
    erasureHeld.release();
    const res = await erasure;
    expect(res.status, res.text).toBe(409);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.json.detail).toContain('A referral of her is being recorded right now');
    expect(await scanTable(s.stack, { withAudit: true })).toEqual(before);

    referralHeld.release();
    const referred = await referral;
    expect(referred.status, referred.text).toBe(201);
    const plan = await s.call('GET', `/plans/${referred.json.planId}`, { token: s.coordinator });
    expect(plan.json.participant).toMatchObject({ familyName: her.participant.familyName });
    expect(await identityItems(her.participantId)).toHaveLength(1);
    // Her earlier plan keeps her identity too: nothing of the refused erasure happened.
    expect((await s.call('GET', `/plans/${her.planId}`, { token: s.coordinator })).json.identityErasedAt).toBeUndefined();
  });
});

describe('a referral of her held past the claim timeout', () => {
  it('does not bring back her erased person record half-made: a later referral of her is recorded', async () => {
    const her = await endedPlan();
    const hold = holdAt(isClaim, 'after');
    const referral = refer(her.participant);
    await hold.reached;
    // Past the six minutes a referral's claim counts as in flight: the erasure takes it for a dead one's.
    await s.advance(7 * 60_000);
    expect((await erase(her.planId)).status).toBe(200);

    hold.release();
    const referred = await referral;
    expect(referred.status, referred.text).toBe(201);
    // No person record without a participant id is left behind for her.
    expect((await scanTable(s.stack)).filter((i) => String(i.pk).startsWith('PERSON#') && i.participantId === undefined)).toEqual([]);
    const withdrawn = await s.call('POST', `/plans/${referred.json.planId}/withdraw`, { token: s.coordinator, body: { reason: 'unreachable' } });
    expect(withdrawn.status, withdrawn.text).toBe(200);
    const again = await refer(her.participant);
    expect(again.status, again.text).toBe(201);
  });
});

describe('an erasure asked again after failing between her person record and her identity record', () => {
  it('leaves the person record of a referral of her made meanwhile (as someone new) alone', async () => {
    const her = await endedPlan();
    // Her person record goes, then deleting her identity record fails: the erasure is a 5xx, her plan not yet marked.
    const faults = injectFaults(s.stack);
    faults.set((name, input) => name.startsWith('Delete') && keyPk(input) === `PARTICIPANT#${her.participantId}`);
    expect((await erase(her.planId)).status).toBeGreaterThanOrEqual(500);
    faults.clear();
    expect(await personItems(her.participantId)).toEqual([]);
    // Without her person record she is referred as someone new, with a person record of her own.
    const referred = await refer(her.participant);
    expect(referred.status, referred.text).toBe(201);
    expect(referred.json.participantId).not.toBe(her.participantId);

    expect((await erase(her.planId)).status).toBe(200);
    expect(await identityItems(her.participantId)).toEqual([]);
    // The new referral's link stays, so a duplicate referral of her is still refused while it is open.
    expect(await personItems(referred.json.participantId as string)).toHaveLength(1);
    expect((await refer(her.participant)).status).toBe(409);
  });
});

describe('an erasure of her held once it has marked her person record', () => {
  it('refuses a referral of her meanwhile with a 409, changing nothing; she is erased, then referred as someone new', async () => {
    const her = await endedPlan();
    const hold = holdAt(isMark, 'after');
    const erasure = erase(her.planId);
    await hold.reached;

    const before = await scanTable(s.stack, { withAudit: true });
    const res = await refer(her.participant);
    expect(res.status, res.text).toBe(409);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.json.errors).toEqual([{ path: 'participant', message: 'her identity is being erased right now' }]);
    expect(await scanTable(s.stack, { withAudit: true })).toEqual(before);

    hold.release();
    expect((await erasure).status).toBe(200);
    expect(await identityItems(her.participantId)).toEqual([]);
    expect(await personItems(her.participantId)).toEqual([]);
    const again = await refer(her.participant);
    expect(again.status, again.text).toBe(201);
    expect(again.json.participantId).not.toBe(her.participantId);
    expect((await s.call('GET', `/plans/${again.json.planId}`, { token: s.coordinator })).json.previousPlanIds ?? []).toEqual([]);
  });

  it('refuses a referral that read her record before the erasure and claims after it: her erased record is not brought back', async () => {
    const her = await endedPlan();
    // The referral has found her person record (her earlier plan, her participant id) and waits at its claim.
    const hold = holdAt(isClaim, 'before');
    const referral = refer(her.participant);
    await hold.reached;
    expect((await erase(her.planId)).status).toBe(200);

    hold.release();
    const res = await referral;
    expect(res.status, res.text).toBe(409);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.json.errors).toEqual([{ path: 'participant', message: 'her identity was erased while this referral was being recorded' }]);
    // Neither her identity nor the link to her erased plan came back under her old participant id.
    expect(await identityItems(her.participantId)).toEqual([]);
    expect(await personItems(her.participantId)).toEqual([]);
    const again = await refer(her.participant);
    expect(again.status, again.text).toBe(201);
    expect(again.json.participantId).not.toBe(her.participantId);
  });
});

describe('an erasure that died after marking her person record', () => {
  it('blocks a referral of her only until its mark is stale, and another erasure after that finishes it', async () => {
    const her = await endedPlan();
    // The erasure marks her record, then cannot write its audit record nor take its mark off: the mark is left behind.
    const faults = injectFaults(s.stack);
    faults.set(diesAfterMarking);
    const died = await erase(her.planId);
    faults.clear();
    expect(died.status).toBeGreaterThanOrEqual(500);
    expect(await identityItems(her.participantId)).toHaveLength(1);

    // While the mark is fresh: another erasure and a referral are both refused, changing nothing.
    const before = await scanTable(s.stack, { withAudit: true });
    const secondErasure = await erase(her.planId);
    expect(secondErasure.status, secondErasure.text).toBe(409);
    expect(secondErasure.json.errors).toEqual([{ path: 'planId', message: 'her identity is being erased by another request' }]);
    expect((await refer(her.participant)).status).toBe(409);
    expect(await scanTable(s.stack, { withAudit: true })).toEqual(before);

    // Stale (past two minutes): the next erasure replaces the mark and finishes.
    await s.advance(3 * 60_000);
    expect((await erase(her.planId)).status).toBe(200);
    expect(await identityItems(her.participantId)).toEqual([]);
  });

  it('lets a referral of her clear a stale mark and go ahead with her record', async () => {
    const her = await endedPlan();
    const faults = injectFaults(s.stack);
    faults.set(diesAfterMarking);
    expect((await erase(her.planId)).status).toBeGreaterThanOrEqual(500);
    faults.clear();
    await s.advance(3 * 60_000);

    const referred = await refer(her.participant);
    expect(referred.status, referred.text).toBe(201);
    expect(referred.json.participantId).toBe(her.participantId);
    const [person] = await personItems(her.participantId);
    expect(person?.erasing).toBeUndefined();
  });
});
