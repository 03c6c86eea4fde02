/**
 * A referral of a woman who already has an open plan is refused (409) naming that plan in a member of
 * its own, `openPlan` (the plan and its stage), as well as in words: the referral form links to it from
 * the member, not by reading the words. The OpenAPI document describes every member the refusal has.
 * Over real HTTP on the embedded stack.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiDocument } from '../../lib/api/openapi.ts';
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

const woman = { givenName: 'Ottilie', familyName: 'Brannagh', dateOfBirth: '1984-07-19' };
const referral = { source: 'custody-diversion', localAuthority: 'walsall', urgency: 'routine' };
const deref = (doc: Json, node: Json): Json => (node && typeof node.$ref === 'string' ? deref(doc, node.$ref.slice(2).split('/').reduce((n: Json, k: string) => n?.[k], doc)) : node);

describe('a second referral while her plan is open', () => {
  it('is refused with the open plan in `openPlan` (and in words, as before), changing nothing', async () => {
    const first = await call('POST', '/plans', { token: coordinator, body: { participant: woman, referral } });
    expect(first.status, first.text).toBe(201);
    const openPlanId = first.json.planId as string;
    const before = await scanTable(stack);

    const again = await call('POST', '/plans', { token: coordinator, body: { participant: woman, referral }, headers: { 'Idempotency-Key': 'second-referral-of-ottilie' } });
    expect(again.status, again.text).toBe(409);
    expect(again.headers.get('content-type')).toBe('application/problem+json');
    expect(again.json.openPlan).toEqual({ planId: openPlanId, stage: 'referred' });
    expect(again.json.errors).toEqual([{ path: 'participant', message: `already has open plan ${openPlanId}` }]);
    expect(again.json.detail).toBe(`This person already has an open plan (${openPlanId}, stage referred): work with that plan instead of referring again.`);
    // Nothing of her in the member, and nothing written but the audit record of the refusal.
    expect(JSON.stringify(again.json.openPlan)).not.toMatch(/Ottilie|Brannagh|1984/);
    expect(await scanTable(stack)).toEqual(before);

    // Every member of the refusal is one the OpenAPI document gives the 409 of POST /plans, openPlan as the plan and its stage.
    const doc = openApiDocument() as Json;
    const body = deref(doc, deref(doc, doc.paths['/plans'].post.responses['409']).content['application/problem+json'].schema);
    for (const member of Object.keys(again.json)) expect(Object.keys(body.properties), member).toContain(member);
    expect(Object.keys(deref(doc, body.properties.openPlan).properties).sort()).toEqual(['planId', 'stage']);
  });
});
