/**
 * An erasure request while the identity key cannot be read (a setup fault: on AWS its secret is
 * unreadable) is answered over real HTTP with a 503 application/problem+json saying the key is not
 * available and nothing was erased, and changes nothing: her identity, her plan, its history and the
 * audit log stay as they were. Asked again with the key, it is done.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeHandler as makeCommandsApi } from '../../functions/api-commands/handler.ts';
import { DynamoAuditLog } from '../../lib/adapters/dynamodb/audit-log.ts';
import type { ApiFunctionName } from '../../lib/api/routes.ts';
import { startGateway, type ApiFunction } from '../../lib/local/gateway.ts';
import { makeCall, planInStage, scanTable, startTestStack, type Call, type TestStack } from '../support/http.ts';

let t: TestStack;
let withoutKey: Awaited<ReturnType<typeof startGateway>>;
let callWithoutKey: Call;

beforeAll(async () => {
  t = await startTestStack({ webDistDir: false });
  // The same store, workflow and tokens, with a commands handler whose identity key cannot be read.
  const audit = new DynamoAuditLog(t.stack.plans.client, t.stack.plans.tableName);
  const commands = makeCommandsApi({ plans: t.stack.plans, workflow: t.stack.workflow, clock: t.clock, audit, identityKey: async () => undefined });
  withoutKey = await startGateway({ port: 0, host: '127.0.0.1', functions: { 'api-commands': commands as unknown as ApiFunction } as Record<ApiFunctionName, ApiFunction>, tokens: t.stack.tokens });
  callWithoutKey = makeCall(`http://127.0.0.1:${withoutKey.port}`);
});
afterAll(async () => {
  await withoutKey?.close();
  await t?.stop();
});

describe('an erasure request without the identity key', () => {
  it('is a 503 saying the key is unavailable and nothing was erased, and changes nothing; with the key it is done', async () => {
    const plan = await planInStage(t, 'assessment');
    const exited = await t.call('POST', `/plans/${plan.planId}/exit`, { token: t.coordinator, body: { reason: 'disengaged' } });
    expect(exited.status).toBe(200);
    // No follow-ups left to hold the erasure: her consent withdrawn cancels them and closes the plan.
    expect((await t.call('POST', `/plans/${plan.planId}/withdraw-consent`, { token: t.coordinator, body: {} })).status).toBe(200);
    const before = await scanTable(t.stack, { withAudit: true });

    const res = await callWithoutKey('POST', `/plans/${plan.planId}/erase-identity`, { token: t.coordinator, body: { reason: 'her-request' } });
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.json).toMatchObject({ status: 503, title: 'Service unavailable' });
    expect(res.json.detail).toMatch(/identity key is not available/);
    expect(res.json.detail).toMatch(/nothing was erased/);
    expect(await scanTable(t.stack, { withAudit: true })).toEqual(before);
    expect(await t.stack.plans.getIdentity(plan.participantId)).toBeDefined();

    // The embedded stack reads its key: the same request is done.
    const erased = await t.call('POST', `/plans/${plan.planId}/erase-identity`, { token: t.coordinator, body: { reason: 'her-request' } });
    expect(erased.status).toBe(200);
    expect(await t.stack.plans.getIdentity(plan.participantId)).toBeUndefined();
  });
});
