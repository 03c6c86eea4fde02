import * as z from 'zod';
import { LocalAuthority, NeedDomain } from './taxonomy.ts';
import { ProviderId, ServiceId } from './schemas.ts';
import { MAX_SERVICE_CAPACITY, SERVICE_STATUSES } from './vocabulary.ts';

/**
 * The provider directory, shaped after Open Referral (HSDS): organizations run services; a service
 * is tagged with need-domain taxonomy terms, covers service areas (local authorities), has
 * eligibility and a capacity (open allocations it can hold).
 */
export const Organization = z.strictObject({
  id: ProviderId,
  name: z.string().min(1).max(200),
  description: z.string().max(2000).default(''),
  website: z.url().optional(),
  email: z.email().optional(),
});
export type Organization = z.infer<typeof Organization>;

export { MAX_SERVICE_CAPACITY, SERVICE_STATUSES };
export const ServiceStatus = z.enum(SERVICE_STATUSES);

/** A service's maxAge for "no upper age" (its default): no person is older. HSDS leaves maximum_age out for it (lib/directory/hsds.ts). */
export const NO_UPPER_AGE = 130;

export const Service = z
  .strictObject({
    id: ServiceId,
    organizationId: ProviderId,
    name: z.string().min(1).max(200),
    description: z.string().max(2000).default(''),
    status: ServiceStatus.default('active'),
    needDomains: z.array(NeedDomain).min(1),
    serviceAreas: z.array(LocalAuthority).min(1),
    eligibility: z
      .strictObject({
        sex: z.array(z.enum(['female', 'male'])).min(1).default(['female']),
        minAge: z.number().int().min(0).max(NO_UPPER_AGE).default(18),
        maxAge: z.number().int().min(0).max(NO_UPPER_AGE).default(NO_UPPER_AGE),
      })
      .default({ sex: ['female'], minAge: 18, maxAge: NO_UPPER_AGE }),
    capacity: z.number().int().min(0).max(MAX_SERVICE_CAPACITY),
  })
  .refine((s) => s.eligibility.minAge <= s.eligibility.maxAge, { path: ['eligibility', 'maxAge'], message: 'must not be below minAge' });
export type Service = z.infer<typeof Service>;

export const Directory = z
  .strictObject({
    name: z.string().min(1),
    illustrative: z.boolean().default(false),
    organizations: z.array(Organization).min(1),
    services: z.array(Service).min(1),
  })
  .superRefine((dir, ctx) => {
    const orgIds = new Set<string>();
    dir.organizations.forEach((o, i) => {
      if (orgIds.has(o.id)) ctx.addIssue({ code: 'custom', path: ['organizations', i, 'id'], message: `duplicate organization id "${o.id}"` });
      orgIds.add(o.id);
    });
    const serviceIds = new Set<string>();
    dir.services.forEach((s, i) => {
      if (serviceIds.has(s.id)) ctx.addIssue({ code: 'custom', path: ['services', i, 'id'], message: `duplicate service id "${s.id}"` });
      serviceIds.add(s.id);
      if (!orgIds.has(s.organizationId)) ctx.addIssue({ code: 'custom', path: ['services', i, 'organizationId'], message: `unknown organization "${s.organizationId}"` });
    });
  });
export type Directory = z.infer<typeof Directory>;

/** Open allocations (offered or accepted) per service id, across every plan. */
export type ServiceLoad = Readonly<Record<string, number>>;
