/**
 * Writes of her identity that race or fail, over real HTTP on the embedded stack (dynalite): two
 * corrections at once cannot together store an identity either alone would be refused (the write is
 * conditional on the revision the check saw), and a re-referral replaces her contact details only
 * once it is accepted, also when it is retried after a crash between the two.
 * Concurrency is made with a held write (a storage request parked until the test lets it go), not timing.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Participant } from '../../lib/domain/schemas.ts';
import { referralBody, scanTable, secretParticipant, startSecurityStack, type SecurityStack } from './support.ts';

let s: SecurityStack;

/** A rule on the stack's storage requests: what to do with a matching one. */
type Interception = (commandName: string, input: Record<string, unknown>) => 'hold' | 'fail' | 'conflict' | undefined;
let intercept: Interception | undefined;
let held: { release: () => void } | undefined;
let heldSignal: (() => void) | undefined;

beforeAll(async () => {
  s = await startSecurityStack();
  s.stack.plans.client.middlewareStack.add(
    (next, context) => async (args) => {
      const what = intercept?.(String(context.commandName), args.input as Record<string, unknown>);
      if (what === 'fail') throw Object.assign(new Error('injected storage fault'), { name: 'InjectedStorageFault', $metadata: {} });
      if (what === 'conflict') throw Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException', $metadata: {} });
      if (what === 'hold') {
        await new Promise<void>((resolve) => {
          held = { release: resolve };
          heldSignal?.();
        });
      }
      return next(args);
    },
    { step: 'initialize', name: `identityWrites${randomBytes(4).toString('hex')}` },
  );
});
afterAll(async () => {
  intercept = undefined;
  held?.release();
  await s?.stop();
});

/** An attribute in document or raw (`{ S: … }`, `{ N: … }`) form, as a string. */
const plain = (value: unknown) => String((value as { S?: unknown; N?: unknown } | undefined)?.S ?? (value as { N?: unknown } | undefined)?.N ?? value ?? '');
const pkOf = (input: Record<string, unknown>) => plain((input.Key as { pk?: unknown } | undefined)?.pk ?? (input.Item as { pk?: unknown } | undefined)?.pk);
const updatesIdentity = (commandName: string, input: Record<string, unknown>) => /^Update(Item)?Command$/.test(commandName) && pkOf(input).startsWith('PARTICIPANT#');
const savesNewPlan = (commandName: string, input: Record<string, unknown>) =>
  /^Put(Item)?Command$/.test(commandName) && pkOf(input).startsWith('PLAN#') && plain((input.Item as { version?: unknown }).version) === '1';

async function refer(participant: Participant, headers?: Record<string, string>) {
  return s.call('POST', '/plans', { token: s.coordinator, body: referralBody(participant), ...(headers ? { headers } : {}) });
}

async function identityItem(participantId: string): Promise<Record<string, unknown>> {
  const item = (await scanTable(s.stack)).find((i) => i.pk === `PARTICIPANT#${participantId}`);
  if (!item) throw new Error(`no identity ${participantId}`);
  return item;
}
const heldIdentity = async (participantId: string) => Object.fromEntries(Object.entries(await identityItem(participantId)).filter(([k]) => k in Participant.shape));

describe('two corrections at once', () => {
  it('cannot together leave letters as her preferred contact with no address: the one checked against the old record is checked again and refused', async () => {
    const referred = await refer(secretParticipant());
    expect(referred.status, referred.text).toBe(201);
    const { planId, participantId } = referred.json as { planId: string; participantId: string };

    // A: letters from now on (fine while her address is held). Its write is held once it has passed its check.
    let parked!: () => void;
    const isHeld = new Promise<void>((resolve) => (parked = resolve));
    heldSignal = parked;
    intercept = (name, input) => (updatesIdentity(name, input) ? 'hold' : undefined);
    const lettersRequest = s.call('PATCH', `/plans/${planId}/participant`, { token: s.coordinator, body: { contact: { preferredMethod: 'letter', safeToSendPost: true } } });
    await isHeld;
    intercept = undefined;
    // B, meanwhile: remove her address (fine while she prefers texts), and it lands.
    const noAddress = await s.call('PATCH', `/plans/${planId}/participant`, { token: s.coordinator, body: { address: null } });
    expect(noAddress.status, noAddress.text).toBe(200);
    held?.release();
    const letters = await lettersRequest;

    // Each alone was fine; together they are not: A, checked again on the record B left, is refused.
    expect(letters.status, letters.text).toBe(400);
    expect(letters.headers.get('content-type')).toBe('application/problem+json');
    expect((letters.json.errors as { path: string }[]).map((e) => e.path)).toContain('address');
    const stored = await heldIdentity(participantId);
    expect(Participant.safeParse(stored).success, JSON.stringify(stored)).toBe(true);
    expect(stored.address).toBeUndefined();
    expect((stored.contact as { preferredMethod?: string }).preferredMethod).toBe('text-message');
    // Two corrections written: the record's revision says so.
    expect((await identityItem(participantId)).revision).toBe(1);
  });

  it('writes a correction that still holds on the newer record, with both changes kept', async () => {
    const referred = await refer(secretParticipant());
    const { planId, participantId } = referred.json as { planId: string; participantId: string };
    let parked!: () => void;
    const isHeld = new Promise<void>((resolve) => (parked = resolve));
    heldSignal = parked;
    intercept = (name, input) => (updatesIdentity(name, input) ? 'hold' : undefined);
    const renaming = s.call('PATCH', `/plans/${planId}/participant`, { token: s.coordinator, body: { preferredName: 'Zee' } });
    await isHeld;
    intercept = undefined;
    const moving = await s.call('PATCH', `/plans/${planId}/participant`, { token: s.coordinator, body: { address: { lines: ['Refuge, address withheld'], postcode: 'B70 1AA' } } });
    expect(moving.status, moving.text).toBe(200);
    held?.release();
    const renamed = await renaming;
    expect(renamed.status, renamed.text).toBe(200);
    expect(renamed.json.participant).toMatchObject({ preferredName: 'Zee', address: { lines: ['Refuge, address withheld'], postcode: 'B70 1AA' } });
    expect(await heldIdentity(participantId)).toEqual(renamed.json.participant);
    expect((await identityItem(participantId)).revision).toBe(2);
  });

  it('answers 409 naming the rule, and changes nothing, when her record changes under it at every try', async () => {
    const referred = await refer(secretParticipant());
    const { planId, participantId } = referred.json as { planId: string; participantId: string };
    const before = await identityItem(participantId);
    let tries = 0;
    intercept = (name, input) => (updatesIdentity(name, input) ? (tries++, 'conflict') : undefined);
    let res;
    try {
      res = await s.call('PATCH', `/plans/${planId}/participant`, { token: s.coordinator, body: { preferredName: 'Zee' } });
    } finally {
      intercept = undefined;
    }
    expect(res.status, res.text).toBe(409);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.json.detail).toContain('checked together with what it leaves unchanged');
    expect(tries).toBe(3);
    expect(await identityItem(participantId)).toEqual(before);
  });

  it('corrects a record written before revisions existed', async () => {
    const referred = await refer(secretParticipant());
    const { planId, participantId } = referred.json as { planId: string; participantId: string };
    const item = await identityItem(participantId);
    expect(item.revision).toBeUndefined();
    const res = await s.call('PATCH', `/plans/${planId}/participant`, { token: s.coordinator, body: { preferredName: 'Zed' } });
    expect(res.status, res.text).toBe(200);
    expect((await identityItem(participantId)).revision).toBe(1);
  });
});

describe('a woman referred again', () => {
  /** Her first plan, ended, so she can be referred again; and the new details a second referral gives. */
  async function referredBefore() {
    const first = secretParticipant();
    const referred = await refer(first);
    expect(referred.status, referred.text).toBe(201);
    const { planId, participantId } = referred.json as { planId: string; participantId: string };
    const withdrawn = await s.call('POST', `/plans/${planId}/withdraw`, { token: s.coordinator, body: { reason: 'unreachable' } });
    expect(withdrawn.status, withdrawn.text).toBe(200);
    const moved: Participant = {
      ...first,
      contact: { phone: '07700 900777', preferredMethod: 'phone-call', safeToLeaveVoicemail: true },
      address: { lines: ['Refuge, address withheld'], postcode: 'B70 1AA' },
      preferredName: 'Zeph',
    };
    return { first, moved, participantId };
  }

  it('keeps her details as they were when the new referral is refused', async () => {
    const { first, moved, participantId } = await referredBefore();
    const before = await heldIdentity(participantId);
    intercept = (name, input) => (savesNewPlan(name, input) ? 'conflict' : undefined);
    let refused;
    try {
      refused = await refer(moved);
    } finally {
      intercept = undefined;
    }
    expect(refused.status, refused.text).toBe(409);
    expect(await heldIdentity(participantId)).toEqual(before);
    expect((await heldIdentity(participantId)).contact).toEqual(first.contact);
  });

  it('takes the new details on the retry after a crash between recording the referral and replacing them', async () => {
    const { first, moved: details, participantId } = await referredBefore();
    // Keyed in by someone else: her name spelt otherwise is still her (and stays as first recorded).
    const moved = { ...details, givenName: details.givenName.toUpperCase() };
    const key = `identity-writes-${randomUUID()}`;
    // The referral is recorded; the replacement of her details fails (as if the process stopped there).
    intercept = (name, input) => (updatesIdentity(name, input) && /#contact =/.test(String(input.UpdateExpression)) ? 'fail' : undefined);
    let crashed;
    try {
      crashed = await refer(moved, { 'idempotency-key': key });
    } finally {
      intercept = undefined;
    }
    expect(crashed.status, crashed.text).toBeGreaterThanOrEqual(500);
    expect((await heldIdentity(participantId)).contact).toEqual(first.contact);

    const retried = await refer(moved, { 'idempotency-key': key });
    expect(retried.status, retried.text).toBe(201);
    expect(retried.json.participantId).toBe(participantId);
    const expected = { ...first, contact: moved.contact, address: moved.address, preferredName: moved.preferredName };
    expect(expected.givenName).not.toBe(moved.givenName);
    expect(retried.json.participant).toEqual(expected);
    expect(await heldIdentity(participantId)).toEqual(expected);
    // And a further retry, now answered from the stored response, leaves them so.
    const again = await refer(moved, { 'idempotency-key': key });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await heldIdentity(participantId)).toEqual(expected);
  });
});
