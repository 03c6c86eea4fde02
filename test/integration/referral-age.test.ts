/**
 * A date of birth is judged on the stack's own clock (simulated here, twelve years on from the wall
 * clock): one after the referral date, or giving an age under 10 (the age of criminal responsibility
 * in England and Wales: a mistyped year), is a 400 naming participant.dateOfBirth and the rule, and
 * nothing is written; a woman who is unborn by the wall clock but 11 in simulated time is referred.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedStack, type EmbeddedStack } from '../../lib/local/embedded-stack.ts';
import { addCalendarDays, londonDate } from '../../lib/domain/calendar.ts';
import { makeCall, scanTable, type Call } from '../support/http.ts';

let stack: EmbeddedStack;
let call: Call;
let coordinator: string;
const YEAR_MS = 365.25 * 86_400_000;
const wallToday = londonDate(new Date().toISOString());

beforeAll(async () => {
  stack = await startEmbeddedStack({ inMemory: true, port: 0, sweepIntervalMs: 0, clockMode: 'simulated', webDistDir: false });
  call = makeCall(stack.url);
  coordinator = stack.demoUsers.find((u) => u.role === 'coordinator')?.token as string;
  await stack.advanceClock(12 * YEAR_MS, 12 * YEAR_MS);
});
afterAll(async () => {
  await stack?.stop();
});

const yearsBefore = (date: string, years: number) => `${Number(date.slice(0, 4)) - years}${date.slice(4)}`;
const refer = (dateOfBirth: string) =>
  call('POST', '/plans', {
    token: coordinator,
    body: { participant: { givenName: 'Marisol', familyName: 'Achterberg-Nwosu', dateOfBirth }, referral: { source: 'self', localAuthority: 'walsall', urgency: 'routine' } },
  });

describe('a date of birth at referral, on the simulated clock', () => {
  it('refuses one after the referral date, naming the field and the rule', async () => {
    const res = await refer(addCalendarDays(londonDate(stack.clock.now()), 1));
    expect(res.status, res.text).toBe(400);
    expect(res.json.errors).toEqual([{ path: 'participant.dateOfBirth', message: 'must not be in the future' }]);
  });

  it('refuses one giving an age of 4 (born 2030 at a referral in 2038, say), saying why, and writes nothing', async () => {
    const simToday = londonDate(stack.clock.now());
    const before = JSON.stringify(await scanTable(stack));
    const res = await refer(yearsBefore(simToday, 4));
    expect(res.status, res.text).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.json.errors).toHaveLength(1);
    expect(res.json.errors[0].path).toBe('participant.dateOfBirth');
    expect(res.json.errors[0].message).toBe(
      `gives an age of 4 on the referral date (${simToday}); no one under 10, the age of criminal responsibility in England and Wales, can be referred: check the date of birth`,
    );
    expect(JSON.stringify(await scanTable(stack))).toBe(before);
  });

  it('takes her age from the simulated date: born a year after the wall clock\'s today, she is 10 or 11, and referred', async () => {
    const res = await refer(yearsBefore(wallToday, -1));
    expect(res.status, res.text).toBe(201);
    expect([10, 11]).toContain(res.json.ageAtReferral);
  });
});
