/**
 * The referral sends its independent storage requests together: her person record is read beside the
 * answer stored for the Idempotency-Key, and once the plan is saved her details, the link on her person
 * record and the near-match filing are written at once; the answer gives her identity as this referral
 * wrote it instead of reading it back. What that must not change, over real HTTP on the embedded stack:
 * two referrals of one woman at once still end in one plan, one person record and one identity record,
 * filed once; and the identity and revision a referral answers with are what is held (a correction sent
 * with that revision as If-Match goes through).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityEntityTag } from '../../lib/api/if-match.ts';
import { startEmbeddedStack, type EmbeddedStack } from '../../lib/local/embedded-stack.ts';
import { makeCall, scanTable, type Call, type Json } from '../support/http.ts';

let stack: EmbeddedStack;
let call: Call;
let coordinator: string;

beforeAll(async () => {
  stack = await startEmbeddedStack({ inMemory: true, port: 0, sweepIntervalMs: 0, webhooks: { intervalMs: 0 }, webDistDir: false });
  call = makeCall(stack.url);
  coordinator = stack.demoUsers.find((u) => u.role === 'coordinator')?.token as string;
});
afterAll(async () => {
  await stack?.stop();
});

const referral = { source: 'custody-diversion', localAuthority: 'dudley', urgency: 'routine' };
const refer = (participant: Record<string, unknown>, key: string) => call('POST', '/plans', { token: coordinator, body: { participant, referral }, headers: { 'Idempotency-Key': key } });
const itemsOf = async (kind: 'PERSON' | 'NEAR' | 'PARTICIPANT') => (await scanTable(stack)).filter((item) => String(item.pk).startsWith(`${kind}#`));
const planIdsOf = (item: Json) => [...((item.planIds as Iterable<string> | undefined) ?? [])];

describe('two referrals of one woman at once', () => {
  it('end in one plan, one person record listing it, one identity record, and her near-match items naming that plan only', async () => {
    const woman = { givenName: 'Philippa', familyName: 'Tregarthen', dateOfBirth: '1991-02-27' };
    const [a, b] = await Promise.all([refer(woman, 'together-a'), refer(woman, 'together-b')]);
    expect([a.status, b.status].sort(), `${a.text}\n${b.text}`).toEqual([201, 409]);
    const planId = (a.status === 201 ? a : b).json.planId as string;
    const plan = (await call('GET', `/plans/${planId}`, { token: coordinator })).json;

    const people = (await itemsOf('PERSON')).filter((item) => item.participantId === plan.participantId);
    expect(people.map(planIdsOf)).toEqual([[planId]]);
    expect(await itemsOf('PARTICIPANT')).toHaveLength(1);
    const filed = (await itemsOf('NEAR')).map(planIdsOf);
    expect(filed.length).toBeGreaterThan(0);
    expect(filed.every((ids) => ids.length === 1 && ids[0] === planId)).toBe(true);
    const plans = (await scanTable(stack)).filter((item) => item.sk === 'PLAN');
    expect(plans).toHaveLength(1);
  });
});

describe("a referral's answer", () => {
  it('gives her identity and revision as held: the plan reads the same, and a correction with that revision as If-Match is saved', async () => {
    const woman = { givenName: 'Rosalind', familyName: 'Achterberg', dateOfBirth: '1987-11-03', contact: { phone: '07700 900456', preferredMethod: 'phone-call', safeToLeaveVoicemail: false } };
    const referred = await refer(woman, 'answer-as-held');
    expect(referred.status, referred.text).toBe(201);
    const read = await call('GET', `/plans/${referred.json.planId}`, { token: coordinator });
    expect(referred.json.participant).toEqual(read.json.participant);
    expect(referred.json.participantRevision).toBe(read.json.participantRevision);

    const corrected = await call('PATCH', `/plans/${referred.json.planId}/participant`, {
      token: coordinator,
      body: { contact: { phone: '07700 900789', preferredMethod: 'text-message', safeToText: true } },
      headers: { 'If-Match': identityEntityTag(referred.json.participantRevision as number) },
    });
    expect(corrected.status, corrected.text).toBe(200);
    expect(corrected.json.participant.contact.phone).toBe('07700 900789');

    // A retry of the referral (its answer stored) answers with her record as it is now.
    const retried = await refer(woman, 'answer-as-held');
    expect(retried.status, retried.text).toBe(201);
    expect(retried.headers.get('idempotent-replayed')).toBe('true');
    expect(retried.json.participant.contact.phone).toBe('07700 900789');
    expect(retried.json.participantRevision).toBe(corrected.json.participantRevision);
  });
});
