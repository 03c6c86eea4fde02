/**
 * Who she is and how to reach her, over real HTTP on the embedded stack: a provider reads it
 * (GET /allocations/{id}/participant) only with an accepted, live allocation of its own and a consent
 * that shares contact details with providers; every attempt, allowed or refused, is in the audit log
 * first; coordinators correct it (PATCH /plans/{id}/participant), audited; and none of it reaches the
 * plan, its events or its indexes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../lib/adapters/dynamodb/audit-record.ts';
import type { Participant } from '../../lib/domain/schemas.ts';
import { ACCESS_PURPOSES } from '../../lib/domain/vocabulary.ts';
import {
  CONTACT_SECRETS,
  DAY_MS,
  injectFaults,
  putsAuditRecord,
  referralBody,
  scanTable,
  SECRET_CONTACT,
  SECRET_PARTICIPANT,
  secretParticipant,
  startSecurityStack,
  type FaultInjector,
  type SecurityStack,
} from './support.ts';

let s: SecurityStack;
let faults: FaultInjector;

beforeAll(async () => {
  s = await startSecurityStack();
  faults = injectFaults(s.stack);
});
afterAll(async () => {
  await s?.stop();
});

const WITH_CONTACT = ['needs', 'contact-details'];

interface Held {
  planId: string;
  participantId: string;
  participant: Participant;
  allocationId: string;
  providerId: string;
  /** A provider that does not hold the allocation. */
  stranger: string;
}

async function ok(method: string, path: string, token: string, body?: unknown, status = 200) {
  const res = await s.call(method, path, { token, ...(body !== undefined ? { body } : {}) });
  if (res.status !== status) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
  return res;
}

/** A plan with consent to `categories`, assessed, with one offer; accepted unless told otherwise. */
async function offeredPlan(categories: string[], options: { accept?: boolean; participant?: Participant } = {}): Promise<Held> {
  const participant = options.participant ?? secretParticipant();
  const referred = await ok('POST', '/plans', s.coordinator, referralBody(participant), 201);
  const planId = referred.json.planId as string;
  await ok('POST', `/plans/${planId}/record-consent`, s.coordinator, { scope: { shareWithProviders: true, dataCategories: categories }, givenAt: s.today(), method: 'written' });
  const assessed = await ok('POST', `/plans/${planId}/submit-assessment`, s.coordinator, { needs: [{ domain: 'mental-health', level: 'high', priority: true }] });
  const offer = (assessed.json.allocations as { allocationId: string; providerId: string; status: string }[]).find((a) => a.status === 'offered');
  if (!offer) throw new Error(`no offer: ${assessed.text}`);
  if (options.accept ?? true) await ok('POST', `/allocations/${offer.allocationId}/accept`, s.provider(offer.providerId), {});
  const stranger = s.stack.directory.organizations.map((o) => o.id).find((id) => id !== offer.providerId) as string;
  return { planId, participantId: referred.json.participantId as string, participant, allocationId: offer.allocationId, providerId: offer.providerId, stranger };
}

const read = (held: Pick<Held, 'allocationId'>, token: string, headers?: Record<string, string>) => s.call('GET', `/allocations/${held.allocationId}/participant`, { token, ...(headers ? { headers } : {}) });

/** The audit records about one plan (or, with no plan, of today), leaving out the reads of the log itself. */
async function audit(planId?: string, from = s.today()): Promise<AuditRecord[]> {
  const res = await s.call('GET', `/audit?from=${from}&to=${s.today()}${planId ? `&planId=${planId}` : ''}&limit=1000`, { token: s.teamLead });
  expect(res.status, res.text).toBe(200);
  return (res.json.items as AuditRecord[]).filter((r) => r.action !== 'read-audit');
}
const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString('utf8')) as { sub: string; name?: string; 'custom:providerId'?: string };
const subOf = (token: string) => claimsOf(token).sub;
/** Who an audit record names for a token: its subject, and its name and organisation when it has them. */
const whoOf = (token: string) => {
  const claims = claimsOf(token);
  return { who: claims.sub, ...(claims.name ? { whoName: claims.name } : {}), ...(claims['custom:providerId'] ? { whoProviderId: claims['custom:providerId'] } : {}) };
};

/** A refusal that tells nothing about her. */
function expectRefused(res: { status: number; text: string }, status: number, what: string) {
  expect(res.status, `${what}: ${res.text}`).toBe(status);
  for (const secret of [SECRET_PARTICIPANT.givenName, SECRET_PARTICIPANT.familyName, ...CONTACT_SECRETS]) expect(res.text, `${what} discloses ${secret}`).not.toContain(secret);
}

describe('a provider reads her contact details only with an accepted allocation and consent covering them', () => {
  it('refuses the offered allocation (403), then after acceptance gives name, preferred name and contact details with the safety flags, not date of birth or address', async () => {
    const held = await offeredPlan(WITH_CONTACT, { accept: false });
    expectRefused(await read(held, s.provider(held.providerId)), 403, 'offered, not accepted');
    const offeredAt = s.now();
    await ok('POST', `/allocations/${held.allocationId}/accept`, s.provider(held.providerId), {});
    const res = await read(held, s.provider(held.providerId));
    expect(res.status, res.text).toBe(200);
    expect(res.json).toEqual({
      planRef: held.planId,
      allocationId: held.allocationId,
      givenName: SECRET_PARTICIPANT.givenName,
      familyName: SECRET_PARTICIPANT.familyName,
      preferredName: SECRET_CONTACT.preferredName,
      contact: held.participant.contact,
    });
    expect(res.json.contact).toMatchObject({ safeToLeaveVoicemail: false, safeToSayServiceName: false, safetyNote: SECRET_CONTACT.safetyNote });
    expect(res.text).not.toContain(held.participant.dateOfBirth);
    expect(res.text).not.toContain(SECRET_CONTACT.postcode);
    expect(res.text).not.toContain(SECRET_CONTACT.addressLine);

    // Both attempts are in the log: who, role, what, when, why; the allowed one names her pseudonymous id.
    const records = (await audit(held.planId)).filter((r) => r.action.startsWith('read-participant-contact'));
    const provider = { who: subOf(s.provider(held.providerId)), role: 'provider', providerId: held.providerId, planId: held.planId, allocationId: held.allocationId, why: 'contacting-the-participant' };
    // (The simulated clock stands still between calls: both have the same time, so their order is the log's own.)
    expect(records).toHaveLength(2);
    expect(records).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ ...provider, action: 'read-participant-contact-refused:not-accepted', at: offeredAt }),
        expect.objectContaining({ ...provider, action: 'read-participant-contact', participantId: held.participantId, at: s.now() }),
      ]),
    );
    expect(records.find((r) => r.action.includes('refused'))?.participantId).toBeUndefined();
  });

  it('gives her address too when she asked to be contacted by letter', async () => {
    const base = secretParticipant();
    const byLetter = { ...base, contact: { preferredMethod: 'letter' as const, safeToSendPost: true, safeToLeaveVoicemail: false } };
    const held = await offeredPlan(WITH_CONTACT, { participant: byLetter });
    const res = await read(held, s.provider(held.providerId));
    expect(res.status, res.text).toBe(200);
    expect(res.json.address).toEqual({ ...base.address, postcode: SECRET_CONTACT.postcode });
    expect(res.json.contact).toEqual(byLetter.contact);
  });

  it('records the X-Purpose code the provider gives as the reason', async () => {
    const held = await offeredPlan(WITH_CONTACT);
    const purpose = 'safeguarding';
    expect((await read(held, s.provider(held.providerId), { 'x-purpose': purpose })).status).toBe(200);
    expect((await audit(held.planId)).filter((r) => r.action === 'read-participant-contact')).toEqual([expect.objectContaining({ why: purpose })]);
  });

  it('refuses an X-Purpose that is not a code (400 naming the header, listing the codes), recording the attempt first without the text sent', async () => {
    const held = await offeredPlan(WITH_CONTACT);
    const typed = `Calling ${SECRET_PARTICIPANT.givenName} on ${SECRET_CONTACT.phone}`;
    for (const token of [s.provider(held.providerId), s.provider(held.stranger)]) {
      const res = await read(held, token, { 'x-purpose': typed });
      expectRefused(res, 400, 'free-text purpose');
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(res.json.errors).toEqual([{ path: 'X-Purpose', message: `must be one of ${ACCESS_PURPOSES.join(', ')}` }]);
    }
    const records = (await audit(held.planId)).filter((r) => r.action.startsWith('read-participant-contact'));
    const attempt = { role: 'provider', planId: held.planId, allocationId: held.allocationId, action: 'read-participant-contact-refused:unknown-purpose', why: 'contacting-the-participant', at: s.now() };
    // (Both at the same simulated time: their order is the log's own.)
    expect(records).toHaveLength(2);
    expect(records).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ ...attempt, who: subOf(s.provider(held.providerId)), providerId: held.providerId }),
        expect.objectContaining({ ...attempt, who: subOf(s.provider(held.stranger)), providerId: held.stranger }),
      ]),
    );
    const text = JSON.stringify(records);
    for (const secret of [SECRET_PARTICIPANT.givenName, ...CONTACT_SECRETS]) expect(text).not.toContain(secret);
    // No audit record, no answer: when it cannot be written, the refusal is not given either.
    faults.set(putsAuditRecord);
    try {
      expect((await read(held, s.provider(held.providerId), { 'x-purpose': 'not-a-code' })).status).toBeGreaterThanOrEqual(500);
    } finally {
      faults.clear();
    }
  });

  it("refuses another provider (404, as an unknown allocation; audited with the plan), every other role (403) and no token (401)", async () => {
    const held = await offeredPlan(WITH_CONTACT);
    const stranger = await read(held, s.provider(held.stranger));
    expectRefused(stranger, 404, 'another provider');
    expect(stranger.json.detail).toBe(`No allocation ${held.allocationId}.`);
    for (const [who, token] of [['coordinator', s.coordinator], ['team lead', s.teamLead], ['commissioner', s.commissioner]] as const) expectRefused(await read(held, token), 403, who);
    const anonymous = await s.call('GET', `/allocations/${held.allocationId}/participant`);
    expect(anonymous.status).toBe(401);
    const refused = (await audit(held.planId)).filter((r) => r.action === 'read-participant-contact-refused:another-provider');
    expect(refused).toEqual([expect.objectContaining({ who: subOf(s.provider(held.stranger)), role: 'provider', providerId: held.stranger, planId: held.planId, allocationId: held.allocationId, at: s.now() })]);
  });

  it('records the 403s authorisation gives before the route runs (other roles, a provider token naming no provider) with who, role, allocation and plan; not the 401s', async () => {
    const held = await offeredPlan(WITH_CONTACT);
    // A moment of its own, so these attempts are told from other tests' by their time.
    await s.advance(1000);
    const noProvider = await s.stack.tokens.issue({ role: 'provider', sub: 'provider-without-organisation' });
    const callers = [
      { token: s.coordinator, role: 'coordinator', reason: 'role-not-allowed' },
      { token: s.teamLead, role: 'team-lead', reason: 'role-not-allowed' },
      { token: s.commissioner, role: 'commissioner', reason: 'role-not-allowed' },
      { token: noProvider, role: 'provider', reason: 'no-provider-in-token' },
    ];
    for (const caller of callers) expectRefused(await read(held, caller.token, { 'x-purpose': 'safeguarding' }), 403, caller.role);
    // Unknown allocation: recorded with its id, no plan. Malformed id: recorded with neither (it is free text).
    const unknown = held.allocationId.replace(/_\d+$/, '_98');
    expectRefused(await read({ allocationId: unknown }, s.coordinator), 403, 'coordinator, unknown allocation');
    const typed = encodeURIComponent(`${SECRET_PARTICIPANT.givenName} ${SECRET_CONTACT.phone}`);
    // (The refusal's instance is the path as sent: the caller's own text, given back to the caller only.)
    expect((await read({ allocationId: typed }, s.commissioner)).status).toBe(403);
    // No token: 401, nobody to name, not recorded.
    expect((await s.call('GET', `/allocations/${held.allocationId}/participant`)).status).toBe(401);

    const records = (await audit()).filter((r) => r.action.startsWith('read-participant-contact-refused:') && r.at === s.now());
    expect(records).toHaveLength(callers.length + 2);
    expect(records).toEqual(
      expect.arrayContaining([
        ...callers.map((c) => ({ auditId: expect.any(String), ...whoOf(c.token), role: c.role, action: `read-participant-contact-refused:${c.reason}`, planId: held.planId, allocationId: held.allocationId, why: 'safeguarding', at: s.now() })),
        { auditId: expect.any(String), ...whoOf(s.coordinator), role: 'coordinator', action: 'read-participant-contact-refused:role-not-allowed', allocationId: unknown, why: 'contacting-the-participant', at: s.now() },
        { auditId: expect.any(String), ...whoOf(s.commissioner), role: 'commissioner', action: 'read-participant-contact-refused:role-not-allowed', why: 'contacting-the-participant', at: s.now() },
      ]),
    );
    // In the plan's own log too ("Who has seen this plan"), and with nothing of her or of the text sent.
    expect((await audit(held.planId)).filter((r) => r.at === s.now() && r.action.endsWith(':role-not-allowed'))).toHaveLength(3);
    const text = JSON.stringify(records);
    for (const kept of [SECRET_PARTICIPANT.givenName, SECRET_PARTICIPANT.familyName, ...CONTACT_SECRETS, held.participantId]) expect(text).not.toContain(kept);
    // No audit record, no answer: when the record cannot be written, the refusal is not given either.
    faults.set(putsAuditRecord);
    try {
      expect((await read(held, s.coordinator)).status).toBeGreaterThanOrEqual(500);
    } finally {
      faults.clear();
    }
  });

  it('answers 404 for an allocation that does not exist and 400 for a malformed id', async () => {
    const held = await offeredPlan(WITH_CONTACT);
    const unknown = held.allocationId.replace(/_\d+$/, '_99');
    expectRefused(await read({ allocationId: unknown }, s.provider(held.providerId)), 404, 'unknown allocation');
    expectRefused(await read({ allocationId: 'al_nope' }, s.provider(held.providerId)), 400, 'malformed id');
    expect((await audit()).filter((r) => r.allocationId === unknown)).toEqual([expect.objectContaining({ action: 'read-participant-contact-refused:unknown-allocation' })]);
  });

  it('records an attempt with a malformed id too (who, when, why, refused as malformed), keeping nothing of the text sent', async () => {
    const held = await offeredPlan(WITH_CONTACT);
    const token = s.provider(held.providerId);
    const action = 'read-participant-contact-refused:malformed-allocation-id';
    // A moment of its own, so these attempts are told from other tests' by their time.
    await s.advance(1000);
    // What a careless or hostile caller might put there: her name and number, and a forged log line.
    const typed = encodeURIComponent(`${SECRET_PARTICIPANT.givenName} ${SECRET_CONTACT.phone}\n{"action":"read-audit","who":"nobody"}`);
    const attempts = [
      { allocationId: 'al_nope', headers: { 'x-purpose': 'support-planning' }, why: 'support-planning' },
      { allocationId: typed, headers: undefined, why: 'contacting-the-participant' },
      // Both wrong: the id is the refusal named, and the route's own purpose the why.
      { allocationId: 'al_nope', headers: { 'x-purpose': 'not-a-code' }, why: 'contacting-the-participant' },
    ];
    for (const attempt of attempts) {
      const res = await read(attempt, token, attempt.headers);
      expect(res.status, res.text).toBe(400);
      expect(res.json.errors).toEqual([{ path: 'allocationId', message: 'must be an allocation id like al_…_1' }]);
    }
    const records = (await audit()).filter((r) => r.action === action && r.at === s.now());
    // (All at the same simulated time: their order is the log's own.)
    expect(records).toHaveLength(attempts.length);
    expect(records).toEqual(expect.arrayContaining(attempts.map((a) => ({ auditId: expect.any(String), ...whoOf(token), role: 'provider', providerId: held.providerId, action, why: a.why, at: s.now() }))));
    const text = JSON.stringify(records);
    for (const kept of ['al_nope', 'read-audit', 'nobody', SECRET_PARTICIPANT.givenName, ...CONTACT_SECRETS]) expect(text).not.toContain(kept);
    // No audit record, no answer: when it cannot be written, the refusal is not given either.
    faults.set(putsAuditRecord);
    try {
      expect((await read({ allocationId: 'al_nope' }, token)).status).toBeGreaterThanOrEqual(500);
    } finally {
      faults.clear();
    }
  });

  it('refuses when her consent does not list contact details', async () => {
    const needsOnly = await offeredPlan(['needs', 'risks', 'adjustments']);
    expectRefused(await read(needsOnly, s.provider(needsOnly.providerId)), 403, 'consent without contact details');
    expect((await audit(needsOnly.planId)).map((r) => r.action)).toContain('read-participant-contact-refused:consent-excludes-contact-details');
    // The control: the same provider reads the allocation itself.
    expect((await s.call('GET', `/allocations/${needsOnly.allocationId}`, { token: s.provider(needsOnly.providerId) })).status).toBe(200);
  });

  it('refuses at once when she withdraws her consent', async () => {
    const held = await offeredPlan(WITH_CONTACT);
    expect((await read(held, s.provider(held.providerId))).status).toBe(200);
    await ok('POST', `/plans/${held.planId}/withdraw-consent`, s.coordinator, { note: 'Asked us to stop' });
    expectRefused(await read(held, s.provider(held.providerId)), 403, 'after withdrawal');
  });

  it('refuses a declined, an ended and an expired allocation', async () => {
    const start = s.today();
    const declined = await offeredPlan(WITH_CONTACT, { accept: false });
    await ok('POST', `/allocations/${declined.allocationId}/decline`, s.provider(declined.providerId), { reason: 'capacity' });
    expectRefused(await read(declined, s.provider(declined.providerId)), 403, 'declined');

    const ended = await offeredPlan(WITH_CONTACT);
    expect((await read(ended, s.provider(ended.providerId))).status).toBe(200);
    await ok('POST', `/allocations/${ended.allocationId}/end`, s.provider(ended.providerId), { outcome: 'completed' });
    expectRefused(await read(ended, s.provider(ended.providerId)), 403, 'ended');

    const expiring = await offeredPlan(WITH_CONTACT, { accept: false });
    await s.advance(7 * DAY_MS, DAY_MS / 4);
    const allocation = await s.call('GET', `/allocations/${expiring.allocationId}`, { token: s.provider(expiring.providerId) });
    expect(allocation.json.status).toBe('expired');
    expectRefused(await read(expiring, s.provider(expiring.providerId)), 403, 'expired');

    const actions = [...(await audit(declined.planId, start)), ...(await audit(ended.planId, start)), ...(await audit(expiring.planId, start))].map((r) => r.action).filter((a) => a.startsWith('read-participant-contact-refused'));
    expect(actions).toEqual(['read-participant-contact-refused:not-accepted', 'read-participant-contact-refused:not-accepted', 'read-participant-contact-refused:not-accepted']);
  });

  it('gives nothing when the audit record cannot be written (fail closed)', async () => {
    const held = await offeredPlan(WITH_CONTACT);
    faults.set(putsAuditRecord);
    try {
      const res = await read(held, s.provider(held.providerId));
      expect(res.status).toBeGreaterThanOrEqual(500);
      expectRefused(res, res.status, 'audit write failed');
      // A refusal is not given without its record either.
      expect((await read(held, s.provider(held.stranger))).status).toBeGreaterThanOrEqual(500);
    } finally {
      faults.clear();
    }
    expect((await audit(held.planId)).filter((r) => r.action.startsWith('read-participant-contact'))).toEqual([]);
  });
});

describe('coordinators correct her contact details, address and preferred name', () => {
  let held: Held;
  beforeAll(async () => {
    held = await offeredPlan(WITH_CONTACT);
  });

  it('replaces what is given, removes what is null, and the provider sees the change at once', async () => {
    const contact = { phone: '0121 496 0777', preferredMethod: 'phone-call', safeToLeaveVoicemail: false, safeTimes: 'Weekdays after 7pm' };
    const res = await s.call('PATCH', `/plans/${held.planId}/participant`, { token: s.coordinator, body: { contact, address: null, preferredName: 'Zee' } });
    expect(res.status, res.text).toBe(200);
    const { address: _address, ...rest } = held.participant;
    expect(res.json).toEqual({ planId: held.planId, participant: { ...rest, preferredName: 'Zee', contact }, participantRevision: 1 });
    const plan = await ok('GET', `/plans/${held.planId}`, s.coordinator);
    expect(plan.json.participant).toEqual(res.json.participant);
    const provider = await read(held, s.provider(held.providerId));
    expect(provider.json.contact).toEqual(contact);
    expect(provider.json.preferredName).toBe('Zee');
    expect((await audit(held.planId)).filter((r) => r.action === 'correct-identity')).toEqual([
      expect.objectContaining({ who: subOf(s.coordinator), role: 'coordinator', planId: held.planId, participantId: held.participantId, why: 'keeping-contact-details-right', at: s.now() }),
    ]);
  });

  it('stores a postcode in its usual form', async () => {
    const res = await s.call('PATCH', `/plans/${held.planId}/participant`, { token: s.coordinator, body: { address: { lines: ['Flat 2', '7 Canal Side'], town: 'Dudley', postcode: ' dy11aa ' } } });
    expect(res.status, res.text).toBe(200);
    expect(res.json.participant.address.postcode).toBe('DY1 1AA');
  });

  it('refuses bad corrections with a 400 naming the field, and changes nothing', async () => {
    const before = await scanTable(s.stack);
    const cases: [unknown, string][] = [
      [{ address: { lines: ['1 High Street'], postcode: 'ABC 123' } }, 'address.postcode'],
      [{ contact: { phone: 'call me maybe' } }, 'contact.phone'],
      [{ contact: { phone: '0121' } }, 'contact.phone'],
      [{ contact: { email: 'not-an-email' } }, 'contact.email'],
      [{ contact: { preferredMethod: 'text-message', phone: '07700 900123', safeToText: false } }, 'contact.preferredMethod'],
      [{ contact: { preferredMethod: 'email' } }, 'contact.email'],
      [{ contact: { safeToLeaveVoicemail: 'no' } }, 'contact.safeToLeaveVoicemail'],
      [{ contact: { pager: '1234' } }, 'contact.pager'],
      [{ givenName: 'Someone Else' }, 'givenName'],
      [{ address: { lines: ['x'.repeat(101)] } }, 'address.lines.0'],
      [{ address: { lines: ['1', '2', '3', '4', '5'] } }, 'address.lines'],
      [{}, '(body)'],
    ];
    for (const [body, path] of cases) {
      const res = await s.call('PATCH', `/plans/${held.planId}/participant`, { token: s.coordinator, body });
      expect(res.status, `${JSON.stringify(body)}: ${res.text}`).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect((res.json.errors as { path: string }[]).map((e) => e.path), JSON.stringify(body)).toContain(path);
    }
    expect(await scanTable(s.stack)).toEqual(before);
  });

  it('is for coordinators only, and 404 for a plan that does not exist', async () => {
    const body = { contact: { phone: '07700 900999' } };
    for (const token of [s.teamLead, s.provider(held.providerId), s.commissioner]) expect((await s.call('PATCH', `/plans/${held.planId}/participant`, { token, body })).status).toBe(403);
    expect((await s.call('PATCH', `/plans/${held.planId}/participant`, { body })).status).toBe(401);
    expect((await s.call('PATCH', '/plans/pl_000000000000000000000000/participant', { token: s.coordinator, body })).status).toBe(404);
  });
});

describe('a woman referred again', () => {
  it('keeps her record (name as first recorded) and takes the new referral\'s contact details and address', async () => {
    const first = await offeredPlan(WITH_CONTACT);
    await ok('POST', `/plans/${first.planId}/withdraw-consent`, s.coordinator, {});
    const moved = {
      ...first.participant,
      givenName: first.participant.givenName.toUpperCase(),
      contact: { phone: '07700 900777', preferredMethod: 'phone-call' as const, safeToLeaveVoicemail: true },
      address: { lines: ['Refuge, address withheld'], postcode: 'B70 1AA' },
    };
    const again = await ok('POST', '/plans', s.coordinator, referralBody(moved), 201);
    expect(again.json.participantId).toBe(first.participantId);
    expect(again.json.participant).toEqual({ ...first.participant, contact: moved.contact, address: moved.address });
    // Without contact details, a referral keeps the ones she has.
    await ok('POST', `/plans/${again.json.planId}/withdraw`, s.coordinator, { reason: 'unreachable' });
    const { contact: _c, address: _a, preferredName: _p, ...bare } = first.participant;
    const third = await ok('POST', '/plans', s.coordinator, referralBody(bare), 201);
    expect(third.json.participant).toEqual({ ...first.participant, contact: moved.contact, address: moved.address });
  });
});

describe('her contact details never reach the plan, its events or its indexes', () => {
  it('holds them in her identity records only', async () => {
    const items = await scanTable(s.stack);
    const identities = items.filter((i) => String(i.pk).startsWith('PARTICIPANT#'));
    // The control: they are in the table, where they belong.
    expect(JSON.stringify(identities)).toContain(SECRET_CONTACT.phone);
    for (const item of items.filter((i) => !String(i.pk).startsWith('PARTICIPANT#'))) {
      const text = JSON.stringify(item);
      for (const secret of [...CONTACT_SECRETS, SECRET_PARTICIPANT.familyName, 'safeToLeaveVoicemail', 'postcode']) expect(text, `${String(item.pk)} ${String(item.sk)} holds ${secret}`).not.toContain(secret);
    }
  });
});
