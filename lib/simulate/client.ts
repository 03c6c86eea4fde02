/**
 * The simulator's HTTP client: every request through the real API, counted. Every POST carries an
 * Idempotency-Key, so a request retried after a dropped connection or a 5xx is never applied twice.
 * A 409 version conflict (another command changed the plan at the same moment) is retried after the
 * caller reloads the plan and confirms the command still makes sense. Any other refusal is the
 * simulator's own mistake: counted and reported, never fatal. A 5xx is reported loudly.
 */
import { POSSIBLE_DUPLICATE_TYPE } from '../domain/vocabulary.ts';

export interface RunCounters {
  /** POSTs that changed something or were refused (clock moves not included). */
  commands: number;
  reads: number;
  clockAdvances: number;
  conflictRetries: number;
  networkRetries: number;
}

export interface ApiError {
  label: string;
  method: string;
  path: string;
  status: number;
  detail: string;
}

/** The plan ids a possible-duplicate refusal (409, type possible-duplicate) names, if that is what `json` is. */
function possibleDuplicatesNamed(json: unknown): string[] | undefined {
  const problem = json as { type?: unknown; possibleDuplicates?: { planId?: unknown }[] } | undefined;
  if (problem?.type !== POSSIBLE_DUPLICATE_TYPE || !Array.isArray(problem.possibleDuplicates)) return undefined;
  return problem.possibleDuplicates.map((p) => String(p.planId));
}

export interface ApiResult<T> {
  ok: boolean;
  status: number;
  json: T;
}

export interface ClientHooks {
  /** A refusal caused by what the simulator sent (4xx other than a version conflict). */
  onClientError(error: ApiError): void;
  /** A server failure (5xx) or a connection that never answered: reported loudly. */
  onServerError(error: ApiError): void;
}

const VERSION_CONFLICT = /at the same time|reload it and try again/i;
const MAX_CONFLICT_RETRIES = 8;
const MAX_TRANSPORT_RETRIES = 3;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class SimulationClient {
  readonly baseUrl: string;
  readonly counters: RunCounters = { commands: 0, reads: 0, clockAdvances: 0, conflictRetries: 0, networkRetries: 0 };
  /** Time spent per kind of request (label), for the summary's request table. */
  readonly timings = new Map<string, { count: number; totalMs: number }>();
  private readonly hooks: ClientHooks;

  constructor(baseUrl: string, hooks: ClientHooks) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.hooks = hooks;
  }

  private async send(method: string, path: string, token: string | undefined, body: unknown, key: string | undefined): Promise<{ status: number; json: unknown }> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (key) headers['idempotency-key'] = key;
    const response = await fetch(`${this.baseUrl}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = { detail: text.slice(0, 300) };
    }
    return { status: response.status, json };
  }

  /** One request, retried with the same key and body after a dropped connection or a 5xx. */
  private async attempt(label: string, method: string, path: string, token: string | undefined, body: unknown, key: string | undefined) {
    for (let tries = 1; ; tries += 1) {
      try {
        const began = performance.now();
        const result = await this.send(method, path, token, body, key);
        const timing = this.timings.get(label) ?? { count: 0, totalMs: 0 };
        timing.count += 1;
        timing.totalMs += performance.now() - began;
        this.timings.set(label, timing);
        if (result.status >= 500) {
          this.hooks.onServerError({ label, method, path, status: result.status, detail: detailOf(result.json) });
          // Safe to repeat: the key makes a second delivery of an applied command a replay.
          if (key && tries < MAX_TRANSPORT_RETRIES) {
            this.counters.networkRetries += 1;
            await sleep(50 * tries);
            continue;
          }
        }
        return result;
      } catch (error) {
        if (tries >= MAX_TRANSPORT_RETRIES) {
          const failure = { label, method, path, status: 0, detail: `no answer: ${(error as Error).message}` };
          this.hooks.onServerError(failure);
          return { status: 0, json: { detail: failure.detail } };
        }
        this.counters.networkRetries += 1;
        await sleep(100 * tries);
      }
    }
  }

  async get<T>(path: string, token?: string, label = `GET ${path.split('?')[0]}`): Promise<ApiResult<T>> {
    this.counters.reads += 1;
    const result = await this.attempt(label, 'GET', path, token, undefined, undefined);
    const ok = result.status >= 200 && result.status < 300;
    if (!ok && result.status >= 400 && result.status < 500) this.hooks.onClientError({ label, method: 'GET', path, status: result.status, detail: detailOf(result.json) });
    return { ok, status: result.status, json: result.json as T };
  }

  /**
   * A command. On a version conflict `reload` is called (it re-reads the plan) and says whether the
   * command still applies; if it does, the same request goes again under the same key.
   */
  async post<T>(label: string, path: string, token: string, body: unknown, key: string, reload?: () => Promise<boolean>): Promise<ApiResult<T>> {
    for (let conflicts = 0; ; conflicts += 1) {
      this.counters.commands += 1;
      const result = await this.attempt(label, 'POST', path, token, body, key);
      if (result.status >= 200 && result.status < 300) return { ok: true, status: result.status, json: result.json as T };
      // A referral warned of as a possible duplicate (her name and date of birth nearly match another
      // simulated woman's with an open plan): every simulated woman is someone else, so the coordinator,
      // having checked the plans named, confirms it and refers her again (the key's first try was refused, so it is free).
      const named = possibleDuplicatesNamed(result.json);
      if (result.status === 409 && named && typeof body === 'object' && body !== null && !('notDuplicateOf' in body)) {
        body = { ...body, notDuplicateOf: named };
        continue;
      }
      const detail = detailOf(result.json);
      if (result.status === 409 && VERSION_CONFLICT.test(detail) && conflicts < MAX_CONFLICT_RETRIES) {
        this.counters.conflictRetries += 1;
        await sleep(5 + conflicts * 10);
        if (reload && !(await reload())) return { ok: false, status: 409, json: result.json as T };
        continue;
      }
      if (result.status >= 400 && result.status < 500) this.hooks.onClientError({ label, method: 'POST', path, status: result.status, detail });
      return { ok: false, status: result.status, json: result.json as T };
    }
  }

  /** Move the stack's simulated clock; the stack sweeps every `stepHours` on the way. */
  async advance(token: string, body: { days?: number; hours?: number; minutes?: number; stepHours?: number }): Promise<{ now: string; timersSent?: number }> {
    this.counters.clockAdvances += 1;
    const result = await this.attempt('advance clock', 'POST', '/_local/clock/advance', token, body, undefined);
    if (result.status !== 200) throw new Error(`the clock did not move (${result.status}): ${detailOf(result.json)}`);
    return result.json as { now: string; timersSent?: number };
  }
}

export function detailOf(json: unknown): string {
  if (json && typeof json === 'object') {
    const j = json as { detail?: unknown; title?: unknown };
    if (typeof j.detail === 'string') return j.detail;
    if (typeof j.title === 'string') return j.title;
  }
  return JSON.stringify(json ?? null).slice(0, 300);
}

/** Run tasks with at most `limit` at once; results in the order of the tasks. */
export async function pool<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) {
      const i = next;
      next += 1;
      results[i] = await work(items[i] as T, i);
    }
  });
  await Promise.all(lanes);
  return results;
}
