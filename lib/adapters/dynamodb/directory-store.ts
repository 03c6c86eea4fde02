import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Directory, Service, ServiceLoad } from '../../domain/directory.ts';
import { keys } from './keys.ts';
import { conditionFailed, storageError } from './client.ts';

/**
 * The changing part of the provider directory, one item per service: capacity and status (which
 * team leads change) and the holds on its capacity. A hold is an allocation that is offered or
 * accepted; the offer reserves it and only its end releases it. Because the holds and the capacity
 * sit in one item, "no service over capacity" is a single conditional write, with no transaction,
 * however many plans allocate at once.
 */
export interface ServiceState {
  serviceId: string;
  capacity: number;
  status: Service['status'];
  holds: Record<string, { planId: string; since: string; token: string }>;
  updatedAt: string;
  updatedBy?: string;
}

export type ReserveResult = 'reserved' | 'already-held' | 'held-by-another-execution' | 'full' | 'closed' | 'unknown-service';

export class DirectoryStore {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  constructor(client: DynamoDBDocumentClient, tableName: string) {
    this.client = client;
    this.tableName = tableName;
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private async send<T>(command: any): Promise<T> {
    try {
      return (await this.client.send(command)) as T;
    } catch (error) {
      throw storageError(error);
    }
  }

  /** Create the state of every service the file lists and the table does not have yet; never overwrite. */
  async seed(directory: Directory, now: string): Promise<void> {
    await Promise.all(
      directory.services.map(async (s) => {
        try {
          await this.client.send(
            new PutCommand({
              TableName: this.tableName,
              Item: { ...keys.serviceState(s.id), type: 'service-state', serviceId: s.id, capacity: s.capacity, status: s.status, holds: {}, updatedAt: now },
              ConditionExpression: 'attribute_not_exists(pk)',
            }),
          );
        } catch (error) {
          if (!conditionFailed(error)) throw storageError(error);
        }
      }),
    );
  }

  async states(): Promise<ServiceState[]> {
    const { pk, skPrefix } = keys.serviceStatePrefix();
    const items: ServiceState[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.send<{ Items?: Record<string, unknown>[]; LastEvaluatedKey?: Record<string, unknown> }>(
        new QueryCommand({ TableName: this.tableName, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)', ExpressionAttributeValues: { ':pk': pk, ':p': skPrefix }, ConsistentRead: true, ExclusiveStartKey: start }),
      );
      for (const item of out.Items ?? []) items.push(item as unknown as ServiceState);
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }

  async state(serviceId: string): Promise<ServiceState | undefined> {
    const out = await this.send<{ Item?: ServiceState }>(new GetCommand({ TableName: this.tableName, Key: keys.serviceState(serviceId), ConsistentRead: true }));
    return out.Item;
  }

  /** The directory as it stands now (file + current capacity and status) and each service's load. */
  async current(base: Directory): Promise<{ directory: Directory; load: ServiceLoad }> {
    let states = new Map((await this.states()).map((s) => [s.serviceId, s]));
    if (base.services.some((s) => !states.has(s.id))) {
      // A service in the file with no state yet (first run, or a service added to the file): create it.
      await this.seed(base, new Date(0).toISOString());
      states = new Map((await this.states()).map((s) => [s.serviceId, s]));
    }
    const load: Record<string, number> = {};
    const services = base.services.map((service) => {
      const state = states.get(service.id);
      if (!state) return service;
      load[service.id] = Object.keys(state.holds ?? {}).length;
      return { ...service, capacity: state.capacity, status: state.status };
    });
    return { directory: { ...base, services }, load };
  }

  /**
   * Reserve one place for an allocation, only if the service is active and has room. The token names
   * the execution that reserved it: a retry of that execution finds its own hold ('already-held'),
   * while a concurrent execution that happened to pick the same allocation id does not.
   */
  async reserve(serviceId: string, allocationId: string, planId: string, now: string, token: string): Promise<ReserveResult> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.serviceState(serviceId),
          UpdateExpression: 'SET holds.#a = :hold',
          ConditionExpression: 'attribute_exists(pk) AND #status = :active AND size(holds) < #capacity AND attribute_not_exists(holds.#a)',
          ExpressionAttributeNames: { '#a': allocationId, '#status': 'status', '#capacity': 'capacity' },
          ExpressionAttributeValues: { ':hold': { planId, since: now, token }, ':active': 'active' },
        }),
      );
      return 'reserved';
    } catch (error) {
      if (!conditionFailed(error)) throw storageError(error);
      const state = await this.state(serviceId);
      if (!state) return 'unknown-service';
      const hold = state.holds?.[allocationId];
      if (hold) return hold.token === token ? 'already-held' : 'held-by-another-execution';
      return state.status === 'active' ? 'full' : 'closed';
    }
  }

  /**
   * Give the place back. Idempotent: releasing twice, or a hold that never was, changes nothing.
   * With a token, only that execution's own hold is released (undoing a reservation whose plan was
   * never saved); without one, whatever hold the allocation has (the allocation has ended).
   */
  async release(serviceId: string, allocationId: string, token?: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.serviceState(serviceId),
          UpdateExpression: 'REMOVE holds.#a',
          ConditionExpression: token ? 'attribute_exists(pk) AND holds.#a.#token = :token' : 'attribute_exists(pk)',
          ExpressionAttributeNames: token ? { '#a': allocationId, '#token': 'token' } : { '#a': allocationId },
          ...(token ? { ExpressionAttributeValues: { ':token': token } } : {}),
        }),
      );
    } catch (error) {
      if (!conditionFailed(error)) throw storageError(error);
    }
  }

  /**
   * A team lead's change of capacity or status; applies to the next allocation. Undefined when the
   * service has no state item, or (with `expected`) when its capacity or status is no longer what was
   * read: the change is then not made, so what the audit log says it replaced is what it replaced.
   */
  async update(serviceId: string, change: { capacity?: number; status?: Service['status'] }, by: string, now: string, expected?: { capacity: number; status: Service['status'] }): Promise<ServiceState | undefined> {
    const sets = ['updatedAt = :now', 'updatedBy = :by'];
    const values: Record<string, unknown> = { ':now': now, ':by': by };
    const names: Record<string, string> = {};
    let condition = 'attribute_exists(pk)';
    if (expected) {
      condition += ' AND #capacity = :wasCapacity AND #status = :wasStatus';
      names['#capacity'] = 'capacity';
      names['#status'] = 'status';
      values[':wasCapacity'] = expected.capacity;
      values[':wasStatus'] = expected.status;
    }
    if (change.capacity !== undefined) {
      sets.push('#capacity = :capacity');
      names['#capacity'] = 'capacity';
      values[':capacity'] = change.capacity;
    }
    if (change.status !== undefined) {
      sets.push('#status = :status');
      names['#status'] = 'status';
      values[':status'] = change.status;
    }
    try {
      const out = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.serviceState(serviceId),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: condition,
          ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}),
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return out.Attributes as ServiceState;
    } catch (error) {
      if (conditionFailed(error)) return undefined;
      throw storageError(error);
    }
  }
}
