/**
 * What the fuzz suites aim at: plans in every stage, allocations offered and accepted, providers,
 * services, a webhook subscription and dead-lettered deliveries, cursors the API returned, and
 * tokens good, bad and strange. Built over the API itself (so every item is one the API made).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { GROUP_OF_ROLE, type Role } from '../../lib/api/routes.ts';
import type { EmbeddedStack } from '../../lib/local/embedded-stack.ts';
import { LOCAL_AUDIENCE, LOCAL_ISSUER } from '../../lib/local/tokens.ts';
import { hsdsId } from '../../lib/directory/hsds.ts';
import { MAX_SERVICE_CAPACITY } from '../../lib/domain/vocabulary.ts';
import { anotherParticipant, consent, controllableClock, referral, wrapStack, PROVIDERS, type AllocationJson, type Json, type PlanJson, type TestStack } from '../support/http.ts';

/** The seed directory with room for everyone: fuzzing must not run the services out of places. */
export async function roomyProvidersFile(dir: string, capacity = MAX_SERVICE_CAPACITY): Promise<string> {
  const directory = JSON.parse(await readFile(new URL('../../lib/directory/new-chance.json', import.meta.url), 'utf8')) as { services: { capacity: number }[] };
  for (const service of directory.services) service.capacity = capacity;
  const file = join(dir, 'providers.json');
  await writeFile(file, JSON.stringify(directory));
  return file;
}

/** A TestStack view of the embedded stack whose `today()` is the stack's (simulated) clock. */
export function testView(stack: EmbeddedStack): TestStack {
  return wrapStack(stack, controllableClock(stack.clock.now()));
}

const today = (stack: EmbeddedStack) => stack.clock.now().slice(0, 10);

async function ok(t: TestStack, method: string, path: string, token: string, body?: unknown, status = 200): Promise<Json> {
  const res = await t.call(method, path, { token, ...(body !== undefined ? { body } : {}) });
  if (res.status !== status) throw new Error(`seeding: ${method} ${path} answered ${res.status} ${res.text.slice(0, 300)}`);
  return res.json;
}

export interface PlanTargets {
  referred: PlanJson;
  assessment: PlanJson;
  allocating: PlanJson;
  active: PlanJson;
  exited: PlanJson;
  withdrawn: PlanJson;
  /** On the allocating plan. */
  offered: AllocationJson;
  /** On the active plan. */
  accepted: AllocationJson;
}

/** One fresh plan in each stage the API can reach without moving the clock. */
export async function seedPlans(stack: EmbeddedStack): Promise<PlanTargets> {
  const t = testView(stack);
  const refer = async () => ok(t, 'POST', '/plans', t.coordinator, referral({ participant: anotherParticipant() }), 201);
  const toAssessment = async () => {
    const plan = await refer();
    // Consent covers contact details, so a provider's read of them can get all the way through.
    const withContactDetails = { ...consent(today(stack)), scope: { shareWithProviders: true, dataCategories: ['needs', 'contact-details'] } };
    return ok(t, 'POST', `/plans/${plan.planId}/record-consent`, t.coordinator, withContactDetails);
  };
  const toAllocating = async (needs: unknown[]) => {
    const plan = await toAssessment();
    return ok(t, 'POST', `/plans/${plan.planId}/submit-assessment`, t.coordinator, { needs });
  };
  const toActive = async () => {
    const plan = await toAllocating([{ domain: 'mental-health', level: 'high', priority: true }]);
    const offer = (plan.allocations as AllocationJson[]).find((a) => a.status === 'offered');
    if (!offer) throw new Error('seeding: no offer was made');
    const accepted = await ok(t, 'POST', `/allocations/${offer.allocationId}/accept`, t.provider(offer.providerId), {});
    return { plan: await ok(t, 'GET', `/plans/${plan.planId}`, t.coordinator), allocation: { ...offer, status: 'accepted' } as AllocationJson, accepted };
  };

  const referred = await refer();
  const assessment = await toAssessment();
  const allocating = await toAllocating([
    { domain: 'mental-health', level: 'high', priority: true },
    { domain: 'accommodation', level: 'medium', priority: true },
  ]);
  const offered = (allocating.allocations as AllocationJson[]).find((a) => a.status === 'offered');
  if (!offered) throw new Error('seeding: the allocating plan has no offer');
  const active = await toActive();
  if (active.plan.stage !== 'active') throw new Error(`seeding: expected active, got ${active.plan.stage}`);
  const leaving = await toActive();
  const exited = await ok(t, 'POST', `/plans/${leaving.plan.planId}/exit`, t.coordinator, { reason: 'completed' });
  const withdrawing = await refer();
  const withdrawn = await ok(t, 'POST', `/plans/${withdrawing.planId}/withdraw`, t.coordinator, { reason: 'declined-support' });
  return { referred, assessment, allocating, active: active.plan, exited, withdrawn, offered, accepted: active.allocation };
}

/**
 * A plan taken all the way to closed: active, exited, then the 6- and 12-month follow-ups with the
 * simulated clock moved on. Do this first and alone: moving the clock a year fires every timer of
 * every plan there is.
 */
export async function seedClosedPlan(stack: EmbeddedStack): Promise<PlanJson> {
  const t = testView(stack);
  const created = await ok(t, 'POST', '/plans', t.coordinator, referral({ participant: anotherParticipant() }), 201);
  const planId = created.planId as string;
  await ok(t, 'POST', `/plans/${planId}/record-consent`, t.coordinator, consent(today(stack)));
  const assessed = await ok(t, 'POST', `/plans/${planId}/submit-assessment`, t.coordinator, { needs: [{ domain: 'mental-health', level: 'high', priority: true }] });
  const offer = (assessed.allocations as AllocationJson[]).find((a) => a.status === 'offered');
  if (!offer) throw new Error('seeding: no offer was made');
  await ok(t, 'POST', `/allocations/${offer.allocationId}/accept`, t.provider(offer.providerId), {});
  await ok(t, 'POST', `/plans/${planId}/exit`, t.coordinator, { reason: 'completed' });
  await stack.advanceClock(184 * 86_400_000, 30 * 86_400_000);
  await ok(t, 'POST', `/plans/${planId}/record-follow-up`, t.coordinator, { month: 6, reoffended: 'no' });
  await stack.advanceClock(183 * 86_400_000, 30 * 86_400_000);
  return ok(t, 'POST', `/plans/${planId}/record-follow-up`, t.coordinator, { month: 12, reoffended: 'unknown' });
}

export interface ProviderTargets {
  subscriptions: { providerId: string; subscriptionId: string }[];
  deadDeliveries: { providerId: string; deliveryId: string }[];
  pendingDeliveries: { providerId: string; deliveryId: string }[];
}

/**
 * Every provider subscribed to a URL nobody listens on; with a retry schedule of no retries, one
 * delivery pass dead-letters what was queued. Call after some plans exist.
 */
export async function seedWebhooks(stack: EmbeddedStack, deadUrl: string): Promise<ProviderTargets> {
  const t = testView(stack);
  const subscriptions: ProviderTargets['subscriptions'] = [];
  for (const providerId of PROVIDERS) {
    const list = await ok(t, 'GET', `/providers/${providerId}/subscriptions`, t.teamLead);
    const active = (list.items as Json[]).find((s) => s.status === 'active');
    const subscription = active ?? (await ok(t, 'POST', `/providers/${providerId}/subscriptions`, t.teamLead, { url: `${deadUrl}/${providerId}` }, 201));
    subscriptions.push({ providerId, subscriptionId: subscription.subscriptionId });
  }
  return { subscriptions, deadDeliveries: [], pendingDeliveries: [] };
}

export async function findDeliveries(stack: EmbeddedStack): Promise<Pick<ProviderTargets, 'deadDeliveries' | 'pendingDeliveries'>> {
  const t = testView(stack);
  const deadDeliveries: ProviderTargets['deadDeliveries'] = [];
  const pendingDeliveries: ProviderTargets['pendingDeliveries'] = [];
  for (const providerId of PROVIDERS) {
    const page = await ok(t, 'GET', `/providers/${providerId}/deliveries?limit=200`, t.teamLead);
    for (const d of page.items as Json[]) (d.status === 'dead' ? deadDeliveries : pendingDeliveries).push({ providerId, deliveryId: d.deliveryId });
  }
  return { deadDeliveries: deadDeliveries.slice(0, 12), pendingDeliveries: pendingDeliveries.slice(0, 12) };
}

/** Every service back to the roomy capacity and open (a fuzzed PATCH may have closed one). */
export async function restoreDirectory(stack: EmbeddedStack, capacity = MAX_SERVICE_CAPACITY): Promise<void> {
  const t = testView(stack);
  for (const service of stack.directory.services) await ok(t, 'PATCH', `/directory/services/${service.id}`, t.teamLead, { capacity, status: 'active' });
}

export const serviceIds = (stack: EmbeddedStack) => stack.directory.services.flatMap((s) => [s.id, hsdsId.service(s.id)]);

// ---------------------------------------------------------------------------------------------
// Tokens

export interface Tokens {
  byRole: Record<Exclude<Role, 'provider'>, string>;
  provider: Record<string, string>;
  /** Tokens that must be refused with 401, by what is wrong with them. */
  invalid: Record<string, string>;
  /** Validly signed, with claims a misconfigured identity provider might send. */
  strange: Record<string, { token: string; refused?: string }>;
}

export async function makeTokens(stack: EmbeddedStack): Promise<Tokens> {
  const user = (role: Role, providerId?: string) => stack.demoUsers.find((u) => u.role === role && (providerId === undefined || u.providerId === providerId))?.token as string;
  const secret = stack.tokens.secret;
  const now = Math.floor(Date.now() / 1000);
  const sign = async (claims: Record<string, unknown>, options: { key?: Uint8Array; iss?: string; aud?: string; exp?: number; sub?: string | null; alg?: string } = {}) => {
    let jwt = new SignJWT(claims).setProtectedHeader({ alg: options.alg ?? 'HS256' }).setIssuer(options.iss ?? LOCAL_ISSUER).setAudience(options.aud ?? LOCAL_AUDIENCE).setIssuedAt().setExpirationTime(options.exp ?? now + 3600);
    if (options.sub !== null) jwt = jwt.setSubject(options.sub ?? 'fuzz-user');
    return jwt.sign(options.key ?? secret);
  };
  const coordinator = user('coordinator');
  const [head, payload, signature] = coordinator.split('.') as [string, string, string];
  const middle = Math.floor(signature.length / 2);
  const flipped = signature.slice(0, middle) + (signature[middle] === 'A' ? 'B' : 'A') + signature.slice(middle + 1);
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const coordinatorClaims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  const groups = (role: Role) => [GROUP_OF_ROLE[role]];
  return {
    byRole: { coordinator, 'team-lead': user('team-lead'), commissioner: user('commissioner') },
    provider: Object.fromEntries(PROVIDERS.map((p) => [p, user('provider', p)])),
    invalid: {
      'tampered signature': `${head}.${payload}.${flipped}`,
      'tampered claims': `${head}.${b64({ ...coordinatorClaims, 'cognito:groups': ['team-leads'] })}.${signature}`,
      expired: await sign({ 'cognito:groups': groups('coordinator') }, { exp: now - 60 }),
      'foreign key': await sign({ 'cognito:groups': groups('coordinator') }, { key: new TextEncoder().encode('not-the-secret-of-this-stack-000') }),
      'wrong issuer': await sign({ 'cognito:groups': groups('coordinator') }, { iss: 'https://cognito-idp.eu-west-2.amazonaws.com/elsewhere' }),
      'wrong audience': await sign({ 'cognito:groups': groups('coordinator') }, { aud: 'someone-else' }),
      'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${payload}.`,
      'alg HS512': await sign({ 'cognito:groups': groups('coordinator') }, { alg: 'HS512' }),
      'no sub': await sign({ 'cognito:groups': groups('coordinator') }, { sub: null }),
      'unknown group': await sign({ 'cognito:groups': ['admins'] }),
      'no group': await sign({}),
      'not a JWT': 'not-a-jwt',
      'empty segments': '..',
    },
    strange: {
      'groups as a string': { token: await sign({ 'cognito:groups': 'coordinators' }) },
      'groups bracketed': { token: await sign({ 'cognito:groups': '[coordinators team-leads]' }) },
      'every group': { token: await sign({ 'cognito:groups': Object.values(GROUP_OF_ROLE) , 'custom:providerId': 'anawim' }) },
      'provider without id': { token: await sign({ 'cognito:groups': groups('provider') }), refused: 'a provider token naming no provider' },
      'provider of nowhere': { token: await sign({ 'cognito:groups': groups('provider'), 'custom:providerId': 'zz-nowhere' }), refused: 'a provider that does not exist' },
      'provider id an object': { token: await sign({ 'cognito:groups': groups('provider'), 'custom:providerId': { id: 'anawim' } }), refused: 'a provider id that is not a string' },
      'unicode sub': { token: await sign({ 'cognito:groups': groups('coordinator') }, { sub: '\u202e\u0000\ud800 fuzz' }) },
      'huge name': { token: await sign({ 'cognito:groups': groups('coordinator'), name: 'n'.repeat(3_000) }) },
      'sub a number': { token: await sign({ 'cognito:groups': groups('coordinator'), sub: 42 }, { sub: null }), refused: 'a sub that is not a string' },
    },
  };
}
