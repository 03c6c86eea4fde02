/**
 * Every main page, for every role, with real data behind it: axe-core (WCAG 2.0-2.2 A and AA) finds
 * no serious or critical violation at desktop width (nor, for the rules that depend on layout, at
 * 360 px), the page never scrolls sideways at
 * 360 px, and a screenshot of each is saved to test-artifacts/screenshots/.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptAll, axeScan, describeViolations, DESKTOP, horizontalOverflow, LAYOUT_RULES, MOBILE, planActive, planAllocating, screenshot, signIn, startHarness, visit, type Harness, type Json } from './support.ts';

let h: Harness;
let receiver: Server;
const plans: Record<string, Json> = {};

beforeAll(async () => {
  // A webhook receiver for Black Country Women's Aid that refuses acceptances (dead-lettered at once) and takes the rest.
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      res.writeHead(body.includes('allocation.accepted') ? 500 : 204);
      res.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  h = await startHarness({ webhooks: { intervalMs: 0, retrySchedule: [] } });
  const coordinator = h.token('coordinator');
  const hook = await h.call('POST', '/providers/bcwa/subscriptions', h.token('team-lead'), { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook` });
  expect(hook.status, hook.text).toBe(201);

  // Referred, then left: its assessment falls overdue and is escalated.
  const referred = await h.call('POST', '/plans', coordinator, {
    participant: { givenName: 'Ada', familyName: 'Waiting', dateOfBirth: '1985-02-03' },
    referral: { source: 'probation', localAuthority: 'walsall', urgency: 'urgent' },
  });
  plans.referred = referred.json;
  await h.stack.advanceClock(15 * 86_400_000, 5 * 86_400_000);

  const assessment = await h.call('POST', '/plans', coordinator, {
    participant: { givenName: 'Bea', familyName: 'Assessed', dateOfBirth: '1992-06-07' },
    referral: { source: 'problem-solving-court', localAuthority: 'birmingham', urgency: 'routine' },
  });
  await h.call('POST', `/plans/${assessment.json.planId}/record-consent`, coordinator, { scope: { shareWithProviders: true, dataCategories: ['needs', 'risks'] }, givenAt: h.stack.clock.now().slice(0, 10), method: 'verbal' });
  plans.assessment = assessment.json;
  // Allocating, with a need no partner serves in the area (a gap).
  plans.allocating = await planAllocating(h, {
    needs: [
      { domain: 'domestic-abuse', level: 'high', priority: true, goals: ['Safety plan in place'] },
      { domain: 'accommodation', level: 'medium', priority: true },
      { domain: 'sexual-exploitation', level: 'low', priority: false },
    ],
  });
  const active = await planActive(h, {
    needs: [
      { domain: 'domestic-abuse', level: 'high', priority: true, goals: ['Feel safe at home'] },
      { domain: 'mental-health', level: 'medium', priority: false },
    ],
    share: ['needs', 'risks', 'adjustments'],
  });
  const bcwa = active.allocations.find((a: Json) => a.providerId === 'bcwa' && a.status === 'accepted');
  await h.call('POST', `/allocations/${bcwa.allocationId}/record-contact`, h.token('provider', 'bcwa'), { date: h.stack.clock.now().slice(0, 10), kind: 'attended' });
  for (const scores of [{ 'domestic-abuse': 3, 'mental-health': 4 }, { 'domestic-abuse': 5, 'mental-health': 4 }])
    expect((await h.call('POST', `/plans/${active.planId}/record-review`, coordinator, { scores, outcome: 'continue', participantWords: 'Getting there.' })).status).toBe(200);
  plans.active = active;
  plans.bcwaAllocation = bcwa;
  const exited = await acceptAll(h, await planAllocating(h, { localAuthority: 'dudley', needs: [{ domain: 'mental-health', level: 'high', priority: true }] }));
  await h.call('POST', `/plans/${exited.planId}/record-review`, coordinator, { scores: { 'mental-health': 4 }, outcome: 'continue' });
  await h.call('POST', `/plans/${exited.planId}/record-review`, coordinator, { scores: { 'mental-health': 8 }, outcome: 'exit', exitReason: 'completed' });
  plans.exited = exited;
  await h.stack.webhooks.runOnce();
});

afterAll(async () => {
  await h?.stop();
  await new Promise((resolve) => receiver?.close(resolve));
});

interface Check {
  name: string;
  path: () => string;
  ready: (page: Page) => Promise<unknown>;
  /** Something to do once the page is there (open a form, show errors). */
  then?: (page: Page) => Promise<unknown>;
}

/**
 * All the pages at desktop width, then all at 360 px, moving inside the app as its links do (so the
 * app and axe load once per size): axe, the sideways-scroll check and a screenshot of each.
 */
async function checkPages(page: Page, errors: string[], checks: Check[]) {
  const problems: string[] = [];
  for (const [size, viewport] of [
    ['desktop', DESKTOP],
    ['mobile', MOBILE],
  ] as const) {
    await page.setViewportSize(viewport);
    for (const check of checks) {
      await visit(h, page, check.path());
      await check.ready(page);
      await check.then?.(page);
      // Everything at desktop width; at 360 px again what depends on the layout.
      const violations = await axeScan(page, size === 'mobile' ? LAYOUT_RULES : undefined);
      if (violations.length) problems.push(`${check.name} (${size}):\n${describeViolations(violations)}`);
      if (size === 'mobile') {
        const overflow = await horizontalOverflow(page);
        if (overflow > 0) problems.push(`${check.name} (mobile): the page scrolls sideways by ${overflow} px at 360 px`);
      }
      await screenshot(page, `${check.name}-${size}`);
    }
  }
  expect(problems.join('\n\n')).toBe('');
  expect(errors).toEqual([]);
}

const heading = (name: string | RegExp) => (page: Page) => page.getByRole('heading', { level: 1, name }).waitFor();
const region = (name: string) => (page: Page) => page.getByRole('region', { name }).waitFor();

describe('accessibility and small screens', () => {
  it('sign-in page', async () => {
    const { page, errors } = await h.page();
    await checkPages(page, errors, [{ name: 'sign-in', path: () => '/sign-in', ready: (p) => p.getByRole('button', { name: 'Sign in as Demo coordinator' }).waitFor() }]);
  });

  it('coordinator pages', async () => {
    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo coordinator');
    await checkPages(page, errors, [
      { name: 'coordinator-worklist', path: () => '/worklist', ready: (p) => p.getByRole('link', { name: `Plan ${plans.referred.planId}` }).waitFor() },
      {
        name: 'coordinator-referral-errors',
        path: () => '/referrals/new',
        ready: heading('New referral'),
        then: async (p) => {
          await p.getByRole('button', { name: 'Create the plan' }).click();
          await p.locator('.error-summary').waitFor();
        },
      },
      { name: 'coordinator-plan-referred', path: () => `/plan/${plans.referred.planId}`, ready: region('Record consent') },
      {
        name: 'coordinator-plan-assessment',
        path: () => `/plan/${plans.assessment.planId}`,
        ready: region('Holistic needs assessment'),
        then: (p) => p.getByLabel('Mental health', { exact: true }).check(),
      },
      {
        name: 'coordinator-plan-allocating',
        path: () => `/plan/${plans.allocating.planId}`,
        ready: region('Allocation proposal'),
        then: (p) => p.getByText('Offer a need to another service (manual override)').click(),
      },
      { name: 'coordinator-plan-active', path: () => `/plan/${plans.active.planId}`, ready: (p) => p.getByRole('img', { name: /Scores by need across reviews/ }).waitFor() },
      { name: 'coordinator-plan-exited', path: () => `/plan/${plans.exited.planId}`, ready: region('Follow-up') },
    ]);
  });

  it('team lead pages', async () => {
    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo team-lead');
    await checkPages(page, errors, [
      { name: 'team-lead-escalations', path: () => '/escalated', ready: (p) => p.getByRole('link', { name: `Plan ${plans.referred.planId}` }).waitFor() },
      { name: 'team-lead-webhooks', path: () => '/webhook?provider=bcwa', ready: (p) => p.getByRole('button', { name: 'Remove the subscription' }).waitFor() },
      { name: 'team-lead-audit-log', path: () => `/audit-log?plan=${plans.active.planId}`, ready: (p) => p.getByRole('region', { name: /records shown/ }).waitFor() },
    ]);
  });

  it('provider pages', async () => {
    const { page, errors } = await h.page();
    await signIn(h, page, "Black Country Women's Aid");
    await checkPages(page, errors, [
      { name: 'provider-inbox', path: () => '/inbox', ready: (p) => p.getByRole('list', { name: '1 open offer' }).waitFor(), then: (p) => p.getByText('Decline…').click() },
      { name: 'provider-caseload', path: () => '/caseload', ready: (p) => p.getByRole('link', { name: 'Domestic abuse' }).first().waitFor() },
      { name: 'provider-allocation', path: () => `/caseload/${plans.bcwaAllocation.allocationId}`, ready: region('Record a session') },
      { name: 'provider-webhook', path: () => '/webhook', ready: (p) => p.getByRole('button', { name: 'Replay' }).first().waitFor() },
    ]);
  });

  it('commissioner dashboard', async () => {
    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo commissioner');
    await checkPages(page, errors, [
      {
        name: 'commissioner-dashboard',
        path: () => '/dashboard?breakdown=needDomain',
        ready: region('Headline figures'),
        then: (p) => p.getByText('Show the data of “Offer acceptance rate by provider”').click(),
      },
    ]);
  });
});
