/**
 * Security-test support: the embedded stack on a simulated clock, tokens good and bad, storage faults
 * injected into the stack's own DynamoDB client, and one plan driven from referral to closed.
 */
import { randomBytes } from 'node:crypto';
import { SignJWT, base64url } from 'jose';
import { startEmbeddedStack, type EmbeddedOptions, type EmbeddedStack } from '../../lib/local/embedded-stack.ts';
import { LOCAL_AUDIENCE, LOCAL_ISSUER } from '../../lib/local/tokens.ts';
import { GROUP_OF_ROLE, type Role } from '../../lib/api/routes.ts';
import type { Participant } from '../../lib/domain/schemas.ts';
import { makeCall, scanTable, type Call, type CallOptions, type CallResult } from '../support/http.ts';

export { scanTable };

export const DAY_MS = 86_400_000;

export interface SecurityStack {
  stack: EmbeddedStack;
  call: Call;
  now(): string;
  /** Today on the simulated clock, YYYY-MM-DD (UTC). */
  today(): string;
  /** Move the simulated clock on, sweeping after each step (default: one step). */
  advance(ms: number, stepMs?: number): Promise<void>;
  coordinator: string;
  teamLead: string;
  commissioner: string;
  provider(id: string): string;
  stop(): Promise<void>;
}

export async function startSecurityStack(options: Partial<EmbeddedOptions> = {}): Promise<SecurityStack> {
  const stack = await startEmbeddedStack({
    inMemory: true,
    port: 0,
    sweepIntervalMs: 0,
    clockMode: 'simulated',
    webhooks: { intervalMs: 0 },
    webDistDir: false,
    ...options,
  });
  const tokenOf = (role: Role, providerId?: string) => {
    const user = stack.demoUsers.find((u) => u.role === role && (providerId === undefined || u.providerId === providerId));
    if (!user) throw new Error(`no demo user ${role}${providerId ? ` ${providerId}` : ''}`);
    return user.token;
  };
  return {
    stack,
    call: makeCall(stack.url),
    now: () => stack.clock.now(),
    today: () => stack.clock.now().slice(0, 10),
    advance: async (ms, stepMs) => void (await stack.advanceClock(ms, stepMs ?? ms)),
    coordinator: tokenOf('coordinator'),
    teamLead: tokenOf('team-lead'),
    commissioner: tokenOf('commissioner'),
    provider: (id) => tokenOf('provider', id),
    stop: () => stack.stop(),
  };
}

// ---------------------------------------------------------------------------------------------
// Tokens that must be refused

function claimsFor(role: Role, providerId?: string) {
  return { name: `Forged ${role}`, 'cognito:groups': [GROUP_OF_ROLE[role]], ...(providerId ? { 'custom:providerId': providerId } : {}) };
}

async function sign(secret: Uint8Array, role: Role, providerId: string | undefined, exp: number) {
  return new SignJWT(claimsFor(role, providerId))
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(`forged-${role}`)
    .setIssuer(LOCAL_ISSUER)
    .setAudience(LOCAL_AUDIENCE)
    .setIssuedAt(exp - 3600)
    .setExpirationTime(exp)
    .sign(secret);
}

export type BadToken = 'tampered' | 'expired' | 'foreign-secret' | 'alg-none';
export const BAD_TOKENS: readonly BadToken[] = ['tampered', 'expired', 'foreign-secret', 'alg-none'];

/**
 * A token for `role` that the gateway must refuse:
 * - tampered: a genuine token whose payload was edited (another sub, another provider) after signing;
 * - expired: signed with the stack's own secret, expired a minute ago (wall clock, as the gateway checks);
 * - foreign-secret: well formed and in date, signed with another secret;
 * - alg-none: the same claims, unsigned (`alg: none`).
 */
export async function badToken(stack: EmbeddedStack, kind: BadToken, role: Role, providerId?: string): Promise<string> {
  const nowSeconds = Math.floor(Date.now() / 1000);
  switch (kind) {
    case 'tampered': {
      const genuine = await sign(stack.tokens.secret, role, providerId, nowSeconds + 3600);
      const [header, payload, signature] = genuine.split('.') as [string, string, string];
      const claims = JSON.parse(new TextDecoder().decode(base64url.decode(payload))) as Record<string, unknown>;
      const edited = { ...claims, sub: 'someone-else', ...(providerId ? { 'custom:providerId': `${providerId}x` } : { 'cognito:groups': ['coordinators', 'team-leads'] }) };
      return `${header}.${base64url.encode(JSON.stringify(edited))}.${signature}`;
    }
    case 'expired':
      return sign(stack.tokens.secret, role, providerId, nowSeconds - 60);
    case 'foreign-secret':
      return sign(new Uint8Array(randomBytes(32)), role, providerId, nowSeconds + 3600);
    case 'alg-none': {
      const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }));
      const payload = base64url.encode(JSON.stringify({ ...claimsFor(role, providerId), sub: `forged-${role}`, iss: LOCAL_ISSUER, aud: LOCAL_AUDIENCE, iat: nowSeconds, exp: nowSeconds + 3600 }));
      return `${header}.${payload}.`;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Storage faults, injected into the stack's own document client (shared by every repository)

export type FaultRule = (commandName: string, input: Record<string, unknown>) => boolean;

export interface FaultInjector {
  /** Fail every storage call the rule matches, until `clear()`. */
  set(rule: FaultRule): void;
  clear(): void;
  /** How many calls were failed since the injector was made. */
  readonly failed: number;
}

export function injectFaults(stack: EmbeddedStack): FaultInjector {
  let rule: FaultRule | undefined;
  let failed = 0;
  stack.plans.client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Record<string, unknown>;
      if (rule?.(String(context.commandName), input)) {
        failed += 1;
        throw Object.assign(new Error('injected storage fault'), { name: 'InjectedStorageFault', $metadata: {} });
      }
      return next(args);
    },
    { step: 'initialize', name: `securityFaults${randomBytes(4).toString('hex')}` },
  );
  return {
    set: (r) => void (rule = r),
    clear: () => void (rule = undefined),
    get failed() {
      return failed;
    },
  };
}

/**
 * The partition keys a PutItem or a BatchWriteItem puts (document or raw form), for fault rules: the
 * embedded stack group-commits audit records with other requests' puts in BatchWriteItems.
 */
export function putPks(commandName: string, input: Record<string, unknown>): string[] {
  if (commandName === 'BatchWriteItemCommand' || commandName === 'BatchWriteCommand') {
    const requests = Object.values((input.RequestItems ?? {}) as Record<string, { PutRequest?: { Item?: Record<string, unknown> } }[]>).flat();
    return requests.flatMap((r) => pkOf(r.PutRequest?.Item));
  }
  const pk = putPk(commandName, input);
  return pk === undefined ? [] : [pk];
}

/** Whether a write puts an audit record (the rule the fail-closed tests inject). */
export const putsAuditRecord = (commandName: string, input: Record<string, unknown>) => putPks(commandName, input).some((pk) => pk.startsWith('AUDIT#'));

function pkOf(item: Record<string, unknown> | undefined): string[] {
  const pk = item?.pk;
  if (typeof pk === 'string') return [pk];
  const raw = (pk as { S?: unknown } | undefined)?.S;
  return typeof raw === 'string' ? [raw] : [];
}

/** The partition key of a PutItem (document or raw form), for fault rules. */
export function putPk(commandName: string, input: Record<string, unknown>): string | undefined {
  if (commandName !== 'PutItemCommand' && commandName !== 'PutCommand') return undefined;
  const pk = (input.Item as Record<string, unknown> | undefined)?.pk;
  if (typeof pk === 'string') return pk;
  const raw = (pk as { S?: unknown } | undefined)?.S;
  return typeof raw === 'string' ? raw : undefined;
}

// ---------------------------------------------------------------------------------------------
// Personal data that must never leak, and one plan from referral to closed

/** Unusual enough that any occurrence in a log or a response is this participant's. */
export const SECRET_PARTICIPANT = { givenName: 'Zephyrine', familyName: 'Quillfeather-Okonkwo' } as const;
export const SECRET_NOTE = 'Disclosed Kestrelmoor flat arrangements in confidence';
export const SECRET_WORDS = 'I finally feel Lanternbright again';
export const SECRET_GOAL = 'Reconnect with Thistledown sister';

/** How to reach her and where she lives: as secret as her name. */
export const SECRET_CONTACT = {
  preferredName: 'Zephy',
  phone: '07700 900461',
  email: 'zephyrine.q@wrenfield.example',
  addressLine: '14 Wrenfield Crescent',
  area: 'Quenbury Heath',
  postcode: 'B15 2TT',
  safetyNote: 'Say you are from the Hollowmere dentist',
} as const;
/** What to look for: each secret, and the parts a cut-short message or another spelling would keep. */
export const CONTACT_SECRETS = [...Object.values(SECRET_CONTACT), '07700900461', '900461', 'Wrenfield', 'Quenbury', 'B152TT', 'Hollowmere'];

let births = 0;
/** The secret participant, with contact details and address, born on a different day each call (so duplicate checks see another woman). */
export function secretParticipant(): Participant {
  // Never on the 1st to the 12th: with her same name, a date read the other way round (04/05, 05/04) is
  // another of these women's, which a referral is warned of as a possible duplicate.
  let dateOfBirth: string;
  do {
    births += 1;
    dateOfBirth = new Date(Date.parse('1983-02-11T00:00:00Z') + births * 3 * DAY_MS).toISOString().slice(0, 10);
  } while (Number(dateOfBirth.slice(8)) <= 12);
  return {
    ...SECRET_PARTICIPANT,
    preferredName: SECRET_CONTACT.preferredName,
    dateOfBirth,
    contact: { phone: SECRET_CONTACT.phone, email: SECRET_CONTACT.email, preferredMethod: 'text-message', safeToLeaveVoicemail: false, safeToSayServiceName: false, safetyNote: SECRET_CONTACT.safetyNote },
    address: { lines: [SECRET_CONTACT.addressLine, SECRET_CONTACT.area], town: 'Birmingham', postcode: SECRET_CONTACT.postcode },
  };
}

export function referralBody(participant = secretParticipant()) {
  return { participant, referral: { source: 'custody-diversion', localAuthority: 'birmingham', urgency: 'routine' } };
}

export interface LifecycleStep {
  method: string;
  path: string;
  role: Role;
  status: number;
  /** When it was sent (the simulated clock stands still during a call). */
  at: string;
  /** The audit action this call must have written, if it reads or writes identity or plan detail. */
  audited?: string;
  purpose?: string;
}

export interface Lifecycle {
  planId: string;
  participantId: string;
  participant: Participant;
  allocationId: string;
  providerId: string;
  steps: LifecycleStep[];
}

/**
 * Refer → consent → assessment → provider reads and accepts → contact → review → team-lead read →
 * history → exit → 6- and 12-month follow-ups → closed, on the simulated clock, over HTTP. Every step
 * is checked to succeed and recorded with the audit action it must have written.
 */
export async function runFullLifecycle(s: SecurityStack, options: { purpose?: string } = {}): Promise<Lifecycle> {
  const steps: LifecycleStep[] = [];
  const purposeHeader = options.purpose ? { 'x-purpose': options.purpose } : undefined;
  async function step(method: string, path: string, role: Role, token: string, audited: string | undefined, call: CallOptions = {}, expected = method === 'POST' && path === '/plans' ? 201 : 200): Promise<CallResult> {
    const at = s.now();
    const res = await s.call(method, path, { token, ...call, ...(purposeHeader ? { headers: { ...purposeHeader, ...(call.headers ?? {}) } } : {}) });
    if (res.status !== expected) throw new Error(`${method} ${path} as ${role}: ${res.status} ${res.text}`);
    steps.push({ method, path, role, status: res.status, at, ...(audited ? { audited } : {}), ...(options.purpose ? { purpose: options.purpose } : {}) });
    return res;
  }
  const participant = secretParticipant();
  const referred = await step('POST', '/plans', 'coordinator', s.coordinator, 'refer-and-record-identity', { body: referralBody(participant) });
  const planId = referred.json.planId as string;
  const participantId = referred.json.participantId as string;
  await step('GET', `/plans/${planId}`, 'coordinator', s.coordinator, 'read-plan-and-identity');
  await step('POST', `/plans/${planId}/record-consent`, 'coordinator', s.coordinator, 'command:record-consent', {
    body: { scope: { shareWithProviders: true, dataCategories: ['needs', 'contact-details'] }, givenAt: s.today(), method: 'written' },
  });
  const assessed = await step('POST', `/plans/${planId}/submit-assessment`, 'coordinator', s.coordinator, 'command:submit-assessment', {
    body: { needs: [{ domain: 'mental-health', level: 'high', priority: true, goals: [SECRET_GOAL] }], risks: { domesticAbuse: 'standard', selfHarm: false, safeguardingChildren: false } },
  });
  const allocation = (assessed.json.allocations as { allocationId: string; providerId: string; status: string }[]).find((a) => a.status === 'offered');
  if (!allocation) throw new Error(`no offer: ${assessed.text}`);
  const provider = s.provider(allocation.providerId);
  // Audited as read-provider-offers with the provider id, not a plan (audit.test.ts checks it apart).
  await step('GET', `/providers/${allocation.providerId}/offers`, 'provider', provider, undefined);
  await step('GET', `/allocations/${allocation.allocationId}`, 'provider', provider, 'read-allocation');
  await step('POST', `/allocations/${allocation.allocationId}/accept`, 'provider', provider, 'command:accept-offer', { body: { note: SECRET_NOTE } });
  // Accepted, with consent covering contact details: the provider may now read how to reach her.
  await step('GET', `/allocations/${allocation.allocationId}/participant`, 'provider', provider, 'read-participant-contact');
  await step('PATCH', `/plans/${planId}/participant`, 'coordinator', s.coordinator, 'correct-identity', {
    body: { contact: { ...participant.contact, safeTimes: 'Weekdays 10-2, while he is at the Hollowmere works' } },
  });
  await s.advance(7 * DAY_MS);
  await step('POST', `/allocations/${allocation.allocationId}/record-contact`, 'provider', provider, 'command:record-contact', { body: { date: s.today(), kind: 'attended' } });
  await s.advance(21 * DAY_MS);
  await step('POST', `/plans/${planId}/record-review`, 'coordinator', s.coordinator, 'command:record-review', {
    body: { scores: { 'mental-health': 5 }, outcome: 'continue', participantWords: SECRET_WORDS },
  });
  await step('GET', `/plans/${planId}`, 'team-lead', s.teamLead, 'read-plan');
  await step('GET', `/plans/${planId}/history`, 'coordinator', s.coordinator, 'read-history');
  await s.advance(30 * DAY_MS);
  const exited = await step('POST', `/plans/${planId}/exit`, 'coordinator', s.coordinator, 'command:exit', { body: { reason: 'completed', note: SECRET_NOTE } });
  const due = Object.fromEntries((exited.json.deadlines as { command: string; ref?: string; dueAt: string }[]).filter((d) => d.command === 'follow-up-due').map((d) => [d.ref, d.dueAt]));
  await s.advance(Date.parse(String(due['6'])) - Date.parse(s.now()) + 3600_000);
  await step('POST', `/plans/${planId}/record-follow-up`, 'coordinator', s.coordinator, 'command:record-follow-up', { body: { month: 6, reoffended: 'no' } });
  await s.advance(Date.parse(String(due['12'])) - Date.parse(s.now()) + 3600_000);
  const closed = await step('POST', `/plans/${planId}/record-follow-up`, 'coordinator', s.coordinator, 'command:record-follow-up', { body: { month: 12, reoffended: 'no' } });
  if (closed.json.stage !== 'closed') throw new Error(`not closed: ${closed.text}`);
  return { planId, participantId, participant, allocationId: allocation.allocationId, providerId: allocation.providerId, steps };
}
