/**
 * Integration-test support: a whole embedded stack (dynalite in memory, the local PlanCommand
 * runner, the HTTP gateway) on a free port, driven over real HTTP with fetch, with a clock the test
 * moves by hand and a publisher that keeps every event the providers would have been sent.
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { readablePlanItem } from '../../lib/adapters/dynamodb/plan-item.ts';
import { startEmbeddedStack, type EmbeddedOptions, type EmbeddedStack } from '../../lib/local/embedded-stack.ts';
import type { Role } from '../../lib/api/routes.ts';
import type { PlanEvent } from '../../lib/domain/schemas.ts';
import type { historyView, planSummary, planView } from '../../lib/domain/views.ts';
import type { providerAllocationView } from '../../lib/domain/provider-views.ts';
import type { ProviderAllocationRecord } from '../../lib/adapters/dynamodb/plan-repository.ts';

/** Response bodies as the API builds them (JSON round-trips them unchanged: strings, numbers, arrays). */
export type PlanJson = ReturnType<typeof planView>;
export type AllocationJson = PlanJson['allocations'][number];
export type DeadlineJson = PlanJson['deadlines'][number];
export type GapJson = PlanJson['gaps'][number];
export type HistoryItemJson = ReturnType<typeof historyView>[number];
export type PlanSummaryJson = ReturnType<typeof planSummary>;
export type OfferJson = ProviderAllocationRecord;
export type ProviderAllocationJson = ReturnType<typeof providerAllocationView>;
/** An untyped response body: tests read whichever fields they assert on. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export const PROVIDERS = ['anawim', 'bcwa', 'changing-lives', 'green-square-accord'] as const;
export type ProviderName = (typeof PROVIDERS)[number];

/** A clock the test moves by hand: a closure over a variable. Never goes backwards. */
export interface TestClock {
  (): string;
  set(iso: string): void;
  advanceDays(days: number): string;
  advanceMs(ms: number): string;
  /** Today's date (UTC) of the clock, YYYY-MM-DD. */
  today(): string;
}

export function controllableClock(start: string): TestClock {
  let now = new Date(start).toISOString();
  const clock = (() => now) as TestClock;
  clock.set = (iso: string) => {
    const next = new Date(iso).toISOString();
    if (next < now) throw new Error(`the test clock does not go backwards (${now} -> ${next})`);
    now = next;
  };
  clock.advanceMs = (ms: number) => {
    clock.set(new Date(new Date(now).getTime() + ms).toISOString());
    return now;
  };
  clock.advanceDays = (days: number) => clock.advanceMs(days * 86_400_000);
  clock.today = () => now.slice(0, 10);
  return clock;
}

export interface CallOptions {
  token?: string;
  /** An object is sent as JSON; a string is sent as it is. */
  body?: unknown;
  headers?: Record<string, string>;
}

export interface CallResult<T = Json> {
  status: number;
  headers: Headers;
  json: T;
  text: string;
}

export type Call = <T = Json>(method: string, path: string, options?: CallOptions) => Promise<CallResult<T>>;

export function makeCall(baseUrl: string): Call {
  return async (method, path, options = {}) => {
    const headers: Record<string, string> = {};
    let body: string | undefined;
    if (options.body !== undefined) {
      body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    Object.assign(headers, options.headers ?? {});
    const response = await fetch(`${baseUrl}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: response.status, headers: response.headers, json: json as never, text };
  };
}

export interface TestStack {
  stack: EmbeddedStack;
  url: string;
  call: Call;
  clock: TestClock;
  /** Every event handed to the publisher (what the bus / webhooks would carry), in order. */
  published: PlanEvent[];
  coordinator: string;
  teamLead: string;
  commissioner: string;
  provider(id: ProviderName | string): string;
  stop(): Promise<void>;
}

export const START = '2026-03-02T10:00:00.000Z'; // a Monday, GMT

export async function startTestStack(options: Partial<EmbeddedOptions> & { start?: string } = {}): Promise<TestStack> {
  const { start, ...rest } = options;
  const clock = controllableClock(start ?? START);
  const published: PlanEvent[] = [];
  const stack = await startEmbeddedStack({
    inMemory: true,
    port: 0,
    sweepIntervalMs: 0,
    clock,
    publisher: { publish: async (events) => void published.push(...events) },
    ...rest,
  });
  return wrapStack(stack, clock, published);
}

export function wrapStack(stack: EmbeddedStack, clock: TestClock, published: PlanEvent[] = []): TestStack {
  const tokenOf = (role: Role, providerId?: string) => {
    const user = stack.demoUsers.find((u) => u.role === role && (providerId === undefined || u.providerId === providerId));
    if (!user) throw new Error(`no demo user ${role}${providerId ? ` ${providerId}` : ''}`);
    return user.token;
  };
  return {
    stack,
    url: stack.url,
    call: makeCall(stack.url),
    clock,
    published,
    coordinator: tokenOf('coordinator'),
    teamLead: tokenOf('team-lead'),
    commissioner: tokenOf('commissioner'),
    provider: (id) => tokenOf('provider', id),
    stop: () => stack.stop(),
  };
}

/**
 * Every item of the table, sorted by key: for "the store did not change" comparisons. Audit records
 * are left out unless asked for: every read of plan detail is audited by design, so the reads a
 * test makes to check the store would otherwise count as changes.
 */
export async function scanTable(stack: EmbeddedStack, options: { withAudit?: boolean } = {}): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await stack.plans.client.send(new ScanCommand({ TableName: stack.plans.tableName, ConsistentRead: true, ExclusiveStartKey: start }));
    items.push(...((out.Items ?? []) as Record<string, unknown>[]));
    start = out.LastEvaluatedKey;
  } while (start);
  // A plan's body is stored gzipped: unzipped here, so "her name is in no plan item" looks at what it holds.
  return items
    .filter((i) => options.withAudit || !String(i.pk).startsWith('AUDIT#'))
    .map(readablePlanItem)
    .sort((a, b) => `${a.pk}|${a.sk}`.localeCompare(`${b.pk}|${b.sk}`));
}

// ---------------------------------------------------------------------------------------------
// Request bodies a coordinator would send

export const PARTICIPANT = { givenName: 'Zelphinia', familyName: 'Quargleby-Hart', dateOfBirth: '1988-04-23' } as const;

export function referral(overrides: Record<string, unknown> = {}) {
  return {
    participant: { ...PARTICIPANT },
    referral: { source: 'custody-diversion', localAuthority: 'birmingham', urgency: 'routine' },
    ...overrides,
  };
}

let born = 0;
/**
 * PARTICIPANT born on another day at each call: a different woman for any duplicate-referral check,
 * with the same name, so "nothing here identifies her" checks still look for that name. Never on the
 * 1st to the 12th of a month: with the same name, a date whose day and month read the other way round
 * is another of these women's (04/05 and 05/04), which a referral is warned of as a possible duplicate.
 */
export function anotherParticipant(): { givenName: string; familyName: string; dateOfBirth: string } {
  let dateOfBirth: string;
  do {
    born += 1;
    dateOfBirth = new Date(Date.parse(`${PARTICIPANT.dateOfBirth}T00:00:00Z`) + born * 86_400_000).toISOString().slice(0, 10);
  } while (Number(dateOfBirth.slice(8)) <= 12);
  return { ...PARTICIPANT, dateOfBirth };
}

export function consent(givenAt: string, shareWithProviders = true) {
  return { scope: { shareWithProviders, dataCategories: ['needs'] }, givenAt, method: 'written' };
}

/**
 * Refer (each time another participant), record consent and (optionally) submit an assessment;
 * returns the plan as the API last showed it.
 */
export async function planInStage(t: TestStack, stage: 'referred' | 'assessment' | 'allocating', needs?: unknown[]): Promise<PlanJson> {
  const created = await t.call('POST', '/plans', { token: t.coordinator, body: referral({ participant: anotherParticipant() }) });
  if (created.status !== 201) throw new Error(`refer: ${created.status} ${created.text}`);
  if (stage === 'referred') return created.json;
  const consented = await t.call('POST', `/plans/${created.json.planId}/record-consent`, { token: t.coordinator, body: consent(t.clock.today()) });
  if (consented.status !== 200) throw new Error(`record-consent: ${consented.status} ${consented.text}`);
  if (stage === 'assessment') return consented.json;
  const assessed = await t.call('POST', `/plans/${created.json.planId}/submit-assessment`, {
    token: t.coordinator,
    body: { needs: needs ?? [{ domain: 'mental-health', level: 'high', priority: true, goals: [] }] },
  });
  if (assessed.status !== 200) throw new Error(`submit-assessment: ${assessed.status} ${assessed.text}`);
  return assessed.json;
}
