/**
 * The directory as HSDS 3: every seed service, in every live state that matters, validates against
 * the Open Referral schema (test/fixtures/hsds, a copy of ../shared/standards/hsds/service_with_definitions.json) with formats
 * checked, and the mapping says what the directory says.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsImport from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import {
  DirectoryListQuery,
  findNeedDomain,
  findOrganization,
  findService,
  hsdsId,
  HsdsService,
  LOCAL_AUTHORITY_AREAS,
  NEED_DOMAIN_TAXONOMY,
  NEED_DOMAIN_TERMS,
  paginate,
  ServiceAvailabilityChange,
  toHsdsService,
  uuidV5,
  type LiveServiceState,
} from '../../lib/directory/hsds.ts';
import { seedDirectory } from '../../lib/directory/load.ts';
import type { Organization, Service } from '../../lib/domain/directory.ts';
import { LOCAL_AUTHORITIES, NEED_DOMAINS } from '../../lib/domain/taxonomy.ts';

// ajv-formats is CommonJS with a default export; under Node's ESM interop the plugin may sit on .default.
type FormatsPlugin = (ajv: Ajv) => Ajv;
const addFormats: FormatsPlugin = (addFormatsImport as unknown as { default?: FormatsPlugin }).default ?? (addFormatsImport as unknown as FormatsPlugin);

const SCHEMA_PATH = resolve(import.meta.dirname, '../fixtures/hsds/service_with_definitions.json');
const hsdsSchema = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as Record<string, unknown>;

// strict: false because HSDS adds documentation keywords (constraints, core, example, ...) that are not JSON Schema.
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
const validateService: ValidateFunction = ajv.compile(hsdsSchema);

function hsdsErrors(value: unknown): string[] {
  return validateService(value) ? [] : (validateService.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message}`);
}

const directory = seedDirectory();
const organizationOf = (s: Service) => directory.organizations.find((o) => o.id === s.organizationId) as Organization;
const UUID_V5 = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The live states worth checking: as in the file, some places in use, full, over-full, closed. */
const STATES = (s: Service): [string, LiveServiceState | undefined][] => [
  ['as in the file', undefined],
  ['part used', { capacity: s.capacity, status: 'active', inUse: 1, updatedAt: '2026-03-02T10:00:00.000Z' }],
  ['full', { capacity: 3, status: 'active', inUse: 3 }],
  ['capacity cut below use', { capacity: 0, status: 'active', inUse: 2 }],
  ['temporarily closed', { capacity: s.capacity, status: 'temporarily-closed', inUse: 4, updatedAt: '2026-03-03T09:30:00.000Z' }],
];

describe('the HSDS schema check itself', () => {
  it('is the HSDS 3 service schema, with formats checked', () => {
    expect(hsdsSchema.required).toEqual(['id', 'name', 'status']);
    expect(hsdsErrors({ id: 'bcwa-domestic-abuse', name: 'x', status: 'active' }).join()).toMatch(/\/id must match format "uuid"/);
    expect(hsdsErrors({ id: uuidV5('x'), name: 'x', status: 'temporarily-closed' }).join()).toMatch(/\/status must be equal to one of the allowed values/);
    expect(hsdsErrors({ id: uuidV5('x'), name: 'x', status: 'active', organization: { id: uuidV5('o'), name: 'o' } }).join()).toMatch(/must have required property 'description'/);
    expect(hsdsErrors({ id: uuidV5('x'), name: 'x', status: 'active' })).toEqual([]);
  });

  it('allows the x_ extensions: the HSDS schema never forbids additional properties', () => {
    const forbids: string[] = [];
    const walk = (node: unknown, at: string) => {
      if (!node || typeof node !== 'object') return;
      if ((node as Record<string, unknown>).additionalProperties === false) forbids.push(at);
      for (const [k, v] of Object.entries(node)) walk(v, `${at}/${k}`);
    };
    walk(hsdsSchema, '#');
    expect(forbids).toEqual([]);
  });
});

describe('toHsdsService', () => {
  it('covers a seed of several services', () => {
    expect(directory.services.length).toBe(8);
  });

  for (const service of directory.services) {
    it.each(STATES(service))(`${service.id} validates against service_with_definitions.json (%s)`, (_label, live) => {
      const out = toHsdsService(service, organizationOf(service), live);
      expect(hsdsErrors(out)).toEqual([]);
      // ... and against the schema the OpenAPI document publishes for it, and survives JSON.
      expect(HsdsService.parse(out)).toEqual(out);
      expect(JSON.parse(JSON.stringify(out))).toEqual(out);
    });
  }

  it('maps the service, its organization, areas, need domains and eligibility', () => {
    const service = findService(directory, 'bcwa-domestic-abuse') as Service;
    const out = toHsdsService(service, organizationOf(service));
    expect(out).toMatchObject({
      id: hsdsId.service('bcwa-domestic-abuse'),
      organization_id: hsdsId.organization('bcwa'),
      name: 'Domestic abuse advocacy',
      description: service.description,
      status: 'active',
      eligibility_description: 'Women aged 16 and over.',
      minimum_age: 16,
      x_service_id: 'bcwa-domestic-abuse',
      x_capacity: { capacity: 20, in_use: 0, available: 20 },
      organization: { id: hsdsId.organization('bcwa'), name: "Black Country Women's Aid", x_provider_id: 'bcwa' },
    });
    expect(out.organization.description).toMatch(/Black Country/);
    expect(out).not.toHaveProperty('maximum_age');
    expect(out).not.toHaveProperty('alert');
    expect(out).not.toHaveProperty('last_modified');
    expect(out.id).toMatch(UUID_V5);

    expect(out.service_areas.map((a) => a.x_local_authority)).toEqual(['birmingham', 'dudley', 'sandwell', 'walsall', 'wolverhampton']);
    expect(out.service_areas[0]).toEqual({
      id: hsdsId.serviceArea('bcwa-domestic-abuse', 'birmingham'),
      service_id: out.id,
      name: 'Birmingham',
      description: 'The Birmingham local authority area (ONS code E08000025).',
      uri: 'https://statistics.data.gov.uk/id/statistical-geography/E08000025',
      x_local_authority: 'birmingham',
    });
    expect(new Set(out.service_areas.map((a) => a.id)).size).toBe(5);

    expect(out.attributes.map((a) => a.taxonomy_term.code)).toEqual(['domestic-abuse', 'trauma', 'sexual-exploitation', 'emotional-resilience']);
    const [first] = out.attributes;
    expect(first).toEqual({
      id: hsdsId.attribute('bcwa-domestic-abuse', 'domestic-abuse'),
      link_id: out.id,
      link_type: 'need_domain',
      link_entity: 'service',
      taxonomy_term_id: hsdsId.taxonomyTerm('domestic-abuse'),
      taxonomy_term: {
        id: hsdsId.taxonomyTerm('domestic-abuse'),
        code: 'domestic-abuse',
        name: 'Domestic abuse',
        description: NEED_DOMAIN_TERMS['domestic-abuse'].description,
        taxonomy: NEED_DOMAIN_TAXONOMY,
        taxonomy_id: hsdsId.taxonomy(),
        taxonomy_detail: { id: hsdsId.taxonomy(), name: 'wraparound-need-domains', description: expect.any(String) },
      },
    });
  });

  it('maps temporarily-closed to the HSDS status "temporarily closed", with nothing available and an alert', () => {
    const service = findService(directory, 'anawim-womens-centre') as Service;
    const out = toHsdsService(service, organizationOf(service), { capacity: 25, status: 'temporarily-closed', inUse: 7, updatedAt: '2026-03-03T09:30:00.000Z' });
    expect(out.status).toBe('temporarily closed');
    expect(out.x_capacity).toEqual({ capacity: 25, in_use: 7, available: 0 });
    expect(out.alert).toMatch(/Temporarily closed/);
    expect(out.last_modified).toBe('2026-03-03T09:30:00.000Z');
  });

  it('takes capacity and status from the live state; a full or over-full service has nothing available', () => {
    const service = findService(directory, 'gsa-wellbeing') as Service;
    expect(toHsdsService(service, organizationOf(service), { capacity: 4, status: 'active', inUse: 1 }).x_capacity).toEqual({ capacity: 4, in_use: 1, available: 3 });
    const full = toHsdsService(service, organizationOf(service), { capacity: 4, status: 'active', inUse: 4 });
    expect(full).toMatchObject({ status: 'active', x_capacity: { available: 0 }, alert: expect.stringMatching(/Full/) });
    expect(toHsdsService(service, organizationOf(service), { capacity: 1, status: 'active', inUse: 3 }).x_capacity).toEqual({ capacity: 1, in_use: 3, available: 0 });
  });

  it('describes eligibility from sex and ages', () => {
    const base = findService(directory, 'gsa-wellbeing') as Service;
    const org = organizationOf(base);
    const withEligibility = (eligibility: Service['eligibility']) => toHsdsService({ ...base, eligibility }, org);
    expect(withEligibility({ sex: ['female', 'male'], minAge: 16, maxAge: 25 })).toMatchObject({ eligibility_description: 'Women and men aged 16 to 25.', minimum_age: 16, maximum_age: 25 });
    expect(withEligibility({ sex: ['male'], minAge: 18, maxAge: 130 }).eligibility_description).toBe('Men aged 18 and over.');
  });

  it('carries an organization website and email when the directory has them', () => {
    const service = findService(directory, 'gsa-wellbeing') as Service;
    const out = toHsdsService(service, { ...organizationOf(service), website: 'https://example.org/gsa', email: 'referrals@example.org' });
    expect(out.organization).toMatchObject({ website: 'https://example.org/gsa', email: 'referrals@example.org' });
    expect(hsdsErrors(out)).toEqual([]);
  });

  it('refuses an organization that does not run the service', () => {
    const service = findService(directory, 'gsa-wellbeing') as Service;
    expect(() => toHsdsService(service, directory.organizations.find((o) => o.id === 'bcwa') as Organization)).toThrow(/does not run/);
  });

  it('has a name for every need domain and every local authority', () => {
    for (const d of NEED_DOMAINS) expect(NEED_DOMAIN_TERMS[d].name.length, d).toBeGreaterThan(0);
    for (const a of LOCAL_AUTHORITIES) expect(LOCAL_AUTHORITY_AREAS[a].gss, a).toMatch(/^E0[68]\d{6}$|^E10\d{6}$/);
  });
});

describe('identifiers', () => {
  it('are RFC 9562 version 5 UUIDs', () => {
    // The RFC's own example: www.example.com in the DNS namespace.
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
    expect(hsdsId.service('anawim-womens-centre')).toMatch(UUID_V5);
  });

  it('are stable and distinct across every kind of record', () => {
    expect(hsdsId.service('bcwa-domestic-abuse')).toBe(hsdsId.service('bcwa-domestic-abuse'));
    const ids = [
      ...directory.services.map((s) => hsdsId.service(s.id)),
      ...directory.organizations.map((o) => hsdsId.organization(o.id)),
      ...NEED_DOMAINS.map((d) => hsdsId.taxonomyTerm(d)),
      hsdsId.taxonomy(),
      ...directory.services.flatMap((s) => [...s.serviceAreas.map((a) => hsdsId.serviceArea(s.id, a)), ...s.needDomains.map((d) => hsdsId.attribute(s.id, d))]),
    ];
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('find services, organizations and need domains by their own id or their uuid', () => {
    expect(findService(directory, 'bcwa-domestic-abuse')?.id).toBe('bcwa-domestic-abuse');
    expect(findService(directory, hsdsId.service('bcwa-domestic-abuse'))?.id).toBe('bcwa-domestic-abuse');
    expect(findService(directory, hsdsId.service('bcwa-domestic-abuse').toUpperCase())?.id).toBe('bcwa-domestic-abuse');
    expect(findService(directory, 'no-such-service')).toBeUndefined();
    expect(findService(directory, hsdsId.organization('bcwa'))).toBeUndefined();
    expect(findOrganization(directory, 'anawim')?.id).toBe('anawim');
    expect(findOrganization(directory, hsdsId.organization('anawim'))?.id).toBe('anawim');
    expect(findOrganization(directory, 'anawim-womens-centre')).toBeUndefined();
    expect(findNeedDomain('trauma')).toBe('trauma');
    expect(findNeedDomain(hsdsId.taxonomyTerm('trauma'))).toBe('trauma');
    expect(findNeedDomain('astrology')).toBeUndefined();
  });
});

describe('paginate', () => {
  const items = Array.from({ length: 8 }, (_, i) => i + 1);

  it('pages as the HSDS API reference describes', () => {
    expect(paginate(items, 1, 3)).toEqual({ total_items: 8, total_pages: 3, page_number: 1, size: 3, first_page: true, last_page: false, empty: false, contents: [1, 2, 3] });
    expect(paginate(items, 2, 3)).toMatchObject({ page_number: 2, size: 3, first_page: false, last_page: false, contents: [4, 5, 6] });
    expect(paginate(items, 3, 3)).toMatchObject({ page_number: 3, size: 2, first_page: false, last_page: true, empty: false, contents: [7, 8] });
    expect(paginate(items, 1, 8)).toMatchObject({ total_pages: 1, size: 8, first_page: true, last_page: true });
    expect(paginate(items, 1, 100)).toMatchObject({ total_pages: 1, size: 8 });
  });

  it('has an empty first page when nothing matches, and nothing past the last page', () => {
    expect(paginate([], 1, 25)).toEqual({ total_items: 0, total_pages: 0, page_number: 1, size: 0, first_page: true, last_page: true, empty: true, contents: [] });
    expect(paginate([], 2, 25)).toBeUndefined();
    expect(paginate(items, 4, 3)).toBeUndefined();
    expect(paginate(items, 2, 8)).toBeUndefined();
  });
});

describe('request schemas', () => {
  it('reads the list query from strings, with defaults and limits', () => {
    expect(DirectoryListQuery.parse({})).toEqual({ page: 1, per_page: 25 });
    expect(DirectoryListQuery.parse({ page: '2', per_page: '100', taxonomy_term_id: 'trauma', organization_id: 'bcwa' })).toEqual({ page: 2, per_page: 100, taxonomy_term_id: 'trauma', organization_id: 'bcwa' });
    for (const bad of [{ page: '0' }, { page: '1.5' }, { page: 'x' }, { per_page: '101' }, { per_page: '0' }, { search: 'x' }]) expect(DirectoryListQuery.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
  });

  it('takes capacity, status or both, nothing else', () => {
    expect(ServiceAvailabilityChange.parse({ capacity: 0 })).toEqual({ capacity: 0 });
    expect(ServiceAvailabilityChange.parse({ status: 'temporarily-closed', capacity: 3 })).toEqual({ status: 'temporarily-closed', capacity: 3 });
    for (const bad of [{}, { capacity: -1 }, { capacity: 1.5 }, { capacity: '3' }, { status: 'temporarily closed' }, { status: 'inactive' }, { capacity: 1, note: 'x' }])
      expect(ServiceAvailabilityChange.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
  });
});
