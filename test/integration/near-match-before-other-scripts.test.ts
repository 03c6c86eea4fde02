/**
 * A woman whose name is written only in another script, referred before such names kept their letters
 * (393cdba): her person record is under the key her name made then (a name with no letter a-z read as
 * nothing), not under her key now. Referred again, she is not found as herself; the near-match lookup
 * reads that old key too, so her open plan is warned of (a possible duplicate) instead of a second plan
 * opened without a word; and an erasure of her finds her plans of then there, so an open one holds it
 * back and the old record goes with her identity. Over real HTTP on the embedded stack with a data
 * directory (its identity key).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { keys } from '../../lib/adapters/dynamodb/keys.ts';
import { identityMatchKey, identityMatchKeyBeforeOtherScripts } from '../../lib/adapters/identity-match.ts';
import { startEmbeddedStack, type EmbeddedStack } from '../../lib/local/embedded-stack.ts';
import { localSecret } from '../../lib/local/secrets.ts';
import { makeCall, type Call, type Json } from '../support/http.ts';

let dataDir: string;
let stack: EmbeddedStack;
let call: Call;
let coordinator: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'wraparound-other-scripts-'));
  stack = await startEmbeddedStack({ dataDir, inMemory: false, port: 0, sweepIntervalMs: 0, webhooks: { intervalMs: 0 }, webDistDir: false });
  call = makeCall(stack.url);
  coordinator = stack.demoUsers.find((u) => u.role === 'coordinator')?.token as string;
});
afterAll(async () => {
  await stack?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const referral = { source: 'custody-diversion', localAuthority: 'sandwell', urgency: 'routine' };
const refer = (participant: Record<string, string>, extra: Record<string, unknown> = {}) => call('POST', '/plans', { token: coordinator, body: { participant, referral, ...extra } });

/** Her person record moved to the key her name made before names in other scripts kept their letters, as a record stored then is. */
async function storedTheOldWay(participant: { givenName: string; familyName: string; dateOfBirth: string }) {
  const secret = await localSecret(dataDir, 'identity-key');
  const before = identityMatchKeyBeforeOtherScripts(secret, participant);
  if (!before) throw new Error('a name with a letter a-z has the same key as before');
  const { client, tableName } = stack.plans;
  const now = keys.person(identityMatchKey(secret, participant));
  const record = (await client.send(new GetCommand({ TableName: tableName, Key: now }))).Item;
  if (!record) throw new Error('no person record');
  await client.send(new PutCommand({ TableName: tableName, Item: { ...record, ...keys.person(before) } }));
  await client.send(new DeleteCommand({ TableName: tableName, Key: now }));
}

it('her open plan from before is warned of when she is referred again, and another woman born that day confirms past it', async () => {
  const olga = { givenName: 'Ольга', familyName: 'Иванова', dateOfBirth: '1985-02-17' };
  const first = await refer(olga);
  expect(first.status, first.text).toBe(201);
  const planId = (first.json as Json).planId as string;
  await storedTheOldWay(olga);

  const again = await refer(olga);
  expect(again.status, again.text).toBe(409);
  expect(again.json).toMatchObject({ type: 'possible-duplicate', possibleDuplicates: [{ planId, stage: 'referred' }] });
  expect(again.text).not.toContain('Ольга');

  // Under that old key every such woman born on her day was one: another is warned too, and goes ahead once confirmed.
  const maria = { givenName: 'Мария', familyName: 'Петрова', dateOfBirth: '1985-02-17' };
  expect((await refer(maria)).status).toBe(409);
  const confirmed = await refer(maria, { notDuplicateOf: [planId] });
  expect(confirmed.status, confirmed.text).toBe(201);
  expect((confirmed.json as Json).previousPlanIds).toEqual([]);
});

it('an erasure of her finds her plans linked under the old key: an open one holds it back, and the old link goes with her identity', async () => {
  const secret = await localSecret(dataDir, 'identity-key');
  const nadia = { givenName: 'Надія', familyName: 'Коваленко', dateOfBirth: '1979-11-23' };
  const first = await refer(nadia);
  expect(first.status, first.text).toBe(201);
  const firstId = (first.json as Json).planId as string;
  const withdrawn = await call('POST', `/plans/${firstId}/withdraw`, { token: coordinator, body: { reason: 'unreachable' } });
  expect(withdrawn.status, withdrawn.text).toBe(200);
  const second = await refer(nadia);
  expect(second.status, second.text).toBe(201);
  const secondId = (second.json as Json).planId as string;
  expect((second.json as Json).previousPlanIds).toEqual([firstId]);
  await storedTheOldWay(nadia);

  // Her first plan knows nothing of the second (only the second names the first): her person record did.
  const refused = await call('POST', `/plans/${firstId}/erase-identity`, { token: coordinator, body: { reason: 'her-request' } });
  expect(refused.status, refused.text).toBe(409);
  expect(refused.text).toContain(secondId);
  expect((await call('GET', `/plans/${secondId}`, { token: coordinator })).json).toMatchObject({ participant: { givenName: 'Надія' } });

  const ended = await call('POST', `/plans/${secondId}/withdraw`, { token: coordinator, body: { reason: 'unreachable' } });
  expect(ended.status, ended.text).toBe(200);
  const erased = await call('POST', `/plans/${firstId}/erase-identity`, { token: coordinator, body: { reason: 'her-request' } });
  expect(erased.status, erased.text).toBe(200);
  expect((await call('GET', `/plans/${secondId}`, { token: coordinator })).json).toMatchObject({ identityErasedAt: expect.any(String) });
  const before = identityMatchKeyBeforeOtherScripts(secret, nadia) as string;
  expect((await stack.plans.client.send(new GetCommand({ TableName: stack.plans.tableName, Key: keys.person(before) }))).Item).toBeUndefined();
});
