/**
 * Her person record (the keyed link between her plans) with no participant id, as a release before
 * linkPerson was conditional could leave it (an erasure took the record while a referral ran): it names
 * no one's identity record, so it must not be read as the participant "undefined". Over real HTTP on
 * the embedded stack (dynalite).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { referralBody, scanTable, secretParticipant, startSecurityStack, type SecurityStack } from './support.ts';

let s: SecurityStack;

beforeAll(async () => {
  s = await startSecurityStack();
});
afterAll(async () => {
  await s?.stop();
});

const personItems = async () => (await scanTable(s.stack)).filter((i) => String(i.pk).startsWith('PERSON#'));

describe('a person record of hers without a participant id', () => {
  it('does not stop her being referred: the referral gives her a new identity record and the record names it, and the duplicate check holds again', async () => {
    const participant = secretParticipant();
    const first = await s.call('POST', '/plans', { token: s.coordinator, body: referralBody(participant) });
    expect(first.status, first.text).toBe(201);
    const withdrawn = await s.call('POST', `/plans/${first.json.planId}/withdraw`, { token: s.coordinator, body: { reason: 'unreachable' } });
    expect(withdrawn.status, withdrawn.text).toBe(200);
    const [person] = (await personItems()).filter((i) => i.participantId === first.json.participantId);
    expect(person).toBeDefined();
    await s.stack.plans.client.send(
      new UpdateCommand({ TableName: s.stack.plans.tableName, Key: { pk: person?.pk, sk: person?.sk }, UpdateExpression: 'REMOVE participantId' }),
    );

    const again = await s.call('POST', '/plans', { token: s.coordinator, body: referralBody(participant) });
    expect(again.status, again.text).toBe(201);
    const participantId = again.json.participantId as string;
    expect(participantId).toMatch(/^pt_/);
    expect(again.json.participant).toMatchObject({ familyName: participant.familyName, dateOfBirth: participant.dateOfBirth });
    const plan = await s.call('GET', `/plans/${again.json.planId}`, { token: s.coordinator });
    expect(plan.json.participant).toMatchObject({ familyName: participant.familyName, dateOfBirth: participant.dateOfBirth });
    expect((await personItems()).filter((i) => i.pk === person?.pk)).toEqual([expect.objectContaining({ participantId })]);

    // While that plan is open, another referral of her is refused as a duplicate naming it.
    const duplicate = await s.call('POST', '/plans', { token: s.coordinator, body: referralBody(participant) });
    expect(duplicate.status, duplicate.text).toBe(409);
    expect(duplicate.json.errors).toEqual([{ path: 'participant', message: `already has open plan ${again.json.planId}` }]);
  });
});
