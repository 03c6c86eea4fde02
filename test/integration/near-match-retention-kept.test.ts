/**
 * Near-match items on retention when her identity record is kept: a closed plan of a woman whose other
 * plan is still open is anonymised alone (her record stays for the open plan, lib/runtime/erasure.ts),
 * and it leaves her near-match items then, not only when her record finally goes. Over real HTTP on the
 * embedded stack (dynalite), with the clock moved past the retention period.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SimulatedClock } from '../../lib/local/clock.ts';
import { startEmbeddedStack, type EmbeddedStack } from '../../lib/local/embedded-stack.ts';
import { makeCall, scanTable, type Call, type Json } from '../support/http.ts';

const RETENTION_DAYS = 30;
const DAY_MS = 86_400_000;
let stack: EmbeddedStack;
let call: Call;
let coordinator: string;

beforeAll(async () => {
  stack = await startEmbeddedStack({ inMemory: true, port: 0, sweepIntervalMs: 0, clockMode: 'simulated', webhooks: { intervalMs: 0 }, webDistDir: false, retentionDays: RETENTION_DAYS });
  call = makeCall(stack.url);
  coordinator = stack.demoUsers.find((u) => u.role === 'coordinator')?.token as string;
});
afterAll(async () => {
  await stack?.stop();
});

const referral = { source: 'custody-diversion', localAuthority: 'sandwell', urgency: 'routine' };
async function ok(method: string, path: string, body?: unknown): Promise<Json> {
  const res = await call(method, path, { token: coordinator, ...(body === undefined ? {} : { body }) });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
  return res.json;
}
const plansFiled = async () => new Set((await scanTable(stack)).filter((i) => String(i.pk).startsWith('NEAR#')).flatMap((i) => [...((i.planIds as Set<string> | undefined) ?? [])]));

it('a closed plan anonymised while her other plan is open leaves her near-match items; the open plan stays filed and is still warned of', async () => {
  const her = { givenName: 'Rosalind', familyName: 'Quarrington', dateOfBirth: '1988-09-21' };
  const first = await ok('POST', '/plans', { participant: her, referral });
  await ok('POST', `/plans/${first.planId}/withdraw`, { reason: 'unreachable' });
  if (!(stack.clock instanceof SimulatedClock)) throw new Error('the clock is not simulated');
  await stack.clock.advance((RETENTION_DAYS - 5) * DAY_MS);
  // Referred again as herself: the same identity record, both plans under her near-match keys.
  const second = await ok('POST', '/plans', { participant: her, referral });
  expect(second.previousPlanIds).toEqual([first.planId]);
  expect(await plansFiled()).toEqual(new Set([first.planId, second.planId]));

  await stack.clock.advance(10 * DAY_MS);
  const report = await stack.sweep();
  expect(report.failedSteps).toEqual([]);
  const anonymised = await ok('GET', `/plans/${first.planId}`);
  expect(anonymised.identityErasedAt).toBeDefined();
  expect((await ok('GET', `/plans/${second.planId}`)).identityErasedAt).toBeUndefined();
  // The anonymised plan is out of her items; her open plan is still in them.
  expect(await plansFiled()).toEqual(new Set([second.planId]));

  // A near match of her ('Ros' for 'Rosalind') is warned of her open plan alone.
  const res = await call('POST', '/plans', { token: coordinator, body: { participant: { ...her, givenName: 'Ros' }, referral } });
  expect(res.status, res.text).toBe(409);
  expect((res.json as { possibleDuplicates: { planId: string }[] }).possibleDuplicates.map((p) => p.planId)).toEqual([second.planId]);
});
