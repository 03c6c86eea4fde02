/**
 * The coordinators' worklist (`GET /plans?due=overdue|today|this-week&stage=`) and the team leads'
 * escalations list, over real HTTP with the embedded stack's simulated clock.
 *
 * Five weeks of a small caseload are played out so that, on a Wednesday morning, plans sit in
 * every place the lists care about:
 *
 *   plan            made                  state on Wednesday 09:00                     next deadline
 *   twoAlerts       Monday week 0         active, never seen nor reviewed: 2 alerts     (Saturday)
 *   oneAlert        Monday week 0         referred, urgent, assessment overdue: 1 alert next Monday
 *   nextWeek        Monday week 4         referred                                      next Monday 17:00
 *   dueToday        Monday week 5         allocating, offers unanswered                 today 17:00
 *   urgent          Wednesday week 5      allocating, urgent referral                   Friday 17:00
 *   abuseHigh       Wednesday week 5      allocating, domestic-abuse risk high          Friday 17:00
 *   selfHarm        Wednesday week 5      allocating, self-harm risk                    Friday 17:00
 *   laterThisWeek   Wednesday week 5      allocating                                    Friday 17:00
 *
 * The order is: open escalations first (more of them first), then urgent referrals, then higher
 * risk (domestic-abuse high over self-harm), then the nearest deadline.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedStack, type EmbeddedStack } from '../../lib/local/embedded-stack.ts';
import { englandAndWalesCalendar } from '../../lib/adapters/holidays.ts';
import { addCalendarDays, londonDate, londonTime } from '../../lib/domain/calendar.ts';
import { consent, makeCall, type AllocationJson, type Call, type CallOptions, type CallResult, type Json, type PlanSummaryJson } from '../support/http.ts';

// ---------------------------------------------------------------------------------------------
// The stack, on a simulated clock started on a quiet Monday (no bank holiday, no clock change)

let stack: EmbeddedStack;
let call: Call;
const token = (role: string, providerId?: string) => {
  const user = stack.demoUsers.find((u) => u.role === role && (providerId === undefined || u.providerId === providerId));
  if (!user) throw new Error(`no demo user ${role} ${providerId ?? ''}`);
  return user.token;
};
const coordinator = () => token('coordinator');
const teamLead = () => token('team-lead');
const today = () => londonDate(stack.clock.now());

function quietMonday(now: string, weeks: number): string {
  const calendar = englandAndWalesCalendar();
  let monday = addCalendarDays(londonDate(now), 1);
  while (new Date(`${monday}T12:00:00Z`).getUTCDay() !== 1) monday = addCalendarDays(monday, 1);
  for (let tries = 0; tries < 104; tries += 1, monday = addCalendarDays(monday, 7)) {
    const days = Array.from({ length: weeks * 7 }, (_, i) => addCalendarDays(monday, i));
    const holiday = days.some((d) => new Date(`${d}T12:00:00Z`).getUTCDay() % 6 !== 0 && !calendar.isWorkingDay(d));
    const sameOffset = new Date(londonTime(monday, 9)).getUTCHours() === new Date(londonTime(days.at(-1) as string, 9)).getUTCHours();
    if (!holiday && sameOffset) return monday;
  }
  throw new Error('no quiet Monday in two years');
}

/** Move the simulated clock to 09:00 London on `date`, sweeping every 6 hours on the way. */
async function moveTo(date: string) {
  const ms = Date.parse(londonTime(date, 9)) - Date.parse(stack.clock.now());
  const res = await call('POST', '/_local/clock/advance', { token: coordinator(), body: { minutes: ms / 60_000, stepHours: 6 } });
  if (res.status !== 200) throw new Error(`advance: ${res.status} ${res.text}`);
}

async function ok(method: string, path: string, options: CallOptions = {}): Promise<Json> {
  const res = await call(method, path, { token: coordinator(), ...options });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
  return res.json;
}

let people = 0;
async function refer(urgency: 'routine' | 'urgent' = 'routine'): Promise<string> {
  people += 1;
  const participant = { givenName: 'Rhiannon', familyName: 'Adebayo-Kowalczyk', dateOfBirth: addCalendarDays('1991-06-01', people * 5) };
  return (await ok('POST', '/plans', { body: { participant, referral: { source: 'out-of-court-disposal', localAuthority: 'birmingham', urgency } } })).planId;
}

/** Every risk assessed, as none unless `risks` says otherwise: a risk left out is not assessed, which the worklist weighs (views.ts riskScore). */
const NO_RISK = { domesticAbuse: 'none', selfHarm: false, safeguardingChildren: false };

async function allocating(options: { urgency?: 'routine' | 'urgent'; risks?: Record<string, unknown>; need?: string } = {}): Promise<Json> {
  const planId = await refer(options.urgency);
  await ok('POST', `/plans/${planId}/record-consent`, { body: consent(today()) });
  return ok('POST', `/plans/${planId}/submit-assessment`, {
    body: { needs: [{ domain: options.need ?? 'mental-health', level: 'high', priority: true }], risks: { ...NO_RISK, ...options.risks } },
  });
}

/** Every page of a list, following nextCursor to the end (at most 50 pages). */
async function pagesOf(path: string, as = path.startsWith('/escalations') ? teamLead() : coordinator()): Promise<Json[][]> {
  const pages: Json[][] = [];
  let cursor: string | null = null;
  do {
    // The next page's cursor replaces one the path started from (two cursor parameters are no cursor).
    const url = cursor ? `${path.replace(/&cursor=[^&]*/, '')}&cursor=${encodeURIComponent(cursor)}` : path;
    const res: CallResult = await call('GET', url, { token: as });
    expect(res.status, `GET ${path}: ${res.text}`).toBe(200);
    pages.push(res.json.items);
    cursor = res.json.nextCursor;
  } while (cursor && pages.length < 50);
  expect(cursor, `${path}: more than 50 pages`).toBeNull();
  return pages;
}

/** When the plan's longest-open escalation was raised: the order the overdue pages go in. */
const oldestOpen = (item: Json): string => (item.openEscalations as Json[]).map((e) => e.raisedAt as string).sort()[0] as string;

async function worklist(query: string, as = coordinator()): Promise<PlanSummaryJson[]> {
  const res = await call('GET', `/plans?${query}`, { token: as });
  expect(res.status, `GET /plans?${query}: ${res.text}`).toBe(200);
  return res.json.items;
}

// ---------------------------------------------------------------------------------------------

const plans: Record<string, string> = {};
const nameOf = (planId: string) => Object.entries(plans).find(([, id]) => id === planId)?.[0] ?? planId;
const names = (items: { planId: string }[]) => items.map((p) => nameOf(p.planId));
let week0: string; // Monday of the first week
let wednesday: string; // Wednesday of week 5: "today"

beforeAll(async () => {
  stack = await startEmbeddedStack({ inMemory: true, port: 0, sweepIntervalMs: 0, clockMode: 'simulated' });
  call = makeCall(stack.url);
  week0 = quietMonday(stack.clock.now(), 7);
  // The first move lands exactly on the minute (the clock starts at wall time); the rest go over HTTP.
  const gap = Date.parse(londonTime(week0, 9)) - Date.parse(stack.clock.now());
  await stack.advanceClock(gap, gap);

  const active = await allocating();
  for (const a of active.allocations as AllocationJson[]) await ok('POST', `/allocations/${a.allocationId}/accept`, { token: token('provider', a.providerId), body: {} });
  plans.twoAlerts = active.planId;
  plans.oneAlert = await refer('urgent');

  await moveTo(addCalendarDays(week0, 28));
  plans.nextWeek = await refer();

  await moveTo(addCalendarDays(week0, 35));
  plans.dueToday = (await allocating()).planId;

  wednesday = addCalendarDays(week0, 37);
  await moveTo(wednesday);
  plans.urgent = (await allocating({ urgency: 'urgent' })).planId;
  plans.abuseHigh = (await allocating({ need: 'domestic-abuse', risks: { domesticAbuse: 'high' } })).planId;
  plans.selfHarm = (await allocating({ risks: { selfHarm: true } })).planId;
  plans.laterThisWeek = (await allocating()).planId;
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

describe('the caseload on Wednesday morning', () => {
  it('is set up as the table says', async () => {
    expect(today()).toBe(wednesday);
    const summaries = Object.fromEntries((await worklist('limit=100')).map((p) => [nameOf(p.planId), p]));
    expect(Object.keys(summaries).sort()).toEqual(Object.keys(plans).sort());
    const s = summaries as Record<string, Json>;
    expect(s.twoAlerts.stage).toBe('active');
    expect(s.twoAlerts.openEscalations.map((e: Json) => e.kind).sort()).toEqual(['no-contact', 'review-overdue']);
    expect(s.twoAlerts.nextReview).toMatchObject({ reviewNumber: 1, overdue: true });
    expect(s.oneAlert).toMatchObject({ stage: 'referred', urgency: 'urgent' });
    expect(s.oneAlert.openEscalations.map((e: Json) => e.kind)).toEqual(['assessment-overdue']);
    expect(s.nextWeek.nextDue).toEqual({ command: 'assessment-overdue', dueAt: londonTime(addCalendarDays(wednesday, 5), 17) });
    expect(s.dueToday.nextDue).toMatchObject({ command: 'offer-expired', dueAt: londonTime(wednesday, 17) });
    for (const name of ['urgent', 'abuseHigh', 'selfHarm', 'laterThisWeek']) {
      expect(s[name].stage, name).toBe('allocating');
      expect(s[name].nextDue, name).toMatchObject({ command: 'offer-expired', dueAt: londonTime(addCalendarDays(wednesday, 2), 17) });
      expect(s[name].openEscalations, name).toEqual([]);
    }
    expect(s.urgent.urgency).toBe('urgent');
    expect([s.abuseHigh.risk, s.selfHarm.risk, s.laterThisWeek.risk, s.urgent.risk]).toEqual([4, 3, 0, 0]);
    // A worklist line is for triage: no identity on it.
    expect(JSON.stringify(summaries)).not.toMatch(/Rhiannon|Adebayo|givenName|dateOfBirth|participantId/);
  });
});

describe('GET /plans?due=', () => {
  it('overdue: only the plans with an open escalation, more escalations first', async () => {
    expect(names(await worklist('due=overdue'))).toEqual(['twoAlerts', 'oneAlert']);
    // Team leads see the same list.
    expect(names(await worklist('due=overdue', teamLead()))).toEqual(['twoAlerts', 'oneAlert']);
  });

  it('today: the overdue ones, then what falls due before midnight', async () => {
    expect(names(await worklist('due=today'))).toEqual(['twoAlerts', 'oneAlert', 'dueToday']);
  });

  it('this-week (the next 7 days): escalations first, then urgent, then higher risk, then the nearest deadline', async () => {
    const items = await worklist('due=this-week');
    // Next Monday's deadline is five days off: inside the seven days, though in next week.
    expect(names(items)).toEqual(['twoAlerts', 'oneAlert', 'urgent', 'abuseHigh', 'selfHarm', 'dueToday', 'laterThisWeek', 'nextWeek']);
    // Every line shows what is due and when.
    for (const item of items) expect(item.nextDue ?? item.openEscalations[0], nameOf(item.planId)).toBeTruthy();
  });

  it('the stage filter narrows each list', async () => {
    expect(names(await worklist('due=this-week&stage=allocating'))).toEqual(['urgent', 'abuseHigh', 'selfHarm', 'dueToday', 'laterThisWeek']);
    expect(names(await worklist('due=this-week&stage=referred'))).toEqual(['oneAlert', 'nextWeek']);
    expect(names(await worklist('due=overdue&stage=active'))).toEqual(['twoAlerts']);
    expect(names(await worklist('due=today&stage=allocating'))).toEqual(['dueToday']);
    expect(await worklist('due=this-week&stage=exited')).toEqual([]);
    // Without due, the stage list has everything in the stage, due or not.
    expect(names(await worklist('stage=referred')).sort()).toEqual(['nextWeek', 'oneAlert']);
  });

  it('pages on with nextCursor: every plan once, the escalated ones on the first page, each page in urgency order', async () => {
    const everything = names(await worklist('due=this-week'));
    for (const limit of [1, 2, 3, 5]) {
      const pages = (await pagesOf(`/plans?due=this-week&limit=${limit}`)).map(names);
      expect(pages.flat(), `limit ${limit}`).toEqual(expect.arrayContaining(everything));
      expect(pages.flat(), `limit ${limit}`).toHaveLength(everything.length);
      for (const page of pages) {
        expect(page.length, `limit ${limit}`).toBeLessThanOrEqual(limit);
        expect(page, `limit ${limit}: a page is in the full list's (urgency) order`).toEqual(everything.filter((name) => page.includes(name)));
      }
    }
    // Pages go escalated first, then the soonest due: today's deadline before Friday's.
    expect((await pagesOf('/plans?due=this-week&limit=3')).map(names)[0]).toEqual(['twoAlerts', 'oneAlert', 'dueToday']);
    // The overdue list reads on past its escalated plans to what fell due before now, which may leave a last page empty.
    const overdue = (await pagesOf('/plans?due=overdue&limit=1')).filter((page) => page.length > 0);
    expect(overdue.map(names).flat().sort()).toEqual(['oneAlert', 'twoAlerts']);
    expect(overdue.map((page) => oldestOpen(page[0]))).toEqual(overdue.map((page) => oldestOpen(page[0])).sort());
    // The stage filter pages too.
    expect((await pagesOf('/plans?due=this-week&stage=allocating&limit=2')).flatMap(names).sort()).toEqual(['abuseHigh', 'dueToday', 'laterThisWeek', 'selfHarm', 'urgent']);
  });

  it('refuses a cursor it did not give for that list, naming cursor, and changes nothing', async () => {
    const overdueCursor = (await call('GET', '/plans?due=overdue&limit=1', { token: coordinator() })).json.nextCursor as string;
    // After twoAlerts, oneAlert, dueToday and one due on Friday.
    const weekCursor = (await call('GET', '/plans?due=this-week&limit=4', { token: coordinator() })).json.nextCursor as string;
    const stageCursor = (await call('GET', '/plans?stage=allocating&limit=1', { token: coordinator() })).json.nextCursor as string;
    expect([overdueCursor, weekCursor, stageCursor].every((c) => typeof c === 'string')).toBe(true);
    for (const path of [
      '/plans?due=overdue&cursor=not-a-cursor',
      `/plans?due=today&cursor=${stageCursor}`,
      `/plans?due=overdue&cursor=${weekCursor}`,
      // This week's list reads past the end of today: its cursor is not one of today's.
      `/plans?due=today&cursor=${weekCursor}`,
      `/plans?due=overdue&cursor=${overdueCursor.slice(0, -4)}`,
      '/escalations?cursor=eyJwaGFzZSI6ImFsZXJ0In0',
      `/escalations?cursor=${weekCursor}`,
    ]) {
      const res = await call('GET', path, { token: path.startsWith('/escalations') ? teamLead() : coordinator() });
      expect(res.status, path).toBe(400);
      expect(res.headers.get('content-type'), path).toBe('application/problem+json');
      expect(res.json.errors.map((e: Json) => e.path), path).toEqual(['cursor']);
      expect(res.json.detail, path).toContain('cursor');
    }
    // A cursor of the overdue list's escalated part is one of the escalations list too (the same plans).
    expect((await call('GET', `/escalations?limit=1&cursor=${overdueCursor}`, { token: teamLead() })).status).toBe(200);
  });

  it("refuses another list's cursor saying whose it is: the overdue list past its escalated plans is not the escalations list", async () => {
    // The overdue list read past its two escalated plans: its cursor is in its later part (what fell due before now).
    const first = await call('GET', '/plans?due=overdue&limit=2', { token: coordinator() });
    expect(names(first.json.items).sort()).toEqual(['oneAlert', 'twoAlerts']);
    const pastDueCursor = first.json.nextCursor as string;
    expect(typeof pastDueCursor).toBe('string');
    // Before: 200 with an empty page and no cursor, as if the team lead had seen every escalation.
    const res = await call('GET', `/escalations?cursor=${pastDueCursor}`, { token: teamLead() });
    expect(res.status, res.text).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.json.errors).toEqual([{ path: 'cursor', message: expect.stringMatching(/^belongs to another list, the worklist "Overdue and escalated" \(GET \/plans\?due=overdue\), past its escalated plans, not the escalations list/) }]);
    // Each due list's cursor on another due list, and on the escalations list: refused, naming the list it came from.
    const cursors = {
      overdue: pastDueCursor,
      today: (await call('GET', '/plans?due=today&limit=1', { token: coordinator() })).json.nextCursor as string,
      'this-week': (await call('GET', '/plans?due=this-week&limit=1', { token: coordinator() })).json.nextCursor as string,
    };
    const labels = { overdue: 'Overdue and escalated', today: 'Due today', 'this-week': 'Due in the next 7 days' };
    for (const [from, cursor] of Object.entries(cursors) as [keyof typeof cursors, string][]) {
      expect(typeof cursor, from).toBe('string');
      const elsewhere = [...Object.keys(cursors).filter((list) => list !== from).map((list) => `/plans?due=${list}`), '/escalations'];
      for (const path of elsewhere) {
        const refused = await call('GET', `${path}${path.includes('?') ? '&' : '?'}cursor=${cursor}`, { token: path === '/escalations' ? teamLead() : coordinator() });
        expect(refused.status, `${from} on ${path}`).toBe(400);
        expect(refused.json.errors[0].path, `${from} on ${path}`).toBe('cursor');
        expect(refused.json.errors[0].message, `${from} on ${path}`).toContain(`belongs to another list, the worklist "${labels[from]}" (GET /plans?due=${from})`);
      }
    }
  });

  it("refuses a due list's cursor read with another stage filter, or none, saying whose it is, and changes nothing", async () => {
    // The allocating plans this week, two a page: the first page's positions are past the plans in other stages it read and left out.
    const first = await call('GET', '/plans?due=this-week&stage=allocating&limit=2', { token: coordinator() });
    expect(first.status, first.text).toBe(200);
    const allocatingCursor = first.json.nextCursor as string;
    expect(typeof allocatingCursor).toBe('string');
    const wholeCursor = (await call('GET', '/plans?due=this-week&limit=2', { token: coordinator() })).json.nextCursor as string;
    expect(typeof wholeCursor).toBe('string');
    // Before: 200, a page that began past plans the first page's filter had left out (referred ones skipped).
    for (const [path, whose, asked] of [
      [`/plans?due=this-week&stage=referred&cursor=${allocatingCursor}`, 'GET /plans?due=this-week&stage=allocating (only plans allocating)', 'not GET /plans?due=this-week&stage=referred (only plans referred)'],
      [`/plans?due=this-week&cursor=${allocatingCursor}`, 'GET /plans?due=this-week&stage=allocating (only plans allocating)', 'not GET /plans?due=this-week (every stage)'],
      [`/plans?due=this-week&stage=allocating&cursor=${wholeCursor}`, 'GET /plans?due=this-week (every stage)', 'not GET /plans?due=this-week&stage=allocating (only plans allocating)'],
    ] as const) {
      const res = await call('GET', path, { token: coordinator() });
      expect(res.status, path).toBe(400);
      expect(res.headers.get('content-type'), path).toBe('application/problem+json');
      expect(res.json.errors, path).toEqual([{ path: 'cursor', message: expect.stringContaining(`belongs to another filter, ${whose}, ${asked}`) }]);
      expect(res.json.detail, path).toContain('cursor');
    }
    // A stage-filtered overdue cursor is not one of the escalations list (which has no stage filter).
    const overdueActive = (await call('GET', '/plans?due=overdue&stage=active&limit=1', { token: coordinator() })).json.nextCursor as string;
    expect(typeof overdueActive).toBe('string');
    const onEscalations = await call('GET', `/escalations?cursor=${overdueActive}`, { token: teamLead() });
    expect(onEscalations.status).toBe(400);
    expect(onEscalations.json.errors[0]).toMatchObject({ path: 'cursor', message: expect.stringMatching(/^belongs to another (list|filter)/) });
    // With the stage it was given for, it pages on: the rest of this week's allocating plans, none twice.
    const rest = await pagesOf(`/plans?due=this-week&stage=allocating&limit=2&cursor=${allocatingCursor}`);
    expect([...names(first.json.items), ...rest.flatMap(names)].sort()).toEqual(['abuseHigh', 'dueToday', 'laterThisWeek', 'selfHarm', 'urgent']);
  });

  it('refuses a due or stage it does not know, naming the parameter', async () => {
    for (const [query, field] of [
      ['due=tomorrow', 'due'],
      ['due=OVERDUE', 'due'],
      ['due=', 'due'],
      ['due=today&stage=sleeping', 'stage'],
      ['due=today&stage=none', 'stage'],
    ]) {
      const res = await call('GET', `/plans?${query}`, { token: coordinator() });
      expect(res.status, query).toBe(400);
      expect(res.headers.get('content-type'), query).toBe('application/problem+json');
      expect(res.json.errors.map((e: Json) => e.path), query).toEqual([field]);
      expect(res.json.detail, query).toContain(field);
    }
  });

  it('is for coordinators and team leads only', async () => {
    expect((await call('GET', '/plans?due=today', { token: token('provider', 'anawim') })).status).toBe(403);
    expect((await call('GET', '/plans?due=today', { token: token('commissioner') })).status).toBe(403);
    expect((await call('GET', '/plans?due=today')).status).toBe(401);
  });
});

describe('GET /escalations', () => {
  it('lists the plans with open escalations for team leads, most urgent first, each with what is open', async () => {
    const res = await call('GET', '/escalations', { token: teamLead() });
    expect(res.status).toBe(200);
    const items = res.json.items as Json[];
    expect(names(items)).toEqual(['twoAlerts', 'oneAlert']);
    expect(items[0].escalations.map((e: Json) => e.kind).sort()).toEqual(['no-contact', 'review-overdue']);
    expect(items[1].escalations).toEqual([expect.objectContaining({ kind: 'assessment-overdue' })]);
    for (const item of items) for (const e of item.escalations) expect(e.resolvedAt).toBeUndefined();
  });

  it('is refused to coordinators and providers', async () => {
    expect((await call('GET', '/escalations', { token: coordinator() })).status).toBe(403);
    expect((await call('GET', '/escalations', { token: token('provider', 'bcwa') })).status).toBe(403);
  });

  it('a plan leaves both lists once its escalations are dealt with, and the order follows', async () => {
    // The assessment is submitted: the urgent referral's escalation is resolved.
    await ok('POST', `/plans/${plans.oneAlert}/record-consent`, { body: consent(today()) });
    await ok('POST', `/plans/${plans.oneAlert}/submit-assessment`, { body: { needs: [{ domain: 'mental-health', level: 'high', priority: true }] } });
    expect(names(await worklist('due=overdue'))).toEqual(['twoAlerts']);
    expect(names((await call('GET', '/escalations', { token: teamLead() })).json.items)).toEqual(['twoAlerts']);
    // Now an urgent plan without escalations: it leads the urgent ones in this week's list.
    const week = names(await worklist('due=this-week'));
    expect(week[0]).toBe('twoAlerts');
    expect(week.slice(1, 3).sort()).toEqual(['oneAlert', 'urgent']);
    expect(week.slice(3)).toEqual(['abuseHigh', 'selfHarm', 'dueToday', 'laterThisWeek', 'nextWeek']);
  });
});

describe('more plans than a page', () => {
  /** Referrals never assessed: each escalates once its assessment is overdue, a day's referrals at the same sweep. */
  const crowd: string[] = [];
  const ids = (items: Json[]) => items.map((item) => item.planId as string);
  const latest = (items: Json[]) => items.map(oldestOpen).sort().at(-1) as string;
  const earliest = (items: Json[]) => items.map(oldestOpen).sort()[0] as string;

  beforeAll(async () => {
    for (const day of [0, 1, 2]) {
      if (day > 0) await moveTo(addCalendarDays(wednesday, day));
      for (let i = 0; i < 5; i++) crowd.push(await refer(i % 3 === 0 ? 'urgent' : 'routine'));
    }
    await moveTo(addCalendarDays(wednesday, 21));
  }, 60_000);

  it('GET /escalations pages through every escalated plan once, the longest-open first, each page most urgent first', async () => {
    const whole = (await call('GET', '/escalations?limit=100', { token: teamLead() })).json;
    expect(whole.nextCursor).toBeNull();
    const everyone = ids(whole.items);
    expect(everyone).toEqual(expect.arrayContaining(crowd));
    for (const limit of [1, 4, 7]) {
      const pages = await pagesOf(`/escalations?limit=${limit}`);
      expect(pages.length, `limit ${limit}`).toBeGreaterThanOrEqual(Math.ceil(everyone.length / limit));
      expect(ids(pages.flat()).sort(), `limit ${limit}: each plan once`).toEqual([...everyone].sort());
      pages.forEach((page, k) => {
        expect(page.length, `limit ${limit}, page ${k}`).toBeGreaterThan(0);
        expect(page.length, `limit ${limit}, page ${k}`).toBeLessThanOrEqual(limit);
        // In urgency order, as the whole list is.
        expect(ids(page), `limit ${limit}, page ${k}`).toEqual(everyone.filter((id) => ids(page).includes(id)));
        // Nothing on a page has been escalated for longer than what an earlier page gave.
        if (k > 0) expect(latest(pages[k - 1]!) <= earliest(page), `limit ${limit}, page ${k}`).toBe(true);
      });
    }
  });

  it('a plan worked on between pages is not given again, and none is skipped', async () => {
    const everyone = ids((await call('GET', '/escalations?limit=100', { token: teamLead() })).json.items);
    // Ten: more than the plans escalated before the crowd, so the first page holds some of the crowd.
    const first = (await call('GET', '/escalations?limit=10', { token: teamLead() })).json;
    expect(first.items).toHaveLength(10);
    expect(first.nextCursor).toEqual(expect.any(String));
    // Consent recorded for one on the first page: changed now, still escalated (no assessment yet).
    const worked = (first.items as Json[]).find((item) => crowd.includes(item.planId))!;
    await ok('POST', `/plans/${worked.planId}/record-consent`, { body: consent(today()) });
    const seen = ids(first.items);
    let cursor: string | null = first.nextCursor;
    while (cursor) {
      const res = await call('GET', `/escalations?limit=3&cursor=${encodeURIComponent(cursor)}`, { token: teamLead() });
      expect(res.status, res.text).toBe(200);
      seen.push(...ids(res.json.items));
      cursor = res.json.nextCursor;
    }
    expect(seen.sort()).toEqual([...everyone].sort());
  });

  it('reads on after plans that left the list since their page: the rest come, each once', async () => {
    const everyone = ids((await call('GET', '/escalations?limit=100', { token: teamLead() })).json.items);
    const first = (await call('GET', '/escalations?limit=10', { token: teamLead() })).json;
    const gone = ids(first.items).filter((id) => crowd.includes(id));
    expect(gone.length).toBeGreaterThan(0);
    // Assessed: their escalations are resolved and they leave the index the cursor points into.
    for (const planId of gone) {
      const plan = await ok('GET', `/plans/${planId}`);
      if (plan.stage === 'referred') await ok('POST', `/plans/${planId}/record-consent`, { body: consent(today()) });
      await ok('POST', `/plans/${planId}/submit-assessment`, { body: { needs: [{ domain: 'mental-health', level: 'high', priority: true }] } });
    }
    const rest = (await pagesOf(`/escalations?limit=3&cursor=${encodeURIComponent(first.nextCursor)}`)).flat();
    expect([...ids(first.items), ...ids(rest)].sort()).toEqual([...everyone].sort());
    expect(ids(rest)).not.toEqual(expect.arrayContaining([gone[0]]));
  });

  it('the due lists page too: every plan once, every escalated plan before the rest', async () => {
    for (const due of ['overdue', 'this-week']) {
      const everyone = ids(await worklist(`due=${due}&limit=100`));
      const pages = await pagesOf(`/plans?due=${due}&limit=6`);
      expect(pages.length, due).toBeGreaterThan(1);
      const listed = pages.flat();
      expect(ids(listed).sort(), due).toEqual([...everyone].sort());
      const escalated = listed.map((item) => item.openEscalations.length > 0);
      expect(escalated, due).toEqual([...escalated].sort((a, b) => Number(b) - Number(a)));
      expect(escalated.filter(Boolean).length, due).toBeGreaterThanOrEqual(crowd.length);
    }
  });
});
