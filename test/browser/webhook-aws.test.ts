/**
 * The webhook page where delivery is configured at deploy (AWS). The browser runs against the
 * embedded stack, but its GET /providers/{id}/subscriptions is answered by the providers API as AWS
 * builds it (deploy-configured delivery; bcwa's URL configured, anawim's not), so the page sees
 * exactly what it would see there. It must show the destination and the API key header, and offer
 * nothing that would not work: no subscribe form, no rotate or remove button, no delivery log read.
 */
import type { Route } from 'playwright-core';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeHandler as makeProvidersApi } from '../../functions/api-providers/handler.ts';
import { DynamoAuditLog } from '../../lib/adapters/dynamodb/audit-log.ts';
import { deployConfigured, WEBHOOK_KEY_HEADER } from '../../lib/adapters/events/provider-destinations.ts';
import { CLAIMS, lambdaEvent } from '../support/lambda-event.ts';
import { axeScan, describeViolations, screenshot, signIn, startHarness, visit, type Harness } from './support.ts';

const BCWA_URL = 'https://hooks.bcwa.example/wraparound';

let h: Harness;
let onAws: ReturnType<typeof makeProvidersApi>;
beforeAll(async () => {
  h = await startHarness();
  onAws = makeProvidersApi({
    plans: h.stack.plans,
    audit: new DynamoAuditLog(h.stack.plans.client, h.stack.plans.tableName),
    clock: () => h.stack.clock.now(),
    webhooks: h.stack.webhooks.store,
    providerIds: h.stack.directory.organizations.map((o) => o.id),
    delivery: deployConfigured({ bcwa: BCWA_URL }),
  });
});
afterAll(async () => {
  await h?.stop();
});

/**
 * Answer the page's webhook API calls as AWS would (the caller's claims as the JWT authorizer would
 * pass them); note every other provider-route request the page makes.
 */
async function asOnAws(page: import('playwright-core').Page, claims: Record<string, unknown>) {
  const others: string[] = [];
  await page.route(
    (url) => url.pathname.startsWith('/providers/'),
    async (route: Route) => {
      const request = route.request();
      const url = new URL(request.url());
      const match = /^\/providers\/([^/]+)\/subscriptions$/.exec(url.pathname);
      if (!match || request.method() !== 'GET') {
        others.push(`${request.method()} ${url.pathname}`);
        return route.continue();
      }
      const providerId = decodeURIComponent(match[1] as string);
      const result = await onAws(lambdaEvent({ routeKey: 'GET /providers/{providerId}/subscriptions', rawPath: url.pathname, pathParameters: { providerId }, claims }), {} as Context);
      return route.fulfill({ status: result.statusCode, headers: result.headers as Record<string, string>, body: String(result.body) });
    },
  );
  return others;
}

describe('the webhook page on AWS', () => {
  it('a team lead sees the configured URL and the key header, no form to subscribe, rotate or remove, and no delivery log', async () => {
    const { page, errors } = await h.page();
    const others = await asOnAws(page, CLAIMS.teamLead());
    await signIn(h, page, 'Demo team-lead');
    await visit(h, page, '/webhook?provider=bcwa');
    const destination = page.locator('#destination');
    await destination.getByText(BCWA_URL).waitFor();
    await destination.getByText(WEBHOOK_KEY_HEADER).waitFor();
    await page.getByText('No delivery log is kept on this deployment').waitFor();
    expect(await page.getByRole('form', { name: 'Subscribe a webhook' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: /Subscribe|Rotate secret|Remove the subscription|Replay/ }).count()).toBe(0);
    expect(await page.getByText('Standard Webhooks').count()).toBe(0);
    expect(await page.getByText('No active webhook').count()).toBe(0);
    expect(others.filter((o) => o.includes('/deliveries'))).toEqual([]);
    const violations = await axeScan(page);
    expect(violations, describeViolations(violations)).toEqual([]);
    await screenshot(page, 'team-lead-webhook-on-aws');

    // A provider whose URL the deploy has not set: said plainly, no placeholder address to puzzle over.
    await page.getByLabel('Provider').selectOption('anawim');
    await page.getByText('No webhook URL is set for this provider yet').waitFor();
    await destination.getByText('Not set yet').waitFor();
    expect(await page.content()).not.toContain('.invalid');
    expect(await page.getByRole('form', { name: 'Subscribe a webhook' }).count()).toBe(0);
    expect(errors).toEqual([]);
  });

  it('the provider sees where its events go and that the operators set it', async () => {
    const { page, errors } = await h.page();
    const others = await asOnAws(page, CLAIMS.provider('bcwa'));
    await signIn(h, page, "Black Country Women's Aid");
    await visit(h, page, '/webhook');
    await page.locator('#destination').getByText(BCWA_URL).waitFor();
    await page.getByText('ask a team lead, who asks the operators', { exact: false }).waitFor();
    expect(await page.getByRole('button', { name: /Rotate secret|Replay/ }).count()).toBe(0);
    expect(others.filter((o) => o.includes('/deliveries'))).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('on the embedded stack the same page offers to subscribe (the control)', async () => {
    const { page, errors } = await h.page();
    await signIn(h, page, 'Demo team-lead');
    await visit(h, page, '/webhook?provider=changing-lives');
    await page.getByRole('form', { name: 'Subscribe a webhook' }).waitFor();
    expect(await page.locator('#destination').count()).toBe(0);
    expect(errors).toEqual([]);
  });
});
