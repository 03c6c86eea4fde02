/**
 * Directory administration is accountable and explains itself: every change of a service's capacity or
 * status is in the audit log (who, when, which service, old and new; no free text) with its outcome, a
 * capacity past the bound or not a whole number is refused in plain words naming the field (and
 * recorded nowhere, as nothing was changed), and a change made by someone else in between is a 409 that
 * changes nothing. Over real HTTP on the embedded stack.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedStack, type EmbeddedStack } from '../../lib/local/embedded-stack.ts';
import { MAX_SERVICE_CAPACITY } from '../../lib/domain/directory.ts';
import { makeCall, type Call, type Json } from '../support/http.ts';

let stack: EmbeddedStack;
let call: Call;
const token = (role: string) => stack.demoUsers.find((u) => u.role === role)!.token;
const SERVICE = 'gsa-wellbeing';
const at = `/directory/services/${SERVICE}`;

async function auditOfToday(): Promise<Json[]> {
  const day = stack.clock.now().slice(0, 10);
  const res = await call('GET', `/audit?from=${day}&to=${day}&limit=1000`, { token: token('team-lead') });
  expect(res.status, res.text).toBe(200);
  return res.json.items as Json[];
}
const changes = async () => (await auditOfToday()).filter((r) => r.action === 'change-service');

beforeAll(async () => {
  stack = await startEmbeddedStack({ inMemory: true, port: 0, sweepIntervalMs: 0, clockMode: 'simulated', publisher: { publish: async () => undefined } });
  call = makeCall(stack.url);
});
afterAll(async () => stack?.stop());

describe('PATCH /directory/services/{serviceId}', () => {
  it('records who changed which service, when, from what to what, and that it was done', async () => {
    const before = (await call('GET', at)).json.x_capacity.capacity as number;
    const res = await call('PATCH', at, { token: token('team-lead'), body: { capacity: before + 3 } });
    expect(res.status, res.text).toBe(200);
    expect(res.json.x_capacity.capacity).toBe(before + 3);
    const closed = await call('PATCH', at, { token: token('team-lead'), body: { status: 'temporarily-closed', capacity: MAX_SERVICE_CAPACITY } });
    expect(closed.status, closed.text).toBe(200);
    const lead = stack.demoUsers.find((u) => u.role === 'team-lead')!;
    // The simulated clock stands still: both records have one instant, so in the order of what they set.
    expect((await changes()).sort((a, b) => a.change.capacity.to - b.change.capacity.to)).toEqual([
      {
        auditId: expect.any(String),
        who: expect.any(String),
        whoName: lead.name,
        role: 'team-lead',
        action: 'change-service',
        serviceId: SERVICE,
        providerId: 'green-square-accord',
        change: { capacity: { from: before, to: before + 3 } },
        why: 'oversight',
        at: stack.clock.now(),
        outcome: { result: 'succeeded', status: 200 },
      },
      expect.objectContaining({ change: { capacity: { from: before + 3, to: MAX_SERVICE_CAPACITY }, status: { from: 'active', to: 'temporarily-closed' } }, outcome: { result: 'succeeded', status: 200 } }),
    ]);
  });

  it(`refuses a capacity over ${MAX_SERVICE_CAPACITY}, below 0 or not whole in plain words naming the field, and changes and records nothing`, async () => {
    const recorded = (await changes()).length;
    const current = (await call('GET', at)).json.x_capacity.capacity as number;
    for (const [capacity, words] of [
      [100_000, `must be ${MAX_SERVICE_CAPACITY} or less`],
      [MAX_SERVICE_CAPACITY + 1, `must be ${MAX_SERVICE_CAPACITY} or less`],
      [-1, 'must be 0 or more'],
      [1.5, 'must be a whole number'],
    ] as const) {
      const res = await call('PATCH', at, { token: token('team-lead'), body: { capacity } });
      expect(res.status, String(capacity)).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.json.errors, String(capacity)).toEqual([{ path: 'capacity', message: words }]);
    }
    expect((await call('GET', at)).json.x_capacity.capacity).toBe(current);
    expect(await changes()).toHaveLength(recorded);
  });

  it('changes nothing when the service changed since it was read (the old value recorded is the one replaced)', async () => {
    const current = (await stack.services.state(SERVICE))!;
    // Another team lead's change lands between this one's read and its write.
    expect(await stack.services.update(SERVICE, { capacity: 7 }, 'someone-else', stack.clock.now(), { capacity: current.capacity + 1, status: current.status })).toBeUndefined();
    expect((await stack.services.state(SERVICE))!.capacity).toBe(current.capacity);
    expect((await stack.services.update(SERVICE, { capacity: 7 }, 'someone-else', stack.clock.now(), { capacity: current.capacity, status: current.status }))?.capacity).toBe(7);
  });
});
