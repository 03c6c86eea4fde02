/**
 * Browser-test support: an embedded stack (in memory, free port, simulated clock) serving the built
 * web app, Debian's Chromium driven by playwright-core, and helpers to sign in, drive the API quickly,
 * save screenshots and run axe-core.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { startEmbeddedStack, type EmbeddedOptions, type EmbeddedStack } from '../../lib/local/embedded-stack.ts';
import type { Role } from '../../lib/api/routes.ts';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOTS = new URL('../../test-artifacts/screenshots/', import.meta.url);
export const DESKTOP = { width: 1280, height: 860 };
export const MOBILE = { width: 360, height: 780 };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export interface Harness {
  stack: EmbeddedStack;
  browser: Browser;
  url: string;
  token(role: Role, providerId?: string): string;
  call(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; json: Json; text: string }>;
  /** A fresh browser context (its own session storage) with one page; console errors are collected. */
  page(viewport?: { width: number; height: number }): Promise<{ page: Page; context: BrowserContext; errors: string[] }>;
  stop(): Promise<void>;
}

export async function startHarness(options: Partial<EmbeddedOptions> = {}): Promise<Harness> {
  const stack = await startEmbeddedStack({ inMemory: true, port: 0, sweepIntervalMs: 0, clockMode: 'simulated', webhooks: { intervalMs: 0 }, ...options });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const contexts: BrowserContext[] = [];
  const token = (role: Role, providerId?: string) => {
    const user = stack.demoUsers.find((u) => u.role === role && (providerId === undefined || u.providerId === providerId));
    if (!user) throw new Error(`no demo user ${role} ${providerId ?? ''}`);
    return user.token;
  };
  let keys = 0;
  return {
    stack,
    browser,
    url: stack.url,
    token,
    async call(method, path, bearer, body) {
      const response = await fetch(`${stack.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${bearer}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(method === 'POST' ? { 'idempotency-key': `browser-test-${process.pid}-${(keys += 1)}` } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await response.text();
      let json: Json;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      return { status: response.status, json, text };
    },
    async page(viewport = DESKTOP) {
      const context = await browser.newContext({ viewport, locale: 'en-GB', timezoneId: 'Europe/London', acceptDownloads: true });
      contexts.push(context);
      const page = await context.newPage();
      page.setDefaultTimeout(10_000);
      const errors: string[] = [];
      page.on('console', (m) => {
        // A failed API call the page shows as an error is logged by the browser as a resource error; that is expected.
        if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(e.message));
      return { page, context, errors };
    },
    async stop() {
      for (const c of contexts) await c.close().catch(() => undefined);
      await browser.close().catch(() => undefined);
      await stack.stop();
    },
  };
}

/** Open the app and pick a demo user on the sign-in page, as a person would. */
export async function signIn(h: Harness, page: Page, name: string, path = '/') {
  await page.goto(`${h.url}${path}`);
  await page.getByRole('button', { name: `Sign in as ${name}`, exact: true }).click();
  await expect.poll(() => new URL(page.url()).pathname).not.toBe('/sign-in');
}

export async function screenshot(page: Page, name: string) {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: new URL(`${name}.png`, SCREENSHOTS).pathname, fullPage: true });
}

let axeSource: string | undefined;

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[]; failureSummary?: string }[];
}

/** Rules whose outcome can change with the width of the window (colours do not): checked again at 360 px. */
export const LAYOUT_RULES = ['target-size', 'scrollable-region-focusable', 'meta-viewport', 'nested-interactive'];

/**
 * axe-core against WCAG 2.0-2.2 A and AA (and axe's best practices), or only the given rules;
 * returns the serious and critical violations.
 */
export async function axeScan(page: Page, rules?: string[]): Promise<AxeViolation[]> {
  axeSource ??= await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  if (!(await page.evaluate(() => 'axe' in globalThis))) await page.evaluate(axeSource);
  const runOnly = rules ? { type: 'rule', values: rules } : { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] };
  const results = (await page.evaluate((only) => {
    const w = globalThis as unknown as { axe: { run(context: unknown, options: object): Promise<{ violations: AxeViolation[] }> }; document: unknown };
    return w.axe.run(w.document, { runOnly: only, resultTypes: ['violations'] });
  }, runOnly)) as { violations: AxeViolation[] };
  return results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

export const describeViolations = (violations: AxeViolation[]) =>
  violations.map((v) => `${v.id} (${v.impact}): ${v.help}\n${v.nodes.map((n) => `  ${JSON.stringify(n.target)} ${n.failureSummary ?? ''}`).join('\n')}`).join('\n');

/** Nothing wider than the window: no sideways scrolling of the page itself at 360 px. */
export async function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(() => {
    const root = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document.documentElement;
    return root.scrollWidth - root.clientWidth;
  });
}

/** Move to a path inside the app without reloading it (as its links do); load it when not there yet. */
export async function visit(h: Harness, page: Page, path: string) {
  if (!page.url().startsWith(h.url)) {
    await page.goto(`${h.url}${path}`);
    return;
  }
  await page.evaluate((to) => {
    const w = globalThis as unknown as { history: { pushState(state: null, title: string, url: string): void }; dispatchEvent(event: unknown): void; Event: new (type: string) => unknown };
    w.history.pushState(null, '', to);
    w.dispatchEvent(new w.Event('wraparound:navigate'));
  }, path);
}

// ---------------------------------------------------------------------------------------------
// The API, to set up what a test is not about quickly

export interface NeedSpec {
  domain: string;
  level: 'low' | 'medium' | 'high';
  priority: boolean;
  goals?: string[];
}

let people = 0;

/** A referral with consent and an assessment: the plan is allocating, its offers out. */
export async function planAllocating(h: Harness, options: { localAuthority?: string; source?: string; needs: NeedSpec[]; share?: string[] }): Promise<Json> {
  const coordinator = h.token('coordinator');
  people += 1;
  const referred = await h.call('POST', '/plans', coordinator, {
    participant: { givenName: `Test${people}`, familyName: `Person${process.pid}`, dateOfBirth: `19${String(60 + (people % 39)).padStart(2, '0')}-0${1 + (people % 9)}-1${people % 10}` },
    referral: { source: options.source ?? 'custody-diversion', localAuthority: options.localAuthority ?? 'sandwell', urgency: 'routine' },
  });
  expect(referred.status, referred.text).toBe(201);
  const planId = referred.json.planId as string;
  const today = h.stack.clock.now().slice(0, 10);
  const consent = await h.call('POST', `/plans/${planId}/record-consent`, coordinator, { scope: { shareWithProviders: true, dataCategories: options.share ?? ['needs'] }, givenAt: today, method: 'written' });
  expect(consent.status, consent.text).toBe(200);
  const assessed = await h.call('POST', `/plans/${planId}/submit-assessment`, coordinator, { needs: options.needs });
  expect(assessed.status, assessed.text).toBe(200);
  return assessed.json;
}

/** Every open offer of the plan accepted by its provider. */
export async function acceptAll(h: Harness, plan: Json): Promise<Json> {
  for (const a of plan.allocations.filter((x: Json) => x.status === 'offered')) {
    const r = await h.call('POST', `/allocations/${a.allocationId}/accept`, h.token('provider', a.providerId), {});
    expect(r.status, r.text).toBe(200);
  }
  return (await h.call('GET', `/plans/${plan.planId}`, h.token('coordinator'))).json;
}

export async function planActive(h: Harness, options: Parameters<typeof planAllocating>[1]): Promise<Json> {
  const active = await acceptAll(h, await planAllocating(h, options));
  expect(active.stage).toBe('active');
  return active;
}
