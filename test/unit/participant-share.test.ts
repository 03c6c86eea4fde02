import { describe, expect, it } from 'vitest';
import { participantShareDecision, providerParticipantView } from '../../lib/domain/participant-share.ts';
import { Participant, type Allocation, type Plan } from '../../lib/domain/schemas.ts';

const ALLOCATION_ID = 'al_fixture0000000001_1';

/** Only what the decision reads: the plan's stage, consent, allocations and erasure mark. */
function planWith(overrides: { stage?: Plan['stage']; status?: Allocation['status']; consent?: Plan['consent'] | null; identityErasedAt?: string } = {}): Plan {
  const consent = overrides.consent === null ? undefined : (overrides.consent ?? { scope: { shareWithProviders: true, dataCategories: ['needs', 'contact-details'] }, givenAt: '2026-03-02', method: 'written', recordedAt: '2026-03-02T10:00:00.000Z' });
  return {
    planId: 'pl_fixture0000000001',
    stage: overrides.stage ?? 'active',
    ...(consent ? { consent } : {}),
    ...(overrides.identityErasedAt ? { identityErasedAt: overrides.identityErasedAt } : {}),
    allocations: [{ allocationId: ALLOCATION_ID, providerId: 'bcwa', serviceId: 'bcwa-outreach', needs: ['domestic-abuse'], status: overrides.status ?? 'accepted', lead: true, offeredAt: '2026-03-02T10:00:00.000Z', respondBy: '2026-03-04T17:00:00.000Z', why: 'closest' }],
  } as unknown as Plan;
}

const consentTo = (shareWithProviders: boolean, dataCategories: NonNullable<Plan['consent']>['scope']['dataCategories'], withdrawnAt?: string): Plan['consent'] => ({
  scope: { shareWithProviders, dataCategories },
  givenAt: '2026-03-02',
  method: 'verbal',
  recordedAt: '2026-03-02T10:00:00.000Z',
  ...(withdrawnAt ? { withdrawnAt } : {}),
});

describe('participantShareDecision', () => {
  it('allows the holder of an accepted allocation on an open plan whose consent shares contact details', () => {
    expect(participantShareDecision(planWith(), ALLOCATION_ID, 'bcwa')).toEqual({ allowed: true });
    expect(participantShareDecision(planWith({ stage: 'allocating' }), ALLOCATION_ID, 'bcwa')).toEqual({ allowed: true });
  });

  it.each([
    ['no such plan', undefined, 'bcwa', 404, 'unknown-allocation'],
    // Another provider's allocation is answered as an unknown one (404): ids are numbered in order on a plan.
    ['another provider', planWith(), 'anawim', 404, 'another-provider'],
    ['a provider token without a provider', planWith(), undefined, 404, 'another-provider'],
    ...(['offered', 'declined', 'expired', 'withdrawn', 'ended'] as const).map((status) => [`an allocation ${status}`, planWith({ status }), 'bcwa', 403, 'not-accepted'] as const),
    ['an exited plan', planWith({ stage: 'exited' }), 'bcwa', 403, 'plan-not-open'],
    ['no consent recorded', planWith({ consent: null }), 'bcwa', 403, 'no-consent'],
    ['consent withdrawn', planWith({ consent: consentTo(true, ['needs', 'contact-details'], '2026-03-05T09:00:00.000Z') }), 'bcwa', 403, 'consent-withdrawn'],
    ['consent not sharing with providers', planWith({ consent: consentTo(false, ['needs', 'contact-details']) }), 'bcwa', 403, 'consent-excludes-contact-details'],
    ['consent without contact details', planWith({ consent: consentTo(true, ['needs', 'risks', 'adjustments', 'offending']) }), 'bcwa', 403, 'consent-excludes-contact-details'],
    ['an erased identity', planWith({ identityErasedAt: '2026-03-05T09:00:00.000Z' }), 'bcwa', 403, 'identity-erased'],
  ] as const)('refuses %s', (_what, plan, providerId, status, reason) => {
    expect(participantShareDecision(plan, ALLOCATION_ID, providerId)).toMatchObject({ allowed: false, status, reason });
  });

  it('refuses an allocation id the plan does not hold (404)', () => {
    expect(participantShareDecision(planWith(), 'al_fixture0000000001_2', 'bcwa')).toMatchObject({ allowed: false, status: 404 });
  });
});

describe('providerParticipantView', () => {
  const identity = Participant.parse({
    givenName: 'Jasmine',
    familyName: 'Okonkwo-Blythe',
    preferredName: 'Jas',
    dateOfBirth: '1991-07-14',
    contact: { phone: '07700 900123', preferredMethod: 'phone-call', safeToLeaveVoicemail: false, safeToSayServiceName: false, safeTimes: 'Mornings' },
    address: { lines: ['4 Mill Lane'], town: 'Walsall', postcode: 'ws1 1aa' },
  });

  it('gives name, preferred name and contact details with the safety flags; never date of birth; no address unless she asked for letters', () => {
    const view = providerParticipantView(planWith(), ALLOCATION_ID, identity);
    expect(view).toEqual({ planRef: 'pl_fixture0000000001', allocationId: ALLOCATION_ID, givenName: 'Jasmine', familyName: 'Okonkwo-Blythe', preferredName: 'Jas', contact: identity.contact });
    expect(JSON.stringify(view)).not.toContain('1991-07-14');
  });

  it('adds the address when letters are how she asked to be contacted', () => {
    const byLetter = { ...identity, contact: { preferredMethod: 'letter' as const, safeToSendPost: true } };
    expect(providerParticipantView(planWith(), ALLOCATION_ID, byLetter).address).toEqual({ lines: ['4 Mill Lane'], town: 'Walsall', postcode: 'WS1 1AA' });
  });

  it('gives an empty contact when none is held', () => {
    const { contact: _contact, ...bare } = identity;
    expect(providerParticipantView(planWith(), ALLOCATION_ID, bare).contact).toEqual({});
  });
});

describe('Participant', () => {
  const base = { givenName: 'Jasmine', familyName: 'Okonkwo-Blythe', dateOfBirth: '1991-07-14' };

  it('takes a referral without contact details or address (both optional)', () => {
    expect(Participant.parse(base)).toEqual(base);
  });

  it.each([
    ['b1 1aa', 'B1 1AA'],
    ['SW1A1AA', 'SW1A 1AA'],
    [' m60  1nw '.replace('  ', ' '), 'M60 1NW'],
    ['DY11 7XX', 'DY11 7XX'],
  ])('stores postcode %j as %j', (given, stored) => {
    expect(Participant.parse({ ...base, address: { lines: ['1 High Street'], postcode: given } }).address?.postcode).toBe(stored);
  });

  it.each([
    [{ address: { lines: ['1 High Street'], postcode: '12345' } }, 'address.postcode'],
    [{ address: { lines: ['1 High Street'], postcode: 'B1 1AAA' } }, 'address.postcode'],
    [{ address: { lines: [] } }, 'address.lines'],
    [{ address: { lines: ['1 High Street'], county: 'West Midlands' } }, 'address'],
    [{ contact: { phone: '+44 121 496 0000 ext 12' } }, 'contact.phone'],
    [{ contact: { phone: '1234567' } }, 'contact.phone'],
    [{ contact: { phone: '9'.repeat(30) } }, 'contact.phone'],
    [{ contact: { email: 'jas@' } }, 'contact.email'],
    [{ contact: { preferredMethod: 'carrier-pigeon' } }, 'contact.preferredMethod'],
    [{ contact: { preferredMethod: 'phone-call' } }, 'contact.phone'],
    [{ contact: { preferredMethod: 'letter', safeToSendPost: false } }, 'contact.preferredMethod'],
    [{ contact: { preferredMethod: 'letter', safeToSendPost: true } }, 'address'],
    [{ contact: { safeTimes: 'x'.repeat(201) } }, 'contact.safeTimes'],
    [{ contact: { safetyNote: 'x'.repeat(501) } }, 'contact.safetyNote'],
    [{ nickname: 'Jas' }, ''],
  ])('refuses %j naming %s', (extra, path) => {
    const parsed = Participant.safeParse({ ...base, ...extra });
    expect(parsed.success).toBe(false);
    const paths = parsed.error?.issues.map((i) => i.path.join('.')) ?? [];
    expect(paths).toContain(path);
  });
});
