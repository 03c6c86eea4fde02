/**
 * The provider directory API over real HTTP: public HSDS 3 reads (pagination as the HSDS API
 * reference describes it, taxonomy-term and organization filters, one service by id or uuid),
 * team leads' capacity and status changes, refusals that change nothing, and a change that the very
 * next allocation uses. Also the --providers file: a bad one is refused naming file, record and field.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Ajv } from 'ajv';
import addFormatsImport from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hsdsId } from '../../lib/directory/hsds.ts';
import { DirectoryError, loadDirectoryFile } from '../../lib/directory/load.ts';
import { startEmbeddedStack } from '../../lib/local/embedded-stack.ts';
import { planInStage, scanTable, startTestStack, type CallOptions, type CallResult, type Json, type PlanJson, type TestStack } from '../support/http.ts';

type FormatsPlugin = (ajv: Ajv) => Ajv;
const addFormats: FormatsPlugin = (addFormatsImport as unknown as { default?: FormatsPlugin }).default ?? (addFormatsImport as unknown as FormatsPlugin);
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
const validateHsds = ajv.compile(JSON.parse(readFileSync(resolve(import.meta.dirname, '../fixtures/hsds/service_with_definitions.json'), 'utf8')));

function expectHsds(service: Json) {
  expect(validateHsds(service), JSON.stringify(validateHsds.errors)).toBe(true);
}

const ALL_IDS = [
  'anawim-womens-centre',
  'anawim-substance-support',
  'bcwa-domestic-abuse',
  'bcwa-women-in-justice',
  'changing-lives-recovery',
  'changing-lives-housing',
  'gsa-tenancy-and-money',
  'gsa-wellbeing',
];

let t: TestStack;
beforeAll(async () => {
  t = await startTestStack();
});
afterAll(async () => {
  await t?.stop();
});

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: { path: string; message: string }[];
}

/** A request that must be refused with `status` as problem+json, leaving the table exactly as it was. */
async function refused(status: number, method: string, path: string, options: CallOptions = {}): Promise<CallResult<Problem>> {
  const before = await scanTable(t.stack);
  const res = await t.call<Problem>(method, path, options);
  const label = `${method} ${path} ${JSON.stringify(options.body) ?? ''}`;
  expect(res.status, `${label}: ${res.text}`).toBe(status);
  expect(res.headers.get('content-type'), label).toBe('application/problem+json');
  expect(res.json.status, label).toBe(status);
  expect(res.json.detail.length, label).toBeGreaterThan(0);
  expect(await scanTable(t.stack), `${label} changed the store`).toEqual(before);
  return res;
}

/** Refused with 400, naming `field` among the errors. */
async function invalid(field: string, method: string, path: string, options: CallOptions = {}) {
  const res = await refused(400, method, path, options);
  expect((res.json.errors ?? []).map((e) => e.path), `${method} ${path} ${JSON.stringify(options.body) ?? ''}`).toContain(field);
  return res;
}

const list = (query = '') => t.call('GET', `/directory/services${query}`);
const ids = (res: CallResult) => (res.json.contents as Json[]).map((s) => s.x_service_id);
const patch = (id: string, body: unknown, token = t.teamLead) => t.call('PATCH', `/directory/services/${id}`, { token, body });

describe('GET /directory/services', () => {
  it('is public: no token needed, and any token is fine too', async () => {
    const res = await list();
    expect(res.status, res.text).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.json).toMatchObject({ total_items: 8, total_pages: 1, page_number: 1, size: 8, first_page: true, last_page: true, empty: false });
    expect(ids(res)).toEqual(ALL_IDS);
    expect((await t.call('GET', '/directory/services', { token: t.provider('bcwa') })).json).toEqual(res.json);
  });

  it('lists every service as a valid HSDS 3 service with its live capacity', async () => {
    const res = await list('?per_page=100');
    for (const service of res.json.contents) {
      expectHsds(service);
      expect(service.id).toBe(hsdsId.service(service.x_service_id));
      expect(service.status).toBe('active');
      expect(service.x_capacity).toMatchObject({ in_use: 0 });
      expect(service.x_capacity.available).toBe(service.x_capacity.capacity);
      // Every New Chance service takes women of any age from its minimum: no maximum_age, not 130
      // (a service finder would show "18 to 130"); the words say it.
      expect(service).not.toHaveProperty('maximum_age');
      expect(service.eligibility_description).toMatch(/ and over\.$/);
    }
  });

  it('pages as the HSDS API reference describes: total_items, total_pages, page_number, size, first_page, last_page, empty', async () => {
    const pages = await Promise.all([1, 2, 3].map((p) => list(`?per_page=3&page=${p}`)));
    expect(pages.map((p) => p.status)).toEqual([200, 200, 200]);
    expect(pages.map((p) => ({ ...p.json, contents: undefined }))).toEqual([
      { total_items: 8, total_pages: 3, page_number: 1, size: 3, first_page: true, last_page: false, empty: false },
      { total_items: 8, total_pages: 3, page_number: 2, size: 3, first_page: false, last_page: false, empty: false },
      { total_items: 8, total_pages: 3, page_number: 3, size: 2, first_page: false, last_page: true, empty: false },
    ]);
    expect(pages.flatMap(ids)).toEqual(ALL_IDS);
    expect((await list('?per_page=4&page=2')).json).toMatchObject({ total_pages: 2, size: 4, first_page: false, last_page: true });
    expect((await list('?per_page=8')).json).toMatchObject({ total_pages: 1, size: 8, last_page: true });
    expect((await list('?per_page=1&page=8')).json).toMatchObject({ total_pages: 8, page_number: 8, size: 1, last_page: true });
    expect(ids(await list('?per_page=1&page=8'))).toEqual(['gsa-wellbeing']);
  });

  it('filters by taxonomy term (a need domain, or its uuid)', async () => {
    const abuse = await list('?taxonomy_term_id=domestic-abuse');
    expect(abuse.json).toMatchObject({ total_items: 1, total_pages: 1, size: 1 });
    expect(ids(abuse)).toEqual(['bcwa-domestic-abuse']);
    expect(ids(await list('?taxonomy_term_id=mental-health'))).toEqual(['anawim-womens-centre', 'bcwa-women-in-justice', 'changing-lives-recovery']);
    expect((await list(`?taxonomy_term_id=${hsdsId.taxonomyTerm('mental-health')}`)).json).toEqual((await list('?taxonomy_term_id=mental-health')).json);
    for (const service of (await list('?taxonomy_term_id=trauma')).json.contents)
      expect(service.attributes.map((a: Json) => a.taxonomy_term_id)).toContain(hsdsId.taxonomyTerm('trauma'));
  });

  it('filters by organization (its provider id, or its uuid), and by both', async () => {
    expect(ids(await list('?organization_id=green-square-accord'))).toEqual(['gsa-tenancy-and-money', 'gsa-wellbeing']);
    expect(ids(await list(`?organization_id=${hsdsId.organization('bcwa')}`))).toEqual(['bcwa-domestic-abuse', 'bcwa-women-in-justice']);
    expect(ids(await list('?organization_id=anawim&taxonomy_term_id=alcohol'))).toEqual(['anawim-substance-support']);
    const paged = await list('?taxonomy_term_id=emotional-resilience&per_page=2&page=2');
    expect(paged.json).toMatchObject({ total_items: 3, total_pages: 2, page_number: 2, size: 1, last_page: true });
    expect(ids(paged)).toEqual(['gsa-wellbeing']);
  });

  it('answers a filter nothing matches with one empty page', async () => {
    const none = await list('?organization_id=anawim&taxonomy_term_id=thinking-behaviour');
    expect(none.status).toBe(200);
    expect(none.json).toEqual({ total_items: 0, total_pages: 0, page_number: 1, size: 0, first_page: true, last_page: true, empty: true, contents: [] });
    await invalid('page', 'GET', '/directory/services?organization_id=anawim&taxonomy_term_id=thinking-behaviour&page=2');
  });

  it('refuses a page or page size out of range, naming the parameter', async () => {
    const past = await invalid('page', 'GET', '/directory/services?per_page=3&page=4');
    expect(past.json.detail).toMatch(/last page \(3\)/);
    await invalid('page', 'GET', '/directory/services?page=9');
    for (const page of ['0', '-1', '1.5', 'two', '']) await invalid('page', 'GET', `/directory/services?page=${page}`);
    for (const size of ['0', '101', '1000', '2.5', 'many']) await invalid('per_page', 'GET', `/directory/services?per_page=${size}`);
    expect((await list('?per_page=100')).status).toBe(200);
  });

  it('refuses an unknown taxonomy term, organization or parameter, naming it', async () => {
    await invalid('taxonomy_term_id', 'GET', '/directory/services?taxonomy_term_id=astrology');
    await invalid('taxonomy_term_id', 'GET', `/directory/services?taxonomy_term_id=${hsdsId.organization('bcwa')}`);
    await invalid('organization_id', 'GET', '/directory/services?organization_id=acme');
    await invalid('organization_id', 'GET', '/directory/services?organization_id=bcwa-domestic-abuse');
    await invalid('search', 'GET', '/directory/services?search=abuse');
  });

  it('points an unknown parameter named like one it takes to that one: size (as the answer calls the page size) to per_page', async () => {
    const sized = await t.call('GET', '/directory/services?size=2');
    expect(sized.status, sized.text).toBe(400);
    expect(sized.json.errors).toEqual([{ path: 'size', message: 'is not a known field: use per_page' }]);
    expect(sized.json.detail).toContain('size: is not a known field: use per_page');
    expect((await t.call('GET', '/directory/services?limit=2')).json.errors).toEqual([{ path: 'limit', message: 'is not a known field: use per_page' }]);
    expect((await t.call('GET', '/directory/services?perPage=2')).json.errors).toEqual([{ path: 'perPage', message: 'is not a known field: use per_page' }]);
    expect((await t.call('GET', '/directory/services?organisation_id=bcwa')).json.errors).toEqual([{ path: 'organisation_id', message: 'is not a known field: use organization_id' }]);
    // Nothing known to mean the same: no guess.
    expect((await t.call('GET', '/directory/services?search=abuse')).json.errors).toEqual([{ path: 'search', message: 'is not a known field' }]);
  });
});

describe('GET /directory/services/{serviceId}', () => {
  it('returns one HSDS 3 service, by its id or its uuid, without a token', async () => {
    const bySlug = await t.call('GET', '/directory/services/bcwa-domestic-abuse');
    expect(bySlug.status, bySlug.text).toBe(200);
    expectHsds(bySlug.json);
    expect(bySlug.json).toMatchObject({
      id: hsdsId.service('bcwa-domestic-abuse'),
      name: 'Domestic abuse advocacy',
      status: 'active',
      minimum_age: 16,
      organization: { id: hsdsId.organization('bcwa'), name: "Black Country Women's Aid" },
      x_capacity: { capacity: 20, in_use: 0, available: 20 },
    });
    expect(bySlug.json.service_areas.map((a: Json) => a.name)).toEqual(['Birmingham', 'Dudley', 'Sandwell', 'Walsall', 'Wolverhampton']);
    const byUuid = await t.call('GET', `/directory/services/${hsdsId.service('bcwa-domestic-abuse')}`);
    expect(byUuid.json).toEqual(bySlug.json);
    // The list and the item say the same.
    expect((await list('?taxonomy_term_id=domestic-abuse')).json.contents[0]).toEqual(bySlug.json);
  });

  it('is 404 for a service the directory does not have', async () => {
    const res = await refused(404, 'GET', '/directory/services/no-such-service');
    expect(res.json.detail).toMatch(/no-such-service/);
    await refused(404, 'GET', `/directory/services/${hsdsId.organization('bcwa')}`);
    await refused(404, 'GET', '/directory/services/BCWA-DOMESTIC-ABUSE');
  });
});

describe('PATCH /directory/services/{serviceId}', () => {
  it('is for team leads: 401 without a token, 403 for coordinators, providers and commissioners', async () => {
    await refused(401, 'PATCH', '/directory/services/gsa-wellbeing', { body: { capacity: 3 } });
    await refused(401, 'PATCH', '/directory/services/gsa-wellbeing', { body: { capacity: 3 }, token: 'not-a-token' });
    await refused(403, 'PATCH', '/directory/services/gsa-wellbeing', { body: { capacity: 3 }, token: t.coordinator });
    await refused(403, 'PATCH', '/directory/services/gsa-wellbeing', { body: { status: 'temporarily-closed' }, token: t.provider('green-square-accord') });
    await refused(403, 'PATCH', '/directory/services/gsa-wellbeing', { body: { capacity: 3 }, token: t.commissioner });
  });

  it('is 404 for an unknown service, whatever the body', async () => {
    await refused(404, 'PATCH', '/directory/services/no-such-service', { token: t.teamLead, body: { capacity: 3 } });
    await refused(404, 'PATCH', '/directory/services/no-such-service', { token: t.teamLead, body: { capacity: -3 } });
    await refused(404, 'PATCH', `/directory/services/${hsdsId.organization('bcwa')}`, { token: t.teamLead, body: { status: 'active' } });
  });

  it('refuses bad capacity, status, unknown fields and empty or non-JSON bodies, naming the field and changing nothing', async () => {
    const at = '/directory/services/gsa-wellbeing';
    const teamLead = (body: unknown): CallOptions => ({ token: t.teamLead, body });
    for (const capacity of [-1, 1.5, '3', null, 100_001, true]) await invalid('capacity', 'PATCH', at, teamLead({ capacity }));
    await invalid('capacity', 'PATCH', at, teamLead({ capacity: -1, status: 'active' }));
    for (const status of ['inactive', 'temporarily closed', 'closed', 'ACTIVE', 1]) await invalid('status', 'PATCH', at, teamLead({ status }));
    await invalid('note', 'PATCH', at, teamLead({ capacity: 3, note: 'busy month' }));
    await invalid('(body)', 'PATCH', at, teamLead({}));
    await invalid('(body)', 'PATCH', at, teamLead('{"capacity": 3'));
    await refused(400, 'PATCH', at, teamLead([]));
    await refused(415, 'PATCH', at, { token: t.teamLead, body: 'capacity=3', headers: { 'content-type': 'text/plain' } });
    expect((await t.call('GET', at)).json).toMatchObject({ status: 'active', x_capacity: { capacity: 15 } });
  });

  it("changes a service's capacity and status (by id or uuid), and answers with the service as it now is", async () => {
    const now = t.clock.advanceMs(60_000);
    const cut = await patch('gsa-wellbeing', { capacity: 4 });
    expect(cut.status, cut.text).toBe(200);
    expectHsds(cut.json);
    expect(cut.json).toMatchObject({ x_service_id: 'gsa-wellbeing', status: 'active', last_modified: now, x_capacity: { capacity: 4, in_use: 0, available: 4 } });
    expect((await t.call('GET', '/directory/services/gsa-wellbeing')).json).toEqual(cut.json);

    const closed = await patch(hsdsId.service('gsa-wellbeing'), { status: 'temporarily-closed' });
    expect(closed.status, closed.text).toBe(200);
    expectHsds(closed.json);
    expect(closed.json).toMatchObject({ status: 'temporarily closed', alert: expect.stringMatching(/Temporarily closed/), x_capacity: { capacity: 4, available: 0 } });
    expect((await list('?organization_id=green-square-accord')).json.contents[1]).toEqual(closed.json);

    const both = await patch('gsa-wellbeing', { status: 'active', capacity: 15 });
    expect(both.json).toMatchObject({ status: 'active', x_capacity: { capacity: 15, in_use: 0, available: 15 } });
    expect(both.json).not.toHaveProperty('alert');
    const state = await t.stack.services.state('gsa-wellbeing');
    expect(state).toMatchObject({ capacity: 15, status: 'active', updatedBy: expect.any(String) });
  });
});

describe('a capacity or status change applies to the next allocation', () => {
  // In Birmingham (where the test referrals live) only bcwa-domestic-abuse offers domestic-abuse support.
  const needs = [{ domain: 'domestic-abuse', level: 'high', priority: true, goals: [] }];
  const abuseOffer = (plan: PlanJson) => plan.allocations.find((a) => a.needs.includes('domestic-abuse'));
  const abuseGap = (plan: PlanJson) => plan.gaps.find((g) => g.domain === 'domestic-abuse');

  it('closed: the need is a no-capacity gap; reopened: the next plan gets the offer', async () => {
    expect((await patch('bcwa-domestic-abuse', { status: 'temporarily-closed' })).status).toBe(200);
    const whileClosed = await planInStage(t, 'allocating', needs);
    expect(abuseOffer(whileClosed)).toBeUndefined();
    expect(abuseGap(whileClosed)).toMatchObject({ reason: 'no-capacity', explanation: expect.stringMatching(/full or temporarily closed/) });
    expect((await t.call('GET', '/directory/services/bcwa-domestic-abuse')).json.x_capacity).toEqual({ capacity: 20, in_use: 0, available: 0 });

    const reopened = await patch('bcwa-domestic-abuse', { status: 'active' });
    expect(reopened.json).toMatchObject({ status: 'active', x_capacity: { capacity: 20, in_use: 0, available: 20 } });
    const afterReopening = await planInStage(t, 'allocating', needs);
    expect(abuseOffer(afterReopening)).toMatchObject({ providerId: 'bcwa', serviceId: 'bcwa-domestic-abuse', status: 'offered' });
    expect(abuseGap(afterReopening)).toBeUndefined();
    // The offer holds a place, and the directory shows it in use.
    expect((await t.call('GET', '/directory/services/bcwa-domestic-abuse')).json.x_capacity).toEqual({ capacity: 20, in_use: 1, available: 19 });
  });

  it('full: capacity cut to the places in use leaves no room; raised again, the next plan gets the offer', async () => {
    const inUse = (await t.call('GET', '/directory/services/bcwa-domestic-abuse')).json.x_capacity.in_use as number;
    expect(inUse).toBeGreaterThan(0);
    const cut = await patch('bcwa-domestic-abuse', { capacity: inUse });
    expect(cut.json).toMatchObject({ status: 'active', alert: expect.stringMatching(/Full/), x_capacity: { capacity: inUse, in_use: inUse, available: 0 } });
    const whileFull = await planInStage(t, 'allocating', needs);
    expect(abuseOffer(whileFull)).toBeUndefined();
    expect(abuseGap(whileFull)).toMatchObject({ reason: 'no-capacity', explanation: expect.stringMatching(/full or temporarily closed/) });

    const raised = await patch('bcwa-domestic-abuse', { capacity: 20 });
    expect(raised.json.x_capacity).toEqual({ capacity: 20, in_use: inUse, available: 20 - inUse });
    const afterRaising = await planInStage(t, 'allocating', needs);
    expect(abuseOffer(afterRaising)).toMatchObject({ providerId: 'bcwa', serviceId: 'bcwa-domestic-abuse' });
    expect((await patch('bcwa-domestic-abuse', { capacity: 20 })).json.x_capacity).toEqual({ capacity: 20, in_use: inUse + 1, available: 19 - inUse });
  });
});

describe('--providers FILE', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wraparound-providers-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const directoryFile = (services: unknown[]) => ({
    name: 'Test directory',
    organizations: [{ id: 'acme-support', name: 'Acme Support', description: 'A test provider.', website: 'https://example.org/acme' }],
    services,
  });
  const goodService = {
    id: 'acme-housing',
    organizationId: 'acme-support',
    name: 'Acme housing',
    needDomains: ['accommodation'],
    serviceAreas: ['coventry'],
    capacity: 2,
  };

  it('refuses a file that does not validate, naming the file, the record and the field', async () => {
    const path = join(dir, 'bad.json');
    await writeFile(path, JSON.stringify(directoryFile([goodService, { ...goodService, id: 'acme-floating', capacity: -2 }])));
    const error = await loadDirectoryFile(path).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DirectoryError);
    const message = (error as Error).message;
    expect(message).toContain(path);
    expect(message).toContain('services[1] (id "acme-floating")');
    expect(message).toContain('field capacity: must be 0 or more');
    // The embedded stack refuses to start on it, with the same message.
    await expect(startEmbeddedStack({ inMemory: true, port: 0, sweepIntervalMs: 0, providersFile: path })).rejects.toThrow('services[1] (id "acme-floating") field capacity');
  });

  it('names an unknown organization, an unknown need domain, and a file that is not JSON', async () => {
    const messageOf = async (name: string, services: unknown[]) => {
      const path = join(dir, name);
      await writeFile(path, JSON.stringify(directoryFile(services)));
      return loadDirectoryFile(path).then(
        () => '',
        (e: Error) => e.message,
      );
    };
    expect(await messageOf('bad-org.json', [{ ...goodService, organizationId: 'nobody' }])).toMatch(/services\[0\] \(id "acme-housing"\) field organizationId: unknown organization "nobody"/);
    expect(await messageOf('bad-domain.json', [goodService, { ...goodService, id: 'acme-astrology', needDomains: ['astrology'] }])).toMatch(
      /bad-domain\.json is not valid:\n {2}services\[1\] \(id "acme-astrology"\) field needDomains\.0: /,
    );
    const notJson = join(dir, 'not.json');
    await writeFile(notJson, '{ "name": ');
    await expect(loadDirectoryFile(notJson)).rejects.toThrow(`Provider directory ${notJson} is not JSON`);
  });

  it('serves a good file through the same API', async () => {
    const path = join(dir, 'good.json');
    await writeFile(path, JSON.stringify(directoryFile([goodService])));
    const other = await startTestStack({ providersFile: path });
    try {
      const res = await other.call('GET', '/directory/services');
      expect(res.json).toMatchObject({ total_items: 1, size: 1 });
      expectHsds(res.json.contents[0]);
      expect(res.json.contents[0]).toMatchObject({ x_service_id: 'acme-housing', organization: { x_provider_id: 'acme-support', website: 'https://example.org/acme' }, x_capacity: { capacity: 2 } });
      expect((await other.call('PATCH', '/directory/services/anawim-womens-centre', { token: other.teamLead, body: { capacity: 1 } })).status).toBe(404);
    } finally {
      await other.stop();
    }
  });
});
