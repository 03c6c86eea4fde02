import { createHash } from 'node:crypto';
import * as z from 'zod';
import { MAX_SERVICE_CAPACITY, NO_UPPER_AGE, ServiceStatus, type Directory, type Organization, type Service } from '../domain/directory.ts';
import { LOCAL_AUTHORITIES, NEED_DOMAINS, type LocalAuthority, type NeedDomain } from '../domain/taxonomy.ts';
import { MAX_SERVICES_PER_PAGE } from '../domain/vocabulary.ts';

/**
 * The provider directory as Open Referral (HSDS 3 / Open Referral UK) publishes it: each service
 * becomes an HSDS `service` with its `organization`, one `service_area` per local authority and one
 * `attribute` per need domain (a `taxonomy_term` of the taxonomy `wraparound-need-domains`).
 *
 * HSDS identifiers are UUIDs, so every identifier here is a name-based (version 5) UUID of the
 * directory's own id: stable across restarts and machines, and the same for the same slug in any
 * directory file. The API accepts either form wherever it takes an id.
 *
 * HSDS has no field for capacity, so it travels in documented extensions (the HSDS schema allows
 * additional properties; `x_` marks them as ours):
 *   - `x_service_id` / `x_provider_id`: the directory's own ids (slugs), as allocations name them;
 *   - `x_capacity`: `{ capacity, in_use, available }`, where `in_use` counts the allocations that
 *     hold a place (offered or accepted) and `available` is what the next allocation can use.
 * A temporarily closed or full service also says so in the HSDS `alert`.
 */

export const NEED_DOMAIN_TAXONOMY = 'wraparound-need-domains';

// ---------------------------------------------------------------------------------------------
// Identifiers

/** The namespace of every name-based UUID this module makes (fixed: changing it changes every id). */
const NAMESPACE = 'e58ac9b2-f4af-4c8c-85ef-cb3a724e78c1';

/** RFC 9562 version 5 (SHA-1, name-based) UUID of `name` in the Wraparound namespace. */
export function uuidV5(name: string, namespace = NAMESPACE): string {
  const hash = createHash('sha1').update(Buffer.from(namespace.replace(/-/g, ''), 'hex')).update(name, 'utf8').digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export const hsdsId = {
  service: (serviceId: string) => uuidV5(`service:${serviceId}`),
  organization: (providerId: string) => uuidV5(`organization:${providerId}`),
  taxonomy: () => uuidV5(`taxonomy:${NEED_DOMAIN_TAXONOMY}`),
  taxonomyTerm: (domain: NeedDomain) => uuidV5(`taxonomy_term:${NEED_DOMAIN_TAXONOMY}:${domain}`),
  serviceArea: (serviceId: string, area: LocalAuthority) => uuidV5(`service_area:${serviceId}:${area}`),
  attribute: (serviceId: string, domain: NeedDomain) => uuidV5(`attribute:${serviceId}:${domain}`),
};

// ---------------------------------------------------------------------------------------------
// Labels

export const NEED_DOMAIN_TERMS: Record<NeedDomain, { name: string; description: string }> = {
  accommodation: { name: 'Accommodation', description: 'Somewhere safe and settled to live: housing advice, tenancy support, emergency accommodation.' },
  'education-training-employment': { name: 'Education, training and employment', description: 'Learning, skills, volunteering, and getting into or keeping work.' },
  'physical-health': { name: 'Physical health', description: 'Access to primary care, long-term conditions and healthy living.' },
  'mental-health': { name: 'Mental health', description: 'Emotional and psychological wellbeing, and access to mental health services.' },
  'substance-misuse': { name: 'Substance misuse', description: 'Drug use: harm reduction, treatment and recovery.' },
  alcohol: { name: 'Alcohol', description: 'Alcohol use: harm reduction, treatment and recovery.' },
  'finance-benefit-debt': { name: 'Finance, benefit and debt', description: 'Income, benefits, budgeting and debt advice.' },
  'children-families': { name: 'Children and families', description: 'Parenting, contact with children and family relationships.' },
  'thinking-behaviour': { name: 'Thinking and behaviour', description: 'Thinking skills, decision making and offending behaviour.' },
  'domestic-abuse': { name: 'Domestic abuse', description: 'Safety planning, advocacy and recovery for women experiencing domestic abuse.' },
  'sexual-exploitation': { name: 'Sexual exploitation', description: 'Support for women affected by sexual exploitation, sex work or trafficking.' },
  trauma: { name: 'Trauma', description: 'Trauma-informed support and recovery from past harm.' },
  'emotional-resilience': { name: 'Emotional resilience', description: 'Confidence, self-esteem and coping.' },
  'interpersonal-skills': { name: 'Interpersonal skills', description: 'Relationships, communication and peer support.' },
};

/** Local authority names and their ONS GSS codes (the code identifies the area in `uri`). */
export const LOCAL_AUTHORITY_AREAS: Record<LocalAuthority, { name: string; gss: string }> = {
  birmingham: { name: 'Birmingham', gss: 'E08000025' },
  coventry: { name: 'Coventry', gss: 'E08000026' },
  dudley: { name: 'Dudley', gss: 'E08000027' },
  sandwell: { name: 'Sandwell', gss: 'E08000028' },
  solihull: { name: 'Solihull', gss: 'E08000029' },
  walsall: { name: 'Walsall', gss: 'E08000030' },
  wolverhampton: { name: 'Wolverhampton', gss: 'E08000031' },
  staffordshire: { name: 'Staffordshire', gss: 'E10000028' },
  warwickshire: { name: 'Warwickshire', gss: 'E10000031' },
  worcestershire: { name: 'Worcestershire', gss: 'E10000034' },
  shropshire: { name: 'Shropshire', gss: 'E06000051' },
  'telford-and-wrekin': { name: 'Telford and Wrekin', gss: 'E06000020' },
};

const HSDS_STATUS = { active: 'active', 'temporarily-closed': 'temporarily closed' } as const satisfies Record<Status, string>;

// ---------------------------------------------------------------------------------------------
// The HSDS shapes this API produces (a subset of HSDS 3; the unit tests validate the output
// against the HSDS JSON Schema itself). Used for the TypeScript types and the OpenAPI document.

const Uuid = z.uuid();

export const HsdsTaxonomy = z
  .object({ id: Uuid, name: z.string(), description: z.string() })
  .meta({ id: 'HsdsTaxonomy', description: 'An HSDS 3 taxonomy' });

export const HsdsTaxonomyTerm = z
  .object({
    id: Uuid,
    code: z.string().describe('The need domain, as plans name it'),
    name: z.string(),
    description: z.string(),
    taxonomy: z.literal(NEED_DOMAIN_TAXONOMY),
    taxonomy_id: Uuid,
    taxonomy_detail: HsdsTaxonomy,
  })
  .meta({ id: 'HsdsTaxonomyTerm', description: 'An HSDS 3 taxonomy term: one need domain' });

export const HsdsAttribute = z
  .object({
    id: Uuid,
    link_id: Uuid.describe('The service'),
    link_type: z.literal('need_domain'),
    link_entity: z.literal('service'),
    taxonomy_term_id: Uuid,
    taxonomy_term: HsdsTaxonomyTerm,
  })
  .meta({ id: 'HsdsAttribute', description: 'An HSDS 3 attribute tagging the service with a need domain' });

export const HsdsServiceArea = z
  .object({
    id: Uuid,
    service_id: Uuid,
    name: z.string().describe('The local authority'),
    description: z.string(),
    uri: z.url().describe('The area, by its ONS GSS code'),
    x_local_authority: z.enum(LOCAL_AUTHORITIES).describe('Extension: the local authority slug referrals use'),
  })
  .meta({ id: 'HsdsServiceArea', description: 'An HSDS 3 service area: one local authority' });

export const HsdsOrganization = z
  .object({
    id: Uuid,
    name: z.string(),
    description: z.string(),
    website: z.url().optional(),
    email: z.email().optional(),
    x_provider_id: z.string().describe('Extension: the provider id (slug) allocations and tokens name'),
  })
  .meta({ id: 'HsdsOrganization', description: 'An HSDS 3 organization: a provider' });

export const HsdsCapacity = z
  .object({
    capacity: z.number().int().min(0).describe('Open allocations the service can hold'),
    in_use: z.number().int().min(0).describe('Allocations holding a place now (offered or accepted)'),
    available: z.number().int().min(0).describe('Places the next allocation can use: 0 when full or temporarily closed'),
  })
  .meta({ id: 'HsdsCapacity', description: 'Extension x_capacity: live capacity (HSDS has no field for it)' });

export const HsdsService = z
  .object({
    id: Uuid,
    organization_id: Uuid,
    name: z.string(),
    description: z.string(),
    status: z.enum(['active', 'inactive', 'defunct', 'temporarily closed']).describe('This API uses active and temporarily closed'),
    alert: z.string().optional().describe('Present while the service is temporarily closed or full'),
    eligibility_description: z.string(),
    minimum_age: z.number().int(),
    maximum_age: z.number().int().optional().describe('Absent when the service takes women of any age from minimum_age up'),
    last_modified: z.iso.datetime().optional().describe("When the service's capacity or status last changed"),
    organization: HsdsOrganization,
    service_areas: z.array(HsdsServiceArea),
    attributes: z.array(HsdsAttribute),
    x_service_id: z.string().describe('Extension: the service id (slug) allocations name; PATCH takes it (or the uuid)'),
    x_capacity: HsdsCapacity,
  })
  .meta({ id: 'HsdsService', description: 'An HSDS 3 service (Open Referral UK), fully nested, with the x_ extensions' });
export type HsdsService = z.infer<typeof HsdsService>;

export const HsdsServicePage = z
  .object({
    total_items: z.number().int().min(0).describe('Services matching the filters'),
    total_pages: z.number().int().min(0).describe('ceil(total_items / per_page); 0 when nothing matches'),
    page_number: z.number().int().min(1),
    size: z.number().int().min(0).describe('Services on this page'),
    first_page: z.boolean(),
    last_page: z.boolean(),
    empty: z.boolean().describe('True when this page holds no service'),
    contents: z.array(HsdsService),
  })
  .meta({ id: 'HsdsServicePage', description: 'A page of services, as the HSDS API reference paginates' });
export type HsdsServicePage = z.infer<typeof HsdsServicePage>;

// ---------------------------------------------------------------------------------------------
// Requests

export const MAX_PER_PAGE = MAX_SERVICES_PER_PAGE;

export const DirectoryListQuery = z.strictObject({
  taxonomy_term_id: z.string().min(1).max(100).optional().describe('Only services tagged with this need domain (its code, e.g. domestic-abuse, or its taxonomy term uuid)'),
  organization_id: z.string().min(1).max(100).optional().describe("Only this organization's services (its provider id or its uuid)"),
  page: z.coerce.number().int().min(1).default(1).describe('1-based page number; no further than the last page'),
  per_page: z.coerce.number().int().min(1).max(MAX_PER_PAGE).default(25).describe('Services per page'),
});
export type DirectoryListQuery = z.infer<typeof DirectoryListQuery>;

export const ServiceAvailabilityChange = z
  .strictObject({
    capacity: z
      .number()
      .int()
      .min(0)
      .max(MAX_SERVICE_CAPACITY)
      .optional()
      .describe(`Open allocations the service can hold, 0 to ${MAX_SERVICE_CAPACITY}; below the places in use, nothing new is offered until enough end`),
    status: ServiceStatus.optional().describe('temporarily-closed: offered nothing new until active again'),
  })
  .refine((c) => c.capacity !== undefined || c.status !== undefined, { message: 'send capacity, status or both' })
  .meta({ id: 'ServiceAvailabilityChange', description: "A team lead's change of a service's capacity or status; it applies to the next allocation" });
export type ServiceAvailabilityChange = z.infer<typeof ServiceAvailabilityChange>;

export const DirectoryServiceIdParam = z.string().min(1).max(100).describe('The service id (slug, e.g. bcwa-domestic-abuse) or its HSDS uuid');

// ---------------------------------------------------------------------------------------------
// Lookups: the directory's own ids or their uuids

export function findService(directory: Directory, id: string): Service | undefined {
  return directory.services.find((s) => s.id === id || hsdsId.service(s.id) === id.toLowerCase());
}

export function findOrganization(directory: Directory, id: string): Organization | undefined {
  return directory.organizations.find((o) => o.id === id || hsdsId.organization(o.id) === id.toLowerCase());
}

export function findNeedDomain(id: string): NeedDomain | undefined {
  return NEED_DOMAINS.find((d) => d === id || hsdsId.taxonomyTerm(d) === id.toLowerCase());
}

// ---------------------------------------------------------------------------------------------
// Mapping

/** What the store knows about a service now. Without it, the file's capacity and status, nothing in use. */
export interface LiveServiceState {
  capacity: number;
  status: Status;
  inUse: number;
  updatedAt?: string;
}
type Status = Service['status'];

function eligibilityDescription(e: Service['eligibility']): string {
  const who = e.sex.includes('female') && e.sex.includes('male') ? 'Women and men' : e.sex.includes('male') ? 'Men' : 'Women';
  const ages = e.maxAge >= NO_UPPER_AGE ? `aged ${e.minAge} and over` : `aged ${e.minAge} to ${e.maxAge}`;
  return `${who} ${ages}.`;
}

export function toHsdsService(service: Service, organization: Organization, live?: LiveServiceState): HsdsService {
  if (organization.id !== service.organizationId) throw new Error(`organization ${organization.id} does not run service ${service.id}`);
  const state: LiveServiceState = live ?? { capacity: service.capacity, status: service.status, inUse: 0 };
  const id = hsdsId.service(service.id);
  const open = state.status === 'active';
  const available = open ? Math.max(0, state.capacity - state.inUse) : 0;
  const alert = !open ? 'Temporarily closed: not taking new allocations.' : available === 0 ? 'Full: no place free for a new allocation.' : undefined;
  const taxonomy = { id: hsdsId.taxonomy(), name: NEED_DOMAIN_TAXONOMY, description: 'Wraparound need domains: the reducing-reoffending pathways, the women’s pathways and specialist interventions.' };
  return {
    id,
    organization_id: hsdsId.organization(organization.id),
    name: service.name,
    description: service.description,
    status: HSDS_STATUS[state.status],
    ...(alert ? { alert } : {}),
    eligibility_description: eligibilityDescription(service.eligibility),
    minimum_age: service.eligibility.minAge,
    // No upper age is no maximum_age (HSDS's is optional), not 130 for a service finder to show as "18 to 130".
    ...(service.eligibility.maxAge < NO_UPPER_AGE ? { maximum_age: service.eligibility.maxAge } : {}),
    ...(state.updatedAt ? { last_modified: state.updatedAt } : {}),
    organization: {
      id: hsdsId.organization(organization.id),
      name: organization.name,
      description: organization.description,
      ...(organization.website ? { website: organization.website } : {}),
      ...(organization.email ? { email: organization.email } : {}),
      x_provider_id: organization.id,
    },
    service_areas: service.serviceAreas.map((area) => {
      const { name, gss } = LOCAL_AUTHORITY_AREAS[area];
      return {
        id: hsdsId.serviceArea(service.id, area),
        service_id: id,
        name,
        description: `The ${name} local authority area (ONS code ${gss}).`,
        uri: `https://statistics.data.gov.uk/id/statistical-geography/${gss}`,
        x_local_authority: area,
      };
    }),
    attributes: service.needDomains.map((domain) => ({
      id: hsdsId.attribute(service.id, domain),
      link_id: id,
      link_type: 'need_domain' as const,
      link_entity: 'service' as const,
      taxonomy_term_id: hsdsId.taxonomyTerm(domain),
      taxonomy_term: {
        id: hsdsId.taxonomyTerm(domain),
        code: domain,
        ...NEED_DOMAIN_TERMS[domain],
        taxonomy: NEED_DOMAIN_TAXONOMY,
        taxonomy_id: taxonomy.id,
        taxonomy_detail: taxonomy,
      },
    })),
    x_service_id: service.id,
    x_capacity: { capacity: state.capacity, in_use: state.inUse, available },
  };
}

/**
 * One page of `items` as the HSDS API reference describes it. `undefined` when `page` is past the
 * last page (page 1 always exists, empty when nothing matches).
 */
export function paginate<T>(items: readonly T[], page: number, perPage: number) {
  const totalPages = Math.ceil(items.length / perPage);
  if (page > Math.max(1, totalPages)) return undefined;
  const contents = items.slice((page - 1) * perPage, page * perPage);
  return {
    total_items: items.length,
    total_pages: totalPages,
    page_number: page,
    size: contents.length,
    first_page: page === 1,
    last_page: page >= totalPages,
    empty: contents.length === 0,
    contents,
  };
}
