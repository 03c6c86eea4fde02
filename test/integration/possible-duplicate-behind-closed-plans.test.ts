/**
 * A plan no longer open stays filed under its near-match keys until her identity is erased or retention
 * deletes the plan, so a common family name and birthday gathers many ended plans. The possible-duplicate
 * warning must still name an open plan filed behind more ended plans than a refusal names
 * (MAX_POSSIBLE_DUPLICATES, 50): every plan filed is read before any is left out. Over real HTTP on the
 * embedded stack (dynalite, whose string sets keep the order they were added in, so the open plan, filed
 * last, is the 61st id read).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MAX_POSSIBLE_DUPLICATES } from '../../lib/domain/vocabulary.ts';
import { startEmbeddedStack, type EmbeddedStack } from '../../lib/local/embedded-stack.ts';
import { makeCall, scanTable, type Call, type Json } from '../support/http.ts';

const ENDED_PLANS = 60;
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

const referral = { source: 'custody-diversion', localAuthority: 'sandwell', urgency: 'routine' };
const dateOfBirth = '1988-06-21';
const familyName = 'Hartley';
/** A given name of letters only, different for each woman: each is another woman sharing the family name and birthday. */
const givenName = (i: number) => `Anne${String.fromCharCode(97 + Math.floor(i / 26))}${String.fromCharCode(97 + (i % 26))}`;

async function referred(participant: Record<string, string>): Promise<Json> {
  const res = await call('POST', '/plans', { token: coordinator, body: { participant, referral } });
  expect(res.status, res.text).toBe(201);
  return res.json;
}

it(`an open plan filed after ${ENDED_PLANS} withdrawn ones under one near-match key is named by the referral's 409`, async () => {
  const ended: string[] = [];
  for (let i = 0; i < ENDED_PLANS; i++) {
    const plan = await referred({ givenName: givenName(i), familyName, dateOfBirth });
    const withdrawn = await call('POST', `/plans/${plan.planId}/withdraw`, { token: coordinator, body: { reason: 'unreachable' } });
    expect(withdrawn.status, withdrawn.text).toBe(200);
    ended.push(plan.planId);
  }
  const open = await referred({ givenName: 'Joanne', familyName, dateOfBirth });
  // All 61 are filed under the one key of the family name and birthday, the open plan last.
  const filed = (await scanTable(stack)).filter((i) => String(i.pk).startsWith('NEAR#')).map((i) => [...(i.planIds as Set<string>)]);
  expect(filed).toContainEqual([...ended, open.planId]);
  expect(ended.length).toBeGreaterThan(MAX_POSSIBLE_DUPLICATES);

  const res = await call('POST', '/plans', { token: coordinator, body: { participant: { givenName: 'Jo', familyName, dateOfBirth }, referral } });
  expect(res.status, res.text).toBe(409);
  expect(res.json).toMatchObject({ type: 'possible-duplicate', possibleDuplicates: [{ planId: open.planId, stage: 'referred' }] });
  expect(res.json.possibleDuplicates).toHaveLength(1);
});
