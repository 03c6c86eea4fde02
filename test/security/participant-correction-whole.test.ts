/**
 * A coordinator's correction (PATCH /plans/{id}/participant) is checked against the identity it
 * changes, not only on its own: what is held afterwards must still be an identity the referral form
 * would accept. Letters as her preferred way of contact need an address to send them to; a correction
 * that would leave letters without an address is a 400 naming `address`, and changes nothing.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../lib/adapters/dynamodb/keys.ts';
import type { Participant } from '../../lib/domain/schemas.ts';
import { referralBody, secretParticipant, startSecurityStack, type SecurityStack } from './support.ts';

let s: SecurityStack;
beforeAll(async () => {
  s = await startSecurityStack();
});
afterAll(async () => {
  await s?.stop();
});

async function referred(participant: Participant): Promise<string> {
  const res = await s.call('POST', '/plans', { token: s.coordinator, body: referralBody(participant) });
  expect(res.status, res.text).toBe(201);
  return res.json.planId as string;
}

const held = async (planId: string) => {
  const res = await s.call('GET', `/plans/${planId}`, { token: s.coordinator });
  expect(res.status, res.text).toBe(200);
  return res.json.participant as Participant;
};

async function expectRefusedNamingAddress(planId: string, body: unknown) {
  const before = await held(planId);
  const res = await s.call('PATCH', `/plans/${planId}/participant`, { token: s.coordinator, body });
  expect(res.status, res.text).toBe(400);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  expect((res.json.errors as { path: string }[]).map((e) => e.path)).toContain('address');
  expect(await held(planId)).toEqual(before);
}

describe('PATCH /plans/{id}/participant keeps her identity whole', () => {
  it('refuses removing the address of a woman who asked for letters', async () => {
    const byLetter: Participant = { ...secretParticipant(), contact: { preferredMethod: 'letter', safeToSendPost: true } };
    await expectRefusedNamingAddress(await referred(byLetter), { address: null });
  });

  it('refuses making letters her preferred way when no address is held', async () => {
    const { address: _address, ...withoutAddress } = secretParticipant();
    await expectRefusedNamingAddress(await referred(withoutAddress), { contact: { preferredMethod: 'letter', safeToSendPost: true } });
  });

  it('takes letters and the address to send them to in one correction', async () => {
    const { address: _address, ...withoutAddress } = secretParticipant();
    const planId = await referred(withoutAddress);
    const address = { lines: ['Flat 3', '9 Quarry Row'], town: 'Walsall', postcode: 'WS2 8AA' };
    const res = await s.call('PATCH', `/plans/${planId}/participant`, { token: s.coordinator, body: { contact: { preferredMethod: 'letter', safeToSendPost: true }, address } });
    expect(res.status, res.text).toBe(200);
    expect(await held(planId)).toMatchObject({ contact: { preferredMethod: 'letter' }, address });
  });

  it('corrects the contact details of a woman whose given name, held from before names needed a letter, has none', async () => {
    // Referrals before 393cdba took a given name such as '?' (not known); the rule is for names sent, and a
    // correction cannot change her name, so it must not refuse her new number over it.
    const planId = await referred(secretParticipant());
    const plan = await s.call('GET', `/plans/${planId}`, { token: s.coordinator });
    await s.stack.plans.client.send(
      new UpdateCommand({ TableName: s.stack.plans.tableName, Key: keys.identity(plan.json.participantId as string), UpdateExpression: 'SET givenName = :unknown', ExpressionAttributeValues: { ':unknown': '?' } }),
    );
    const res = await s.call('PATCH', `/plans/${planId}/participant`, { token: s.coordinator, body: { contact: { phone: '07700900999', preferredMethod: 'phone-call' } } });
    expect(res.status, res.text).toBe(200);
    expect(await held(planId)).toMatchObject({ givenName: '?', contact: { phone: '07700900999' } });
  });
});
