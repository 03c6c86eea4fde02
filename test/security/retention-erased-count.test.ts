/**
 * What the sweeper reports of retention: identitiesErased counts the identity records it deleted, not
 * the plans it anonymised. Over real HTTP on the embedded stack (dynalite), with the sweep's delete of
 * her person record held while a referral of her takes that record over (the erasure's mark gone
 * stale): her record stays for the new plan, so it is not counted as erased.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../lib/local/clock.ts';
import type { Participant } from '../../lib/domain/schemas.ts';
import { DAY_MS, referralBody, scanTable, secretParticipant, startSecurityStack, type SecurityStack } from './support.ts';

const RETENTION_DAYS = 30;
let s: SecurityStack;

beforeAll(async () => {
  s = await startSecurityStack({ retentionDays: RETENTION_DAYS });
});
afterAll(async () => {
  await s?.stop();
});

const refer = (participant: Participant) => s.call('POST', '/plans', { token: s.coordinator, body: referralBody(participant) });

/** A woman referred once, her plan withdrawn today. */
async function withdrawnPlan() {
  const participant = secretParticipant();
  const referred = await refer(participant);
  expect(referred.status, referred.text).toBe(201);
  const withdrawn = await s.call('POST', `/plans/${referred.json.planId}/withdraw`, { token: s.coordinator, body: { reason: 'unreachable' } });
  expect(withdrawn.status, withdrawn.text).toBe(200);
  return { participant, planId: referred.json.planId as string, participantId: referred.json.participantId as string };
}

/** Move the simulated clock on without sweeping (the test runs the sweep itself). */
async function moveClock(ms: number) {
  if (!(s.stack.clock instanceof SimulatedClock)) throw new Error('the clock is not simulated');
  await s.stack.clock.advance(ms);
}

/** Hold the sweep's delete of the person record `personPk` (her keyed link, deleted before her identity record) until released. */
function holdPersonDelete(personPk: string) {
  let reach!: () => void;
  let release!: () => void;
  const reached = new Promise<void>((resolve) => (reach = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  const name = `holdPersonDelete${randomBytes(4).toString('hex')}`;
  s.stack.plans.client.middlewareStack.add(
    (next, context) => async (args) => {
      const pk = (args.input as { Key?: { pk?: unknown } }).Key?.pk;
      if (String(context.commandName).startsWith('Delete') && pk === personPk) {
        reach();
        await released;
      }
      return next(args);
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

const identityItems = async (participantId: string) => (await scanTable(s.stack)).filter((i) => i.pk === `PARTICIPANT#${participantId}`);

describe('the sweeper anonymising plans past their retention period', () => {
  it('counts as erased only the identity records it deleted: not hers, which a referral of her took over while the sweep ran', async () => {
    const taken = await withdrawnPlan();
    const other = await withdrawnPlan();
    await moveClock((RETENTION_DAYS + 1) * DAY_MS);

    const [person] = (await scanTable(s.stack)).filter((i) => String(i.pk).startsWith('PERSON#') && i.participantId === taken.participantId);
    const hold = holdPersonDelete(String(person?.pk));
    const sweeping = s.stack.sweep();
    await hold.reached;
    // The sweep has marked her person record and waits at deleting it; past two minutes its mark is
    // stale, and a referral of her clears it and claims her record.
    await moveClock(3 * 60_000);
    const referred = await refer(taken.participant);
    expect(referred.status, referred.text).toBe(201);
    expect(referred.json.participantId).toBe(taken.participantId);
    hold.release();
    const report = await sweeping;

    expect(report.failedSteps).toEqual([]);
    expect(report.plansAnonymised).toBe(2);
    expect(report.identitiesErased).toBe(1);
    // Both old plans are anonymised; her record stays for the new plan, the other woman's is gone.
    for (const { planId } of [taken, other]) expect((await s.call('GET', `/plans/${planId}`, { token: s.coordinator })).json.identityErasedAt, planId).toBeDefined();
    expect(await identityItems(taken.participantId)).toHaveLength(1);
    expect(await identityItems(other.participantId)).toEqual([]);
    const current = await s.call('GET', `/plans/${referred.json.planId}`, { token: s.coordinator });
    expect(current.json.participant).toMatchObject({ familyName: taken.participant.familyName, dateOfBirth: taken.participant.dateOfBirth });
  });
});
