/**
 * The providers API where delivery is configured at deploy (AWS): EventBridge API destinations whose
 * URLs come from -c providerWebhooks and whose requests carry the provider's API key in
 * X-Wraparound-Key. Nothing there signs with a subscription's secret or logs deliveries, so the
 * subscription and delivery routes must not pretend to: GET subscriptions shows the configured
 * destination, every route that would create, rotate or change a subscription or replay a delivery
 * answers 409 saying how delivery works there, and none of them touches the store. The handler is
 * given fakes (a store and a plan repository that record every call), and, last, the Lambda entry
 * point itself is called as AWS would build it from its environment.
 */
import type { APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeHandler, type ProvidersApiDeps } from '../../functions/api-providers/handler.ts';
import { deployConfigured, placeholderWebhookUrl, PROVIDER_WEBHOOKS_ENV, WEBHOOK_KEY_HEADER, type ProviderDeliveryMode } from '../../lib/adapters/events/provider-destinations.ts';
import { awsProviderDelivery } from '../../lib/runtime/aws.ts';
import { CLAIMS, lambdaEvent } from '../support/lambda-event.ts';

const PROVIDERS = ['anawim', 'bcwa', 'changing-lives', 'green-square-accord'];
const BCWA_URL = 'https://hooks.bcwa.example/wraparound';
const onAws = deployConfigured({ bcwa: BCWA_URL });

/** A store and a plan repository that record every method called on them (and answer nothing). */
function recordingFakes() {
  const calls: string[] = [];
  const recorder = (name: string) =>
    new Proxy(
      {},
      {
        get: (_target, method) => {
          if (typeof method !== 'string' || method === 'then') return undefined;
          return async () => {
            calls.push(`${name}.${method}`);
            if (method === 'listSubscriptions') return [];
            if (method === 'feedPage') return { entries: [], more: false };
            if (method === 'listDeliveries') return { items: [] };
            return undefined;
          };
        },
      },
    );
  return { calls, plans: recorder('plans'), webhooks: recorder('webhooks'), audit: recorder('audit') };
}

function api(delivery: ProviderDeliveryMode) {
  const fakes = recordingFakes();
  const handler = makeHandler({
    plans: fakes.plans,
    audit: fakes.audit,
    webhooks: fakes.webhooks,
    clock: () => '2026-11-28T12:00:00.000Z',
    providerIds: PROVIDERS,
    delivery,
  } as unknown as ProvidersApiDeps);
  async function call(routeKey: string, pathParameters: Record<string, string>, claims: Record<string, unknown>, options: { body?: unknown; headers?: Record<string, string> } = {}) {
    const rawPath = routeKey.split(' ')[1]!.replace(/\{(\w+)\}/g, (_, name: string) => pathParameters[name] ?? '');
    const result = (await handler(lambdaEvent({ routeKey, rawPath, pathParameters, claims, ...options }), {} as Context)) as Exclude<APIGatewayProxyResultV2, string>;
    return { status: result.statusCode, headers: result.headers ?? {}, body: String(result.body), json: JSON.parse(String(result.body)) as Record<string, unknown> };
  }
  return { call, calls: fakes.calls };
}

const teamLead = CLAIMS.teamLead();
const SUBSCRIPTIONS = 'GET /providers/{providerId}/subscriptions';
const SUBSCRIBE = 'POST /providers/{providerId}/subscriptions';
const UNSUBSCRIBE = 'DELETE /providers/{providerId}/subscriptions/{subscriptionId}';
const ROTATE = 'POST /providers/{providerId}/subscriptions/{subscriptionId}/rotate-secret';
const DELIVERIES = 'GET /providers/{providerId}/deliveries';
const REPLAY = 'POST /providers/{providerId}/deliveries/{deliveryId}/replay';
const SUBSCRIPTION_ID = 'ws_0123456789abcdef';
const DELIVERY_ID = 'wd_0123456789abcdef';

describe('GET /providers/{providerId}/subscriptions on AWS: the destination the deploy configured', () => {
  it('a configured provider: its endpoint, not a placeholder, the key header (never a key or a secret), and how to change them; the store is not read', async () => {
    const { call, calls } = api(onAws);
    const res = await call(SUBSCRIPTIONS, { providerId: 'bcwa' }, teamLead);
    expect(res.status, res.body).toBe(200);
    expect(res.json).toEqual({
      delivery: 'deploy-configured',
      items: [],
      destination: { providerId: 'bcwa', endpoint: BCWA_URL, placeholder: false, keyHeader: WEBHOOK_KEY_HEADER },
      detail: expect.any(String),
    });
    const detail = res.json.detail as string;
    expect(detail).toContain(`its events are POSTed to ${BCWA_URL}`);
    expect(detail).toContain(`API key in the ${WEBHOOK_KEY_HEADER} header`);
    expect(detail).toContain('a deploy (context providerWebhooks)');
    expect(detail).toContain('Secrets Manager');
    expect(res.body).not.toMatch(/whsec_/);
    expect(calls).toEqual([]);
  });

  it('a provider with no URL configured: its .invalid placeholder, said to be one', async () => {
    const { call } = api(onAws);
    const res = await call(SUBSCRIPTIONS, { providerId: 'anawim' }, teamLead);
    expect(res.status, res.body).toBe(200);
    expect(res.json.destination).toEqual({ providerId: 'anawim', endpoint: placeholderWebhookUrl('anawim'), placeholder: true, keyHeader: WEBHOOK_KEY_HEADER });
    expect(res.json.detail).toContain('no URL is configured for anawim yet');
  });

  it('a provider reads its own; another provider, an unknown one and a bad id are refused as before', async () => {
    const { call } = api(onAws);
    expect((await call(SUBSCRIPTIONS, { providerId: 'bcwa' }, CLAIMS.provider('bcwa'))).json.destination).toMatchObject({ endpoint: BCWA_URL });
    expect((await call(SUBSCRIPTIONS, { providerId: 'bcwa' }, CLAIMS.provider('anawim'))).status).toBe(403);
    expect((await call(SUBSCRIPTIONS, { providerId: 'nobody' }, teamLead)).status).toBe(404);
    expect((await call(SUBSCRIPTIONS, { providerId: 'Not An Id' }, teamLead)).status).toBe(400);
  });

  it('on the embedded stack the same route lists the stored subscriptions (the control)', async () => {
    const { call, calls } = api({ kind: 'signed-webhooks' });
    const res = await call(SUBSCRIPTIONS, { providerId: 'bcwa' }, teamLead);
    expect(res.json).toEqual({ delivery: 'signed-webhooks', items: [] });
    expect(calls).toEqual(['webhooks.listSubscriptions']);
  });
});

describe('on AWS the routes that would create, rotate or change a subscription refuse (409) and change nothing', () => {
  const cases: [string, string, Record<string, string>, unknown][] = [
    ['subscribing', SUBSCRIBE, { providerId: 'bcwa' }, { url: 'https://receiver.example.org/hooks' }],
    ['removing a subscription', UNSUBSCRIBE, { providerId: 'bcwa', subscriptionId: SUBSCRIPTION_ID }, undefined],
    ['rotating the secret', ROTATE, { providerId: 'bcwa', subscriptionId: SUBSCRIPTION_ID }, { overlapHours: 24 }],
  ];

  it.each(cases)('%s: a problem saying where delivery is set and by whom; no store call, no stored answer', async (_what, routeKey, params, body) => {
    const { call, calls } = api(onAws);
    const res = await call(routeKey, params, teamLead, { body, headers: { 'idempotency-key': 'aws-refusal-0001' } });
    expect(res.status, res.body).toBe(409);
    expect(res.headers['content-type']).toBe('application/problem+json');
    const detail = res.json.detail as string;
    expect(detail).toContain(`On this deployment (AWS) events reach bcwa through an EventBridge API destination set when the stack is deployed: its events are POSTed to ${BCWA_URL}.`);
    expect(detail).toContain(`${WEBHOOK_KEY_HEADER} header; nothing is signed with a webhook secret`);
    expect(detail).toContain('context providerWebhooks');
    expect(detail).toContain('Secrets Manager and the EventBridge connection (docs/deploy.md, "Provider webhooks")');
    expect(detail).toMatch(/Nothing was changed\.$/);
    expect(res.body).not.toMatch(/whsec_/);
    expect(calls).toEqual([]);
  });

  it('a URL the target policy refuses, or no body at all, is refused the same way: nothing there takes a URL', async () => {
    const { call, calls } = api(onAws);
    for (const body of [{ url: 'https://169.254.169.254/latest/meta-data/' }, { url: 'http://127.0.0.1:9/hook' }, undefined]) {
      const res = await call(SUBSCRIBE, { providerId: 'anawim' }, teamLead, { body });
      expect(res.status, res.body).toBe(409);
      expect(res.json.detail).toContain(`no URL is configured for anawim yet, so its events go to the placeholder ${placeholderWebhookUrl('anawim')}`);
    }
    expect(calls).toEqual([]);
  });

  it('who may not call them still gets 403 first; another provider id in the path 404', async () => {
    const { call } = api(onAws);
    expect((await call(SUBSCRIBE, { providerId: 'bcwa' }, CLAIMS.provider('bcwa'), { body: { url: 'https://a.example.org/' } })).status).toBe(403);
    expect((await call(ROTATE, { providerId: 'nobody', subscriptionId: SUBSCRIPTION_ID }, teamLead, { body: {} })).status).toBe(404);
  });

  it('on the embedded stack subscribing creates a subscription (the control)', async () => {
    const { call, calls } = api({ kind: 'signed-webhooks' });
    const res = await call(SUBSCRIBE, { providerId: 'bcwa' }, teamLead, { body: { url: 'https://receiver.example.org/hooks' } });
    expect(res.status, res.body).toBe(201);
    expect(res.json.secret).toMatch(/^whsec_/);
    expect(calls).toContain('webhooks.createSubscription');
  });
});

describe('on AWS the delivery log routes refuse (409): nothing logs deliveries there', () => {
  it.each([
    ['reading the log', DELIVERIES, { providerId: 'bcwa' }, undefined, false],
    ['replaying a delivery', REPLAY, { providerId: 'bcwa', deliveryId: DELIVERY_ID }, {}, true],
  ] as const)('%s: says where failed events go and how they are replayed; no store call', async (_what, routeKey, params, body, changing) => {
    const { call, calls } = api(onAws);
    const res = await call(routeKey, params, CLAIMS.provider('bcwa'), { body });
    expect(res.status, res.body).toBe(409);
    const detail = res.json.detail as string;
    expect(detail).toContain('On this deployment (AWS) no delivery log is kept here');
    expect(detail).toContain("bcwa's dead-letter queue and raises an alarm");
    expect(detail).toContain('replays missed events from the event archive');
    expect(detail).toContain('GET /providers/bcwa/feed');
    expect(detail.endsWith('Nothing was changed.')).toBe(changing);
    expect(calls).toEqual([]);
  });

  it('the pull feed still answers: it is the same on AWS', async () => {
    const { call } = api(onAws);
    const res = await call('GET /providers/{providerId}/feed', { providerId: 'bcwa' }, CLAIMS.provider('bcwa'));
    expect(res.status, res.body).toBe(200);
    expect(res.json).toEqual({ items: [], cursor: null, more: false });
  });
});

describe('provider delivery settings that did not validate at start', () => {
  it('the webhook routes answer a 500 problem naming no setting (the log has it), and change nothing; the feed still works', async () => {
    const { call, calls } = api({ kind: 'misconfigured' });
    for (const [routeKey, params, body] of [
      [SUBSCRIPTIONS, { providerId: 'bcwa' }, undefined],
      [SUBSCRIBE, { providerId: 'bcwa' }, { url: 'https://receiver.example.org/hooks' }],
      [DELIVERIES, { providerId: 'bcwa' }, undefined],
    ] as const) {
      const res = await call(routeKey, params, teamLead, { body });
      expect(res.status, `${routeKey} ${res.body}`).toBe(500);
      expect(res.json.detail).toContain('misconfigured');
    }
    expect(calls).toEqual([]);
    expect((await call('GET /providers/{providerId}/feed', { providerId: 'bcwa' }, CLAIMS.provider('bcwa'))).status).toBe(200);
  });
});

describe('awsProviderDelivery: PROVIDER_WEBHOOKS read once at start', () => {
  const read = (value: string | undefined) => {
    const reasons: string[] = [];
    const mode = awsProviderDelivery(value === undefined ? {} : { [PROVIDER_WEBHOOKS_ENV]: value }, PROVIDERS, (reason) => reasons.push(reason));
    return { mode, reasons };
  };

  it('the configured URLs, every other provider its placeholder', () => {
    const { mode, reasons } = read(JSON.stringify({ bcwa: BCWA_URL }));
    expect(reasons).toEqual([]);
    if (mode.kind !== 'deploy-configured') throw new Error(mode.kind);
    expect(mode.destinationOf('bcwa')).toEqual({ providerId: 'bcwa', endpoint: BCWA_URL, placeholder: false, keyHeader: WEBHOOK_KEY_HEADER });
    expect(mode.destinationOf('anawim')).toMatchObject({ endpoint: placeholderWebhookUrl('anawim'), placeholder: true });
    // Not set at all (a stack from before this setting): every provider at its placeholder, as the stack then had it.
    const unset = read(undefined).mode;
    expect(unset.kind === 'deploy-configured' && unset.destinationOf('bcwa').placeholder).toBe(true);
  });

  it.each([
    ['{not json', 'PROVIDER_WEBHOOKS is not JSON'],
    ['["https://a.example.org/"]', 'PROVIDER_WEBHOOKS: (the value):'],
    ['{"bcwa":"http://hooks.bcwa.example/x"}', 'PROVIDER_WEBHOOKS.bcwa: the URL must use https'],
    ['{"bcwa":"https://10.0.0.8/hook"}', 'PROVIDER_WEBHOOKS.bcwa: the URL must not point at a private address (10.0.0.8)'],
    ['{"nobody":"https://nobody.example.org/"}', 'PROVIDER_WEBHOOKS names "nobody", not a provider of the directory'],
  ])('%s: the misconfigured mode, the reason reported once naming the variable', (value, reason) => {
    const { mode, reasons } = read(value);
    expect(mode).toEqual({ kind: 'misconfigured' });
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toContain(reason);
  });
});

describe('the Lambda entry point, built from its environment as on AWS', () => {
  const saved = { ...process.env };
  beforeAll(() => {
    // A DynamoDB call would fail at once (nothing listens there) and show as a 500: none must be made.
    Object.assign(process.env, {
      TABLE_NAME: 'wraparound-test',
      AWS_REGION: 'eu-west-2',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:9',
      AWS_MAX_ATTEMPTS: '1',
      [PROVIDER_WEBHOOKS_ENV]: JSON.stringify({ bcwa: BCWA_URL }),
    });
  });
  afterAll(() => {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  });

  it('answers in the deploy-configured mode: the destination from PROVIDER_WEBHOOKS, subscribing refused', async () => {
    const { handler } = await import('../../functions/api-providers/handler.ts');
    const call = async (routeKey: string, pathParameters: Record<string, string>, body?: unknown) => {
      const rawPath = routeKey.split(' ')[1]!.replace(/\{(\w+)\}/g, (_, name: string) => pathParameters[name] ?? '');
      const result = (await handler(lambdaEvent({ routeKey, rawPath, pathParameters, claims: teamLead, body }), {} as Context)) as Exclude<APIGatewayProxyResultV2, string>;
      return { status: result.statusCode, json: JSON.parse(String(result.body)) as Record<string, unknown> };
    };
    const list = await call(SUBSCRIPTIONS, { providerId: 'bcwa' });
    expect(list.status, JSON.stringify(list.json)).toBe(200);
    expect(list.json).toMatchObject({ delivery: 'deploy-configured', items: [], destination: { endpoint: BCWA_URL, placeholder: false, keyHeader: WEBHOOK_KEY_HEADER } });
    expect((await call(SUBSCRIPTIONS, { providerId: 'green-square-accord' })).json).toMatchObject({ destination: { placeholder: true } });
    const subscribed = await call(SUBSCRIBE, { providerId: 'bcwa' }, { url: 'https://receiver.example.org/hooks' });
    expect(subscribed.status, JSON.stringify(subscribed.json)).toBe(409);
  });
});

describe('the OpenAPI document says what these routes do on AWS', () => {
  it('each webhook route describes its AWS answer; GET subscriptions documents the destination', async () => {
    const { openApiDocument } = await import('../../lib/api/openapi.ts');
    const doc = openApiDocument() as unknown as { paths: Record<string, Record<string, { description?: string; responses: Record<string, unknown> }>>; components: { schemas: Record<string, unknown> } };
    for (const routeKey of [SUBSCRIPTIONS, SUBSCRIBE, UNSUBSCRIBE, ROTATE, DELIVERIES, REPLAY]) {
      const [method, path] = routeKey.split(' ') as [string, string];
      const operation = doc.paths[path]?.[method.toLowerCase()];
      expect(operation?.description, routeKey).toContain('On AWS: ');
      if (method !== 'GET' || path.endsWith('/deliveries')) expect(Object.keys(operation?.responses ?? {}), routeKey).toContain('409');
    }
    expect(JSON.stringify(doc.components.schemas.ProviderSubscriptions)).toContain('DeployConfiguredDestination');
    expect(doc.components.schemas.ProviderDestination).toMatchObject({ properties: { keyHeader: { const: WEBHOOK_KEY_HEADER } } });
  });
});

describe('on AWS a test delivery is not sent from the API', () => {
  it('409 saying EventBridge sends asynchronously and keeps no answer, where the destination is; no store call', async () => {
    const { call, calls } = api(onAws);
    const res = await call('POST /providers/{providerId}/subscriptions/{subscriptionId}/test', { providerId: 'bcwa', subscriptionId: SUBSCRIPTION_ID }, CLAIMS.provider('bcwa'), { body: {} });
    expect(res.status, res.body).toBe(409);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(res.json.detail).toContain(`its events are POSTed to ${BCWA_URL}`);
    expect(res.json.detail).toMatch(/No test delivery is sent from here: EventBridge sends every event to the destination asynchronously and keeps no answer to show\. Nothing was sent\.$/);
    expect(calls).toEqual([]);
  });
});
