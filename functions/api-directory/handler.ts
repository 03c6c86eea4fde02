import type { DirectoryStore, ServiceState } from '../../lib/adapters/dynamodb/directory-store.ts';
import type { AuditLog } from '../../lib/adapters/dynamodb/audit-log.ts';
import type { ServiceChange } from '../../lib/adapters/dynamodb/audit-record.ts';
import { auditAccess } from '../../lib/api/audit-access.ts';
import { apiHandler, type Logger, type RouteContext } from '../../lib/api/handler-kit.ts';
import { json, parseWith, problem, readJsonBody } from '../../lib/api/http.ts';
import {
  DirectoryListQuery,
  findNeedDomain,
  findOrganization,
  findService,
  NEED_DOMAIN_TAXONOMY,
  paginate,
  ServiceAvailabilityChange,
  toHsdsService,
  type LiveServiceState,
} from '../../lib/directory/hsds.ts';
import type { Directory, Service } from '../../lib/domain/directory.ts';
import { awsDeps } from '../../lib/runtime/aws.ts';

export interface DirectoryApiDeps {
  baseDirectory: Directory;
  services: DirectoryStore;
  clock: () => string;
  /** Every change of a service is recorded here before it is made: who, when, which service, old and new. */
  audit: AuditLog;
  /** Where an unexpected error is logged (default console.error): the embedded stack tells its stop's doing apart. */
  logger?: Logger;
}

const liveOf = (state: ServiceState): LiveServiceState => ({
  capacity: state.capacity,
  status: state.status,
  inUse: Object.keys(state.holds ?? {}).length,
  updatedAt: state.updatedAt,
});

/**
 * The provider directory API, Open Referral UK style: public HSDS 3 reads (a paginated list with
 * taxonomy-term and organization filters, and one fully nested service), and team leads' changes
 * of a service's capacity or status, which the next allocation uses (both live in the service's
 * state item, which allocation reads and reserves against).
 */
export function makeHandler(deps: DirectoryApiDeps) {
  const base = deps.baseDirectory;
  const organizationOf = (service: Service) => {
    const organization = base.organizations.find((o) => o.id === service.organizationId);
    if (!organization) throw new Error(`service ${service.id} names no organization of the directory`);
    return organization;
  };
  const view = (service: Service, state: ServiceState) => toHsdsService(service, organizationOf(service), liveOf(state));

  /** The state of every service; a service of the file with none yet (a new file) gets it first. */
  async function states(): Promise<Map<string, ServiceState>> {
    let all = new Map((await deps.services.states()).map((s) => [s.serviceId, s]));
    if (base.services.some((s) => !all.has(s.id))) {
      await deps.services.seed(base, deps.clock());
      all = new Map((await deps.services.states()).map((s) => [s.serviceId, s]));
    }
    return all;
  }

  async function stateOf(service: Service): Promise<ServiceState> {
    let state = await deps.services.state(service.id);
    if (!state) {
      await deps.services.seed(base, deps.clock());
      state = await deps.services.state(service.id);
    }
    if (!state) throw new Error(`service ${service.id} has no state after seeding`);
    return state;
  }

  /** The service the path names (its id or its HSDS uuid), checked against the directory file. */
  function serviceIn(ctx: RouteContext): Service {
    const id = ctx.params.serviceId ?? '';
    const service = findService(base, id);
    if (!service) throw problem(404, `There is no service ${JSON.stringify(id)} in the directory.`);
    return service;
  }

  async function list(ctx: RouteContext) {
    const query = parseWith(DirectoryListQuery, ctx.event.queryStringParameters ?? {}, 'query');
    const domain = query.taxonomy_term_id === undefined ? undefined : findNeedDomain(query.taxonomy_term_id);
    if (query.taxonomy_term_id !== undefined && !domain) {
      const message = `is not a term of ${NEED_DOMAIN_TAXONOMY} (a need domain or its uuid)`;
      throw problem(400, `taxonomy_term_id: ${message}`, [{ path: 'taxonomy_term_id', message }]);
    }
    const organization = query.organization_id === undefined ? undefined : findOrganization(base, query.organization_id);
    if (query.organization_id !== undefined && !organization) {
      const message = 'is not an organization of the directory (a provider id or its uuid)';
      throw problem(400, `organization_id: ${message}`, [{ path: 'organization_id', message }]);
    }
    const matching = base.services.filter((s) => (!domain || s.needDomains.includes(domain)) && (!organization || s.organizationId === organization.id));
    const page = paginate(matching, query.page, query.per_page);
    if (!page) {
      const message = `is past the last page (${Math.max(1, Math.ceil(matching.length / query.per_page))})`;
      throw problem(400, `page: ${message}`, [{ path: 'page', message }]);
    }
    const live = page.contents.length > 0 ? await states() : new Map<string, ServiceState>();
    return json(200, {
      ...page,
      contents: page.contents.map((s) => {
        const state = live.get(s.id);
        return state ? view(s, state) : toHsdsService(s, organizationOf(s));
      }),
    });
  }

  async function one(ctx: RouteContext) {
    const service = serviceIn(ctx);
    return json(200, view(service, await stateOf(service)));
  }

  /**
   * A team lead's change of a service's capacity or status. Audited before it is made, with what it
   * replaces (old to new, as read), and made only if the service still holds what was read: a change by
   * someone else in between is a 409 that changes nothing (the record's outcome says refused).
   */
  async function change(ctx: RouteContext) {
    // Check the id against the directory before anything touches the store.
    const service = serviceIn(ctx);
    const body = parseWith(ServiceAvailabilityChange, readJsonBody(ctx.event), 'service change');
    const by = ctx.principal?.sub ?? 'unknown';
    const was = await stateOf(service);
    const now = deps.clock();
    const change: ServiceChange = {
      ...(body.capacity !== undefined ? { capacity: { from: was.capacity, to: body.capacity } } : {}),
      ...(body.status ? { status: { from: was.status, to: body.status } } : {}),
    };
    await auditAccess(deps.audit, ctx, 'change-service', { serviceId: service.id, providerId: service.organizationId, change }, now, 'oversight');
    const state = await deps.services.update(service.id, { ...(body.capacity !== undefined ? { capacity: body.capacity } : {}), ...(body.status ? { status: body.status } : {}) }, by, now, { capacity: was.capacity, status: was.status });
    if (!state) {
      throw problem(409, `${service.name} was changed by someone else while this change was being made: nothing was changed. Look at its capacity and status again, then make your change.`, [
        { path: '(body)', message: 'the service changed while this change was being made' },
      ]);
    }
    return json(200, view(service, state));
  }

  return apiHandler({
    'GET /directory/services': list,
    'GET /directory/services/{serviceId}': one,
    'PATCH /directory/services/{serviceId}': change,
  }, deps.logger);
}

let built: ReturnType<typeof makeHandler> | undefined;
export const handler = (...args: Parameters<ReturnType<typeof makeHandler>>) => {
  built ??= makeHandler({ ...awsDeps(), clock: () => new Date().toISOString() });
  return built(...args);
};
