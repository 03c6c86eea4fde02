/**
 * The audit log says whether each change worked: a command's record (written before it runs) carries
 * its outcome once it has one, succeeded or refused with the HTTP status and the problem's title, and
 * nothing of the request. Over real HTTP on the embedded stack: a team lead's pick-ups of an escalation,
 * refused by the domain (400), done (200), refused as done already (409), and one to a plan that does
 * not exist (404); the reads in between carry no outcome.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedStack, type EmbeddedStack } from '../../lib/local/embedded-stack.ts';
import { londonDate } from '../../lib/domain/calendar.ts';
import { anotherParticipant, consent, makeCall, referral, type Call, type Json } from '../support/http.ts';

let stack: EmbeddedStack;
let call: Call;
const token = (role: string) => stack.demoUsers.find((u) => u.role === role)!.token;

async function ok(method: string, path: string, as: string, body?: unknown): Promise<Json> {
  const res = await call(method, path, { token: as, ...(body === undefined ? {} : { body }) });
  expect(res.status, `${method} ${path}: ${res.text}`).toBeLessThan(300);
  return res.json;
}

beforeAll(async () => {
  stack = await startEmbeddedStack({ inMemory: true, port: 0, sweepIntervalMs: 0, clockMode: 'simulated', publisher: { publish: async () => undefined } });
  call = makeCall(stack.url);
});
afterAll(async () => stack?.stop());

describe('the outcome of a change on its audit record', () => {
  it('tells the refused attempts from the one that worked, and keeps nothing of the request', async () => {
    const created = await ok('POST', '/plans', token('coordinator'), referral({ participant: anotherParticipant() }));
    const planId = created.planId as string;
    await ok('POST', `/plans/${planId}/record-consent`, token('coordinator'), consent(londonDate(stack.clock.now()), true));
    // Thinking and behaviour: no service in Birmingham takes it, so a coverage gap is open.
    await ok('POST', `/plans/${planId}/submit-assessment`, token('coordinator'), { needs: [{ domain: 'thinking-behaviour', level: 'high', priority: true }] });
    const path = `/plans/${planId}/escalations/acknowledge`;
    const lead = token('team-lead');
    const wrongRef = await call('POST', path, { token: lead, body: { kind: 'coverage-gap', ref: 'mental-health' } });
    expect(wrongRef.status).toBe(400);
    await ok('POST', path, lead, { kind: 'coverage-gap', ref: 'thinking-behaviour' });
    const again = await call('POST', path, { token: lead, body: { kind: 'coverage-gap', ref: 'thinking-behaviour' } });
    expect(again.status).toBe(409);
    const nowhere = await call('POST', '/plans/pl_doesnotexist0000/escalations/acknowledge', { token: lead, body: { kind: 'coverage-gap', ref: 'thinking-behaviour' } });
    expect(nowhere.status).toBe(404);

    const day = stack.clock.now().slice(0, 10);
    const ofPlan = (await ok('GET', `/audit?from=${day}&to=${day}&planId=${planId}&limit=1000`, lead)).items as Json[];
    // The simulated clock stands still: records of one instant come in their ids' order, so by status here.
    const byStatus = (a: Json, b: Json) => a.outcome.status - b.outcome.status;
    expect(ofPlan.filter((r) => r.action === 'command:acknowledge-escalation').sort(byStatus).map((r) => r.outcome)).toEqual([
      { result: 'succeeded', status: 200 },
      { result: 'refused', status: 400, problem: 'Bad request' },
      { result: 'refused', status: 409, problem: 'Conflict' },
    ]);
    // The coordinator's changes too; a read has no outcome (it is recorded as it gives the data out).
    expect(ofPlan.filter((r) => r.role === 'coordinator').map((r) => [r.action, r.outcome?.result]).sort()).toEqual([
      ['command:record-consent', 'succeeded'],
      ['command:submit-assessment', 'succeeded'],
      ['refer-and-record-identity', 'succeeded'],
    ]);
    const everything = (await ok('GET', `/audit?from=${day}&to=${day}&limit=1000`, lead)).items as Json[];
    expect(everything.filter((r) => r.planId === 'pl_doesnotexist0000').map((r) => [r.action, r.outcome])).toEqual([
      ['command:acknowledge-escalation', { result: 'refused', status: 404, problem: 'Not found' }],
    ]);
    expect(everything.filter((r) => r.action === 'read-audit').every((r) => r.outcome === undefined)).toBe(true);
    // One record per attempt, as before: the outcome is given on it, not as a record of its own.
    expect(everything.filter((r) => r.action === 'command:acknowledge-escalation')).toHaveLength(4);
  });
});
