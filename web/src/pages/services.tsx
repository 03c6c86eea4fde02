import { useCallback, useEffect, useState } from 'react';
import { api, ApiError } from '../api.ts';
import { everyDirectoryService } from '../directory.ts';
import { label } from '../domain.ts';
import { MAX_SERVICE_CAPACITY, SERVICE_STATUSES } from '../../../lib/domain/vocabulary.ts';
import { Form, options, Select, SubmitButton, TextInput, useSubmit } from '../forms.tsx';
import { Link } from '../router.tsx';
import { LoadError, Loading, Notice, PageTitle, Section } from '../ui.tsx';

/** What this page reads of an HSDS service (GET /directory/services, HsdsService in the OpenAPI). */
interface DirectoryService {
  x_service_id: string;
  name: string;
  status: string;
  organization: { name: string; x_provider_id: string };
  x_capacity: { capacity: number; in_use: number; available: number };
}

/**
 * Every service of the directory (each of its pages), reloaded on demand; what was loaded stays shown
 * while a reload is under way, as useResource does for one path.
 */
function useEveryService() {
  const [tick, setTick] = useState(0);
  const [state, setState] = useState<{ tick: number; data?: DirectoryService[]; error?: ApiError }>({ tick: -1 });
  useEffect(() => {
    const controller = new AbortController();
    everyDirectoryService<DirectoryService>({ signal: controller.signal })
      .then((data) => setState({ tick, data }))
      .catch((error: unknown) => {
        if ((error as Error).name === 'AbortError') return;
        setState({ tick, error: error instanceof ApiError ? error : new ApiError(0, 'Error', String(error)) });
      });
    return () => controller.abort();
  }, [tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data: state.data, error: state.error, loading: state.tick !== tick, reload };
}

/** A service holding more places than its capacity (lowered since): how many more, and what frees one. */
const overWords = (held: number, capacity: number) =>
  `${held - capacity} more than its capacity: ${capacity === 0 ? 'none free while its capacity is 0' : `none free until ${held - capacity + 1} of them go (an allocation ends; an offer is declined, withdrawn or expires)`}`;

/** The HSDS status words ('temporarily closed') back to the directory's code ('temporarily-closed'). */
const statusCode = (hsds: string) => hsds.replace(/ /g, '-');

/**
 * The team lead's view of the provider directory: each service's capacity (open allocations it can
 * hold), the places its allocations hold now, and whether it takes new ones; each can be changed here
 * (PATCH /directory/services/{id}), which applies to the next allocation and is recorded in the audit log.
 */
export function ServicesPage() {
  const services = useEveryService();
  const byProvider = new Map<string, DirectoryService[]>();
  for (const s of services.data ?? []) byProvider.set(s.organization.name, [...(byProvider.get(s.organization.name) ?? []), s]);
  return (
    <>
      <PageTitle>Services and capacity</PageTitle>
      <p className="lead">
        Each partner service's capacity (how many open allocations it can hold), the places its offers and allocations hold now, and whether it takes new ones. A change applies to the next allocation; every change is in the{' '}
        <Link to="/audit-log">audit log</Link>, with the capacity before and after. A place made free is not offered to plans already waiting (needs left unmet for lack of capacity): their coordinators offer it by hand.
      </p>
      {services.loading && !services.data && <Loading what="the services" />}
      {services.error && <LoadError error={services.error} what="the services" onRetry={services.reload} />}
      {[...byProvider.entries()].map(([provider, list]) => (
        <Section key={provider} title={provider}>
          {list.map((s) => (
            <ServiceCapacity key={s.x_service_id} service={s} onSaved={services.reload} />
          ))}
        </Section>
      ))}
    </>
  );
}

function ServiceCapacity({ service, onSaved }: { service: DirectoryService; onSaved: () => void }) {
  const [capacity, setCapacity] = useState(String(service.x_capacity.capacity));
  const [status, setStatus] = useState(statusCode(service.status));
  const submit = useSubmit();
  const held = service.x_capacity.in_use;
  const save = () => {
    // Sent as typed: the API checks it and names the field ("must be a whole number"); blank is no number at all.
    const typed = capacity.trim() === '' ? undefined : Number(capacity.trim());
    const body = { capacity: typed === undefined || Number.isNaN(typed) ? capacity : typed, status };
    void submit
      .run(() => api('PATCH', `/directory/services/${encodeURIComponent(service.x_service_id)}`, { body }), `${service.name}: capacity ${body.capacity}, ${label(status).toLowerCase()}. Saved.`)
      .then((saved) => saved !== undefined && onSaved());
  };
  const id = service.x_service_id;
  return (
    <article className="service-capacity" aria-labelledby={`service-${id}`}>
      <h3 id={`service-${id}`}>{service.name}</h3>
      <p>
        {held} {held === 1 ? 'place' : 'places'} held of {service.x_capacity.capacity}
        {/* A capacity lowered below the places held: said, so "0 free" is not read as full to the brim. */}
        {held > service.x_capacity.capacity ? `, ${overWords(held, service.x_capacity.capacity)}` : `; ${service.x_capacity.available} free`}. {label(statusCode(service.status))}.
      </p>
      {submit.done && <Notice>{submit.done}</Notice>}
      <Form label={`Change ${service.name}`} error={submit.error} onSubmit={save} idPrefix={`${id}-`} className="form filters-form">
        <TextInput path="capacity" label="Capacity" hint={`Open allocations it can hold, 0 to ${MAX_SERVICE_CAPACITY}. Below the places held, nothing new is offered until enough go.`} inputMode="numeric" width="short" value={capacity} onChange={setCapacity} />
        <Select path="status" label="Status" value={status} onChange={setStatus} options={options(SERVICE_STATUSES, label)} />
        <SubmitButton busy={submit.busy}>Save</SubmitButton>
      </Form>
    </article>
  );
}
