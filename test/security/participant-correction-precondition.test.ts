/**
 * A coordinator's correction (PATCH /plans/{id}/participant) sent with If-Match: the revision of her
 * record as read (GET /plans/{id} gives it as participantRevision; a correction answers it as its
 * ETag). It is written only if her record is still at that revision, checked in the write itself, so
 * a correction made by someone else in between (even after the route's own read) is a 412
 * application/problem+json naming If-Match, and nothing changes: the other correction stays.
 * Over real HTTP on the embedded stack (dynalite); the "in between" is made with a held write, not timing.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiDocument } from '../../lib/api/openapi.ts';
import type { Participant } from '../../lib/domain/schemas.ts';
import { referralBody, scanTable, secretParticipant, startSecurityStack, type SecurityStack } from './support.ts';

let s: SecurityStack;
/** While set, the next update of an identity record is parked until `release` is called. */
let holdNextIdentityUpdate: ((release: () => void) => void) | undefined;

beforeAll(async () => {
  s = await startSecurityStack();
  s.stack.plans.client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { Key?: { pk?: unknown } };
      if (holdNextIdentityUpdate && /^Update(Item)?Command$/.test(String(context.commandName)) && String(input.Key?.pk).startsWith('PARTICIPANT#')) {
        const parked = holdNextIdentityUpdate;
        holdNextIdentityUpdate = undefined;
        await new Promise<void>((resolve) => parked(resolve));
      }
      return next(args);
    },
    { step: 'initialize', name: `correctionPrecondition${randomBytes(4).toString('hex')}` },
  );
});
afterAll(async () => {
  await s?.stop();
});

async function referred(): Promise<{ planId: string; participantId: string }> {
  const res = await s.call('POST', '/plans', { token: s.coordinator, body: referralBody(secretParticipant()) });
  expect(res.status, res.text).toBe(201);
  return res.json as { planId: string; participantId: string };
}

/** Her details and their revision, as the plan page reads them. */
async function read(planId: string): Promise<{ participant: Participant; participantRevision: number }> {
  const res = await s.call('GET', `/plans/${planId}`, { token: s.coordinator });
  expect(res.status, res.text).toBe(200);
  return res.json as { participant: Participant; participantRevision: number };
}

const correct = (planId: string, body: unknown, ifMatch?: string) =>
  s.call('PATCH', `/plans/${planId}/participant`, { token: s.coordinator, body, ...(ifMatch === undefined ? {} : { headers: { 'If-Match': ifMatch } }) });

const identityItem = async (participantId: string) => (await scanTable(s.stack)).find((i) => i.pk === `PARTICIPANT#${participantId}`);

function expectPreconditionFailed(res: Awaited<ReturnType<typeof correct>>) {
  expect(res.status, res.text).toBe(412);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  expect(res.json.title).toBe('Precondition failed');
  expect(res.json.errors).toEqual([{ path: 'If-Match', message: 'her details changed since they were read' }]);
  expect(res.json.detail).toContain('changed by someone else');
  // The refusal names the rule, never her details.
  expect(res.text).not.toContain('07700');
}

describe('PATCH /plans/{id}/participant with If-Match', () => {
  it('is written when her record is still as read, and answers the new revision as its ETag for the next correction', async () => {
    const { planId } = await referred();
    const first = await read(planId);
    expect(first.participantRevision).toBe(0);
    const renamed = await correct(planId, { preferredName: 'Zee' }, `"${first.participantRevision}"`);
    expect(renamed.status, renamed.text).toBe(200);
    expect(renamed.headers.get('etag')).toBe('"1"');
    expect(renamed.json).toMatchObject({ participant: { preferredName: 'Zee' }, participantRevision: 1 });
    const again = await correct(planId, { preferredName: 'Zed' }, String(renamed.headers.get('etag')));
    expect(again.status, again.text).toBe(200);
    expect(again.headers.get('etag')).toBe('"2"');
    expect((await read(planId)).participantRevision).toBe(2);
  });

  it('is refused with 412 naming If-Match, changing nothing, when someone else corrected her record after it was read', async () => {
    const { planId, participantId } = await referred();
    const seen = await read(planId);
    // Someone else, at another desk, changes her number.
    const other = await correct(planId, { contact: { phone: '07700 900555', preferredMethod: 'phone-call' } }, `"${seen.participantRevision}"`);
    expect(other.status, other.text).toBe(200);
    const before = await scanTable(s.stack);
    // This page still holds the old record: its correction of the safety note would put the old number back with it.
    const stale = await correct(planId, { contact: { ...seen.participant.contact, safetyNote: 'Only after 6pm' } }, `"${seen.participantRevision}"`);
    expectPreconditionFailed(stale);
    expect(await scanTable(s.stack)).toEqual(before);
    expect((await identityItem(participantId))?.contact).toEqual({ phone: '07700 900555', preferredMethod: 'phone-call' });
  });

  it('is refused with 412 when the other correction lands between its own read of her record and its write', async () => {
    const { planId, participantId } = await referred();
    const seen = await read(planId);
    // This correction passes its checks; its write is parked on its way to the store.
    let release!: () => void;
    const parked = new Promise<void>((resolve) => {
      holdNextIdentityUpdate = (go) => {
        release = go;
        resolve();
      };
    });
    const mine = correct(planId, { address: { lines: ['Flat 9', '2 Mill Lane'], town: 'Walsall', postcode: 'WS1 1AA' } }, `"${seen.participantRevision}"`);
    await parked;
    // Meanwhile another coordinator's correction lands.
    const other = await correct(planId, { contact: { phone: '07700 900666', preferredMethod: 'phone-call', safeToLeaveVoicemail: false } });
    expect(other.status, other.text).toBe(200);
    const afterOther = await identityItem(participantId);
    release();
    expectPreconditionFailed(await mine);
    // Not written over it, not merged onto it: her record is as the other correction left it.
    expect(await identityItem(participantId)).toEqual(afterOther);
    expect(afterOther?.address).toEqual(seen.participant.address);
  });

  it('takes "*" (any record of hers) and no If-Match at all (the precondition is optional: a correction then means "set these parts")', async () => {
    const { planId } = await referred();
    const any = await correct(planId, { preferredName: 'Zia' }, '*');
    expect(any.status, any.text).toBe(200);
    const none = await correct(planId, { preferredName: 'Zoe' });
    expect(none.status, none.text).toBe(200);
    expect(none.headers.get('etag')).toBe('"2"');
  });

  it('refuses a weak or listed-but-stale tag with 412, and a malformed If-Match with 400 naming it; nothing changes; empty list elements are ignored', async () => {
    const { planId, participantId } = await referred();
    const before = await identityItem(participantId);
    expectPreconditionFailed(await correct(planId, { preferredName: 'Zia' }, 'W/"0"'));
    expectPreconditionFailed(await correct(planId, { preferredName: 'Zia' }, '"5", "7"'));
    for (const malformed of ['0', '"0', 'abc', ',', '"0" "1"']) {
      const res = await correct(planId, { preferredName: 'Zia' }, malformed);
      expect(res.status, `${malformed}: ${res.text}`).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect((res.json.errors as { path: string }[]).map((e) => e.path)).toEqual(['If-Match']);
    }
    expect(await identityItem(participantId)).toEqual(before);
    // Empty list elements (what merging two If-Match lines can leave) are ignored (RFC 9110 5.6.1.2), not a 400.
    expectPreconditionFailed(await correct(planId, { preferredName: 'Zia' }, '"5",, "7",'));
    expect(await identityItem(participantId)).toEqual(before);
    // A list holding the current tag matches.
    const listed = await correct(planId, { preferredName: 'Zia' }, '"9", "0"');
    expect(listed.status, listed.text).toBe(200);
    const withEmpties = await correct(planId, { preferredName: 'Zoe' }, ', "0", "1",');
    expect(withEmpties.status, withEmpties.text).toBe(200);
  });

  it('is declared in the OpenAPI document (so a browser on AWS may send If-Match and read ETag: CORS is checked against it)', () => {
    const operation = openApiDocument().paths?.['/plans/{planId}/participant']?.patch as {
      parameters?: { in: string; name: string }[];
      responses: Record<string, { headers?: Record<string, unknown>; $ref?: string }>;
    };
    expect(operation.parameters).toContainEqual(expect.objectContaining({ in: 'header', name: 'If-Match' }));
    expect(Object.keys(operation.responses['200']?.headers ?? {})).toContain('ETag');
    expect(operation.responses['412']).toEqual({ $ref: '#/components/responses/PreconditionFailed' });
  });
});
