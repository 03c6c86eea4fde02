/**
 * Webhook targets (SSRF): on AWS a webhook must be https to a public host; on the embedded stack
 * this machine is allowed too (plain http to it as well). The policy is tested as a pure function,
 * then where it is used. On AWS URLs are set at deploy (-c providerWebhooks), so there the policy
 * holds the synth and api-providers' start, and subscribing through the API takes no URL at all. On
 * the embedded stack it holds when subscribing (what the URL says: a literal IP in any spelling the
 * URL parser normalises, or a name) and when delivering (the addresses the name resolves to at
 * connection time, so a name re-pointed after subscribing, DNS rebinding, reaches nothing private).
 * DNS is played by a resolver the test hands the delivery loop.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, LookupFunction } from 'node:net';
import type { LookupAddress } from 'node:dns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Context } from 'aws-lambda';
import { makeHandler as makeProvidersApi } from '../../functions/api-providers/handler.ts';
import { DynamoAuditLog } from '../../lib/adapters/dynamodb/audit-log.ts';
import { startSecurityStack, type SecurityStack } from './support.ts';
import { anotherParticipant, consent, referral, type Json } from '../support/http.ts';
import { CLAIMS, lambdaEvent } from '../support/lambda-event.ts';
import { guardLookup, hostProblem, parseIpv6, webhookUrlProblem } from '../../lib/local/webhooks/url-policy.ts';
import { App, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import { ProviderDelivery } from '../../lib/infra/provider-delivery.ts';
import { stageConfig } from '../../lib/infra/stage-config.ts';
import { deployConfigured, PROVIDER_WEBHOOKS_ENV, readProviderWebhooks } from '../../lib/adapters/events/provider-destinations.ts';

const PROVIDER_IDS = ['anawim', 'bcwa', 'changing-lives', 'green-square-accord'];

const aws = { embedded: false };
const embedded = { embedded: true };

describe('webhookUrlProblem on AWS (not embedded)', () => {
  it.each([
    'https://receiver.example.org/hooks',
    'https://hooks.anawim.org.uk:8443/wraparound?tenant=1',
    'https://8.8.8.8/hook',
    'https://[2606:4700:4700::1111]/hook',
    'https://172.32.0.1/hook', // just outside 172.16/12
    'https://192.169.0.1/hook',
    'https://11.0.0.1/hook',
    'https://localhost.example.org/hook',
  ])('accepts %s', (url) => {
    expect(webhookUrlProblem(url, aws)).toBeUndefined();
  });

  it.each([
    ['http://receiver.example.org/hooks', 'must use https'],
    ['http://127.0.0.1:8080/hooks', 'must use https'],
    ['http://localhost/hooks', 'must use https'],
    ['ftp://receiver.example.org/', 'must use https, not ftp'],
    ['file:///etc/passwd', 'must use https, not file'],
    ['receiver.example.org/hooks', 'is not an absolute URL'],
    ['https://user:pw@receiver.example.org/', 'must not carry a user name or password: the signature authenticates each delivery'],
    ['https://receiver.example.org/#frag', 'must not have a #fragment'],
  ])('refuses %s: %s', (url, problem) => {
    expect(webhookUrlProblem(url, aws)).toBe(problem);
  });

  it.each([
    // private
    ['https://10.0.0.8/hook', 'private'],
    ['https://10.255.255.255/hook', 'private'],
    ['https://172.16.0.1/hook', 'private'],
    ['https://172.31.255.254/hook', 'private'],
    ['https://192.168.1.10/hook', 'private'],
    // loopback, in every spelling the URL parser turns into 127.0.0.1
    ['https://127.0.0.1/hook', 'loopback'],
    ['https://127.1.2.3:9000/hook', 'loopback'],
    ['https://2130706433/hook', 'loopback'],
    ['https://0x7f000001/hook', 'loopback'],
    ['https://0177.0.0.1/hook', 'loopback'],
    ['https://127.1/hook', 'loopback'],
    // link-local: the instance metadata service among them
    ['https://169.254.169.254/latest/meta-data/', 'link-local'],
    ['https://169.254.0.1/hook', 'link-local'],
    // other non-public IPv4
    ['https://0.0.0.0/hook', '"this network"'],
    ['https://100.64.0.1/hook', 'shared (carrier-grade NAT)'],
    ['https://224.0.0.1/hook', 'multicast'],
    ['https://255.255.255.255/hook', 'reserved'],
    // IPv6
    ['https://[::1]/hook', 'loopback'],
    ['https://[0:0:0:0:0:0:0:1]/hook', 'loopback'],
    ['https://[::]/hook', 'unspecified'],
    ['https://[fc00::1]/hook', 'unique local (private)'],
    ['https://[fd12:3456:789a::1]/hook', 'unique local (private)'],
    ['https://[fd00:ec2::254]/latest/meta-data/', 'unique local (private)'],
    ['https://[fe80::1]/hook', 'link-local'],
    ['https://[febf:ffff::1]/hook', 'link-local'],
    ['https://[ff02::1]/hook', 'multicast'],
    // IPv4 inside IPv6: the IPv4 address decides
    ['https://[::ffff:127.0.0.1]/hook', 'loopback (IPv4 in IPv6)'],
    ['https://[::ffff:10.1.2.3]/hook', 'private (IPv4 in IPv6)'],
    ['https://[::ffff:a9fe:a9fe]/hook', 'link-local (IPv4 in IPv6)'],
    ['https://[64:ff9b::192.168.0.1]/hook', 'private (IPv4 in IPv6)'],
  ])('refuses %s (%s)', (url, range) => {
    const problem = webhookUrlProblem(url, aws);
    expect(problem).toMatch(/^must not point at a /);
    expect(problem).toContain(`${range} address`);
  });

  it.each([
    ['https://localhost/hook', 'must not point at this machine'],
    ['https://LOCALHOST./hook', 'must not point at this machine'],
    ['https://api.localhost/hook', 'must not point at this machine'],
    ['https://printer.local/hook', 'must not point at an internal name (*.local)'],
    ['https://ip-10-0-0-1.eu-west-2.compute.internal/hook', 'must not point at an internal name (*.internal)'],
    ['https://metadata.google.internal/computeMetadata/v1/', 'must not point at an internal name (*.internal)'],
    ['https://router.home.arpa/hook', 'must not point at an internal name (*.home.arpa)'],
    ['https://intranet/hook', 'must be a fully qualified public host name'],
  ])('refuses the name in %s', (url, problem) => {
    expect(webhookUrlProblem(url, aws)).toContain(problem);
  });

  it('keeps public addresses that merely look close to private ones', () => {
    for (const host of ['9.255.255.255', '100.128.0.1', '126.255.255.255', '128.0.0.1', '169.253.255.255', '169.255.0.1', '172.15.255.255', '192.167.255.255', '223.255.255.255'])
      expect(hostProblem(host), host).toBeUndefined();
    for (const host of ['[2001:4860:4860::8888]', '[fbff::1]', '[fe7f::1]', '[ff0::1]']) expect(hostProblem(host), host).toBeUndefined();
  });
});

describe('webhookUrlProblem on the embedded stack', () => {
  it.each([
    ['http://127.0.0.1:8080/hooks', undefined],
    ['http://localhost/hooks', undefined],
    ['http://[::1]:9000/', undefined],
    ['https://receiver.example.org/hooks', undefined],
    ['https://localhost/hooks', undefined],
    ['https://10.0.0.8/hooks', 'must not point at a private address (10.0.0.8)'],
    ['https://169.254.169.254/latest/meta-data/', 'must not point at a link-local address (169.254.169.254)'],
    ['https://[::ffff:127.0.0.1]/hooks', 'must not point at a loopback (IPv4 in IPv6) address ([::ffff:7f00:1])'],
    ['https://printer.local/hooks', 'must not point at an internal name (*.local)'],
    ['http://receiver.example.org/hooks', 'must use https (plain http is allowed only to localhost, 127.0.0.1 or [::1])'],
    ['http://10.0.0.8/hooks', 'must use https (plain http is allowed only to localhost, 127.0.0.1 or [::1])'],
    ['http://169.254.169.254/latest/meta-data/', 'must use https (plain http is allowed only to localhost, 127.0.0.1 or [::1])'],
    ['http://127.0.0.2/hooks', 'must use https (plain http is allowed only to localhost, 127.0.0.1 or [::1])'],
    ['ftp://receiver.example.org/', 'must use https, not ftp'],
    ['https://user:pw@localhost/', 'must not carry a user name or password: the signature authenticates each delivery'],
  ])('%s → %s', (url, problem) => {
    expect(webhookUrlProblem(url, embedded)).toBe(problem);
  });
});

describe('parseIpv6', () => {
  it.each([
    ['::1', [0, 0, 0, 0, 0, 0, 0, 1]],
    ['::', [0, 0, 0, 0, 0, 0, 0, 0]],
    ['fe80::1:2', [0xfe80, 0, 0, 0, 0, 0, 1, 2]],
    ['2001:db8:0:0:0:0:2:1', [0x2001, 0xdb8, 0, 0, 0, 0, 2, 1]],
    ['::ffff:10.0.0.1', [0, 0, 0, 0, 0, 0xffff, 0x0a00, 1]],
    ['64:ff9b::1.2.3.4', [0x64, 0xff9b, 0, 0, 0, 0, 0x0102, 0x0304]],
  ])('%s', (text, groups) => {
    expect(parseIpv6(text)).toEqual(groups);
  });

  it.each(['1:2:3:4:5:6:7:8:9', '1::2::3', 'g::1', '1:2:3', '::1.2.3.256', 'fe80::1%eth0'])('refuses %s', (text) => {
    expect(parseIpv6(text)).toBeUndefined();
  });
});

describe('where the check is used on AWS: the webhook URLs a deploy configures', () => {
  /** The provider delivery of a stack synthesized with these providerWebhooks (as -c providerWebhooks gives them). */
  function synthDelivery(providerWebhooks: Record<string, string>) {
    const stack = new Stack(new App(), 'WebhookUrlPolicy');
    return new ProviderDelivery(stack, 'ProviderDelivery', {
      config: stageConfig('dev', { providerWebhooks }),
      bus: new events.EventBus(stack, 'Bus'),
      key: new kms.Key(stack, 'Key'),
      providerIds: PROVIDER_IDS,
      source: 'wraparound',
    });
  }

  // IP literals and single-label names already fail the stage config's https-URL-of-a-domain rule;
  // the rest of the policy (internal names, credentials, fragments) is the synth's own check.
  it.each([
    'https://10.0.0.8/hook',
    'https://169.254.169.254/latest/meta-data/',
    'https://[fd00:ec2::254]/latest/meta-data/',
    'https://0x7f000001/hook',
    'https://[::ffff:10.1.2.3]/hook',
    'https://localhost/hook',
    'http://127.0.0.1:9000/hook',
    'https://metadata.google.internal/computeMetadata/v1/',
    'https://printer.local/hook',
    'https://api.localhost/hook',
    'https://router.home.arpa/hook',
    'https://user:pw@receiver.example.org/hook',
    'https://receiver.example.org/hook#frag',
  ])('the synth refuses %s, naming the provider', (url) => {
    expect(webhookUrlProblem(url, aws)).toBeDefined();
    expect(() => synthDelivery({ bcwa: url })).toThrow(/providerWebhooks\.bcwa: /);
  });

  it.each([
    ['https://metadata.google.internal/computeMetadata/v1/', 'must not point at an internal name (*.internal)'],
    ['https://printer.local/hook', 'must not point at an internal name (*.local)'],
    ['https://api.localhost/hook', 'must not point at this machine'],
    ['https://user:pw@receiver.example.org/hook', 'must not carry a user name or password'],
  ])('%s: the synth says the rule (%s), and api-providers refuses it at start too', (url, rule) => {
    expect(() => synthDelivery({ bcwa: url })).toThrow(`providerWebhooks.bcwa: the URL ${rule}`);
    expect(() => readProviderWebhooks({ [PROVIDER_WEBHOOKS_ENV]: JSON.stringify({ bcwa: url }) }, PROVIDER_IDS)).toThrow(`PROVIDER_WEBHOOKS.bcwa: the URL ${rule}`);
  });

  it('an https URL on a public host is the destination (the control)', () => {
    const delivery = synthDelivery({ bcwa: 'https://receiver.example.org/hooks' });
    expect(delivery.configuredEndpoints).toEqual({ bcwa: 'https://receiver.example.org/hooks' });
  });
});

describe('where the check is used: POST /providers/{id}/subscriptions', () => {
  let s: SecurityStack;
  /** The providers API as AWS builds it: delivery configured at deploy, so no URL is taken at all. */
  let onAws: ReturnType<typeof makeProvidersApi>;
  let providers: string[];

  beforeAll(async () => {
    s = await startSecurityStack();
    providers = s.stack.directory.organizations.map((o) => o.id);
    onAws = makeProvidersApi({
      plans: s.stack.plans,
      audit: new DynamoAuditLog(s.stack.plans.client, s.stack.plans.tableName),
      clock: () => s.stack.clock.now(),
      webhooks: s.stack.webhooks.store,
      providerIds: providers,
      delivery: deployConfigured({}),
    });
  });
  afterAll(async () => {
    await s?.stop();
  });

  /** A team lead's POST /providers/{providerId}/subscriptions, as API Gateway would pass it to the Lambda. */
  async function subscribeOnAws(providerId: string, url: string) {
    const rawPath = `/providers/${providerId}/subscriptions`;
    const event = lambdaEvent({ routeKey: 'POST /providers/{providerId}/subscriptions', rawPath, pathParameters: { providerId }, claims: CLAIMS.teamLead('team-lead-1'), body: { url } });
    const result = await onAws(event, {} as Context);
    return { status: result.statusCode, json: JSON.parse(String(result.body)) as Record<string, unknown> };
  }

  it.each(['https://10.0.0.8/hook', 'https://169.254.169.254/latest/meta-data/', 'http://127.0.0.1:9000/hook', 'https://receiver.example.org/hooks'])(
    'on AWS takes no URL, private or public: %s is refused (409, the deploy sets URLs) and nothing is stored',
    async (url) => {
      const providerId = providers[0] as string;
      const res = await subscribeOnAws(providerId, url);
      expect(res.status, JSON.stringify(res.json)).toBe(409);
      expect(res.json.detail).toContain('context providerWebhooks');
      expect(await s.stack.webhooks.store.listSubscriptions(providerId)).toEqual([]);
    },
  );

  it('on the embedded stack allows this machine, plain http to it only, and no private address', async () => {
    const [, , first, second] = providers as [string, string, string, string];
    const metadata = await s.call('POST', `/providers/${second}/subscriptions`, { token: s.teamLead, body: { url: 'http://169.254.169.254/latest/meta-data/' } });
    expect(metadata.status, metadata.text).toBe(400);
    expect(metadata.json.errors).toEqual([{ path: 'url', message: webhookUrlProblem('http://169.254.169.254/latest/meta-data/', embedded) }]);
    const lan = await s.call('POST', `/providers/${second}/subscriptions`, { token: s.teamLead, body: { url: 'https://10.0.0.8/hook' } });
    expect(lan.status, lan.text).toBe(400);
    expect(lan.json.errors).toEqual([{ path: 'url', message: 'must not point at a private address (10.0.0.8)' }]);
    const local = await s.call('POST', `/providers/${first}/subscriptions`, { token: s.teamLead, body: { url: 'http://127.0.0.1:9/hook' } });
    expect(local.status, local.text).toBe(201);
  });
});

// ---------------------------------------------------------------------------------------------

/** A resolver that answers from `records` (name → addresses) and notes every name it was asked. */
function fakeDns(records: Map<string, string[]>, asked: string[] = []): LookupFunction {
  return (hostname, options, callback) => {
    asked.push(hostname);
    const addresses: LookupAddress[] = (records.get(hostname) ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    const [first] = addresses;
    if (!first) return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
    return options.all ? callback(null, addresses) : callback(null, first.address, first.family);
  };
}

/** What guardLookup hands a socket for `hostname`, or the error it fails the connection with. */
function resolveGuarded(hostname: string, addresses: string[], embedded: boolean, all: boolean): Promise<{ error?: string; addresses?: string[] }> {
  const lookup = guardLookup(fakeDns(new Map([[hostname, addresses]])), { embedded });
  return new Promise((resolve) =>
    lookup(hostname, { all }, (error, address) => {
      if (error) return resolve({ error: error.message });
      resolve({ addresses: Array.isArray(address) ? address.map((a) => a.address) : [address] });
    }),
  );
}

describe('guardLookup: the addresses a receiver name resolves to when a delivery connects', () => {
  it.each([
    ['10.0.0.5', 'private'],
    ['127.0.0.1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback (IPv4 in IPv6)'],
    ['::ffff:a9fe:a9fe', 'link-local (IPv4 in IPv6)'],
    ['0.0.0.0', '"this network"'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['fc00::1', 'unique local (private)'],
    ['fdff:ffff::1', 'unique local (private)'],
    ['fe80::1', 'link-local'],
    ['febf::1', 'link-local'],
    ['fe80::1%eth0', 'unreadable or scoped'],
    ['169.254.169.254', 'link-local'],
    ['100.64.0.1', 'shared (carrier-grade NAT)'],
    ['100.127.255.254', 'shared (carrier-grade NAT)'],
    ['192.168.0.1', 'private'],
    ['224.0.0.251', 'multicast'],
  ])('refuses a public name resolving to %s (%s), on AWS and on the embedded stack', async (address, range) => {
    for (const embedded of [false, true])
      for (const all of [false, true])
        expect(await resolveGuarded('hooks.example.test', [address], embedded, all)).toEqual({
          error: `hooks.example.test resolves to ${address}, a ${range} address: webhooks go to public addresses only`,
        });
  });

  it('refuses a name when any one of its addresses is not public (a connection may fall back to any)', async () => {
    expect(await resolveGuarded('hooks.example.test', ['93.184.215.14', '10.0.0.5'], false, true)).toEqual({ error: expect.stringContaining('resolves to 10.0.0.5, a private address') });
    expect(await resolveGuarded('hooks.example.test', ['2606:4700::1111', '::ffff:169.254.169.254'], false, false)).toEqual({ error: expect.stringContaining('link-local (IPv4 in IPv6)') });
  });

  it('passes public addresses through unchanged, one or all as the socket asked', async () => {
    expect(await resolveGuarded('hooks.example.test', ['93.184.215.14'], false, false)).toEqual({ addresses: ['93.184.215.14'] });
    expect(await resolveGuarded('hooks.example.test', ['93.184.215.14', '2606:4700::1111', '100.128.0.1'], false, true)).toEqual({ addresses: ['93.184.215.14', '2606:4700::1111', '100.128.0.1'] });
    expect(await resolveGuarded('hooks.example.test', ['8.8.8.8'], true, false)).toEqual({ addresses: ['8.8.8.8'] });
  });

  it('on the embedded stack, localhost must resolve to this machine; elsewhere it is refused like any name', async () => {
    expect(await resolveGuarded('localhost', ['127.0.0.1', '::1'], true, true)).toEqual({ addresses: ['127.0.0.1', '::1'] });
    expect(await resolveGuarded('localhost', ['10.0.0.5'], true, false)).toEqual({ error: 'localhost resolves to 10.0.0.5, which is not this machine' });
    expect(await resolveGuarded('localhost', ['127.0.0.1'], false, false)).toEqual({ error: expect.stringContaining('a loopback address') });
  });

  it('passes a resolver failure on as it is', async () => {
    expect(await resolveGuarded('hooks.example.test', [], false, false)).toEqual({ error: 'getaddrinfo ENOTFOUND hooks.example.test' });
  });
});

describe('delivering to a name that resolves to a private address (DNS rebinding), on the embedded stack', () => {
  let s: SecurityStack;
  let receiver: Server;
  let port: number;
  let received = 0;
  const records = new Map<string, string[]>();
  const asked: string[] = [];

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      received += 1;
      req.resume();
      res.writeHead(204).end();
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', () => resolve()));
    port = (receiver.address() as AddressInfo).port;
    // No retries: one attempt, then the delivery is dead with that attempt's reason.
    s = await startSecurityStack({ webhooks: { intervalMs: 0, retrySchedule: [], lookup: fakeDns(records, asked) } });
  });
  afterAll(async () => {
    await s?.stop();
    receiver?.closeAllConnections();
    await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
  });

  /** Point every provider's subscription at `url`, have a plan offered, deliver once; the provider's delivery log of it. */
  async function deliverTo(url: string): Promise<Json> {
    for (const { id } of s.stack.directory.organizations) {
      for (const sub of (await s.call('GET', `/providers/${id}/subscriptions`, { token: s.teamLead })).json.items as Json[])
        expect((await s.call('DELETE', `/providers/${id}/subscriptions/${sub.subscriptionId}`, { token: s.teamLead })).status).toBe(200);
      const subscribed = await s.call('POST', `/providers/${id}/subscriptions`, { token: s.teamLead, body: { url } });
      expect(subscribed.status, subscribed.text).toBe(201);
    }
    const planId = (await s.call('POST', '/plans', { token: s.coordinator, body: referral({ participant: anotherParticipant() }) })).json.planId as string;
    expect((await s.call('POST', `/plans/${planId}/record-consent`, { token: s.coordinator, body: consent(s.today()) })).status).toBe(200);
    const assessed = await s.call('POST', `/plans/${planId}/submit-assessment`, { token: s.coordinator, body: { needs: [{ domain: 'mental-health', level: 'high', priority: true }] } });
    const offer = (assessed.json.allocations as Json[]).find((a) => a.status === 'offered') as Json;
    await s.stack.webhooks.runOnce();
    const log = await s.call('GET', `/providers/${offer.providerId}/deliveries`, { token: s.teamLead });
    const ofPlan = (log.json.items as Json[]).filter((d) => d.planRef === planId);
    expect(ofPlan.length, log.text).toBeGreaterThan(0);
    return ofPlan[0] as Json;
  }

  it.each([
    ['10.0.0.5', 'private'],
    ['127.0.0.1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback (IPv4 in IPv6)'],
    ['169.254.169.254', 'link-local'],
  ])('hooks.example.test → %s: refused before anything is sent, a failed attempt saying why in the delivery log', async (address, range) => {
    records.set('hooks.example.test', [address]);
    const before = received;
    const askedBefore = asked.length;
    const delivery = await deliverTo(`https://hooks.example.test:${port}/hook`);
    const reason = `refused, nothing sent: hooks.example.test resolves to ${address}, a ${range} address: webhooks go to public addresses only`;
    expect(delivery).toMatchObject({ status: 'dead', attempts: 1, lastError: `gave up after 1 attempt: ${reason}` });
    expect(delivery.log).toEqual([expect.objectContaining({ outcome: 'failed', error: reason })]);
    expect(delivery.lastStatusCode).toBeUndefined();
    expect(asked.slice(askedBefore)).toContain('hooks.example.test');
    expect(received).toBe(before);
  });

  it('localhost resolving to this machine is delivered (through the same resolver); re-pointed elsewhere it is refused', async () => {
    records.set('localhost', ['127.0.0.1']);
    const before = received;
    const askedBefore = asked.length;
    const delivered = await deliverTo(`http://localhost:${port}/hook`);
    expect(delivered).toMatchObject({ status: 'delivered', attempts: 1 });
    expect(received).toBeGreaterThan(before);
    expect(asked.slice(askedBefore)).toContain('localhost');

    records.set('localhost', ['10.0.0.5']);
    const afterDelivered = received;
    // Each connection is checked when it is made: one kept alive from the delivery above is to an
    // address already checked, and may carry the next. Closed, the next delivery must connect anew.
    receiver.closeAllConnections();
    const refused = await deliverTo(`http://localhost:${port}/other-hook`);
    expect(refused).toMatchObject({ status: 'dead', lastError: 'gave up after 1 attempt: refused, nothing sent: localhost resolves to 10.0.0.5, which is not this machine' });
    expect(received).toBe(afterDelivered);
  });

  it('a literal private address stored before the policy refused it is not sent to either', async () => {
    const providerId = 'anawim';
    for (const sub of (await s.call('GET', `/providers/${providerId}/subscriptions`, { token: s.teamLead })).json.items as Json[])
      await s.call('DELETE', `/providers/${providerId}/subscriptions/${sub.subscriptionId}`, { token: s.teamLead });
    await s.stack.webhooks.store.createSubscription({ subscriptionId: 'ws_legacy_lan', providerId, url: 'https://10.0.0.8/hook', status: 'active', createdAt: s.now(), createdBy: 'test', secret: `whsec_${Buffer.alloc(32, 7).toString('base64')}` });
    const planId = (await s.call('POST', '/plans', { token: s.coordinator, body: referral({ participant: anotherParticipant() }) })).json.planId as string;
    await s.call('POST', `/plans/${planId}/record-consent`, { token: s.coordinator, body: consent(s.today()) });
    await s.call('POST', `/plans/${planId}/submit-assessment`, { token: s.coordinator, body: { needs: [{ domain: 'mental-health', level: 'high', priority: true }] } });
    await s.stack.webhooks.runOnce();
    const log = await s.call('GET', `/providers/${providerId}/deliveries`, { token: s.teamLead });
    const delivery = (log.json.items as Json[]).find((d) => d.planRef === planId);
    expect(delivery, log.text).toMatchObject({ status: 'dead', lastError: 'gave up after 1 attempt: refused, nothing sent: the URL must not point at a private address (10.0.0.8)' });
  });
});
