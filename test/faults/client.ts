/**
 * A well-behaved API client under faults: every command carries its own Idempotency-Key and is sent
 * again, with that same key, until an answer that is not a 5xx arrives (a reset connection or a
 * refused one, while the stack restarts, counts as a 5xx). Every attempt and every final answer is
 * recorded, so the test can check afterwards what the clients were told against what the store holds.
 */
import { RawClient } from '../fuzz/raw-http.ts';
import type { Json } from '../support/http.ts';

export interface CommandRecord {
  planId: string;
  /** The command's path segment (refer for POST /plans). */
  command: string;
  /** The key the client sent; the plan remembers `${sub}:${key}`. */
  key: string;
  sub: string;
  status: number;
  attempts: number;
  /** The plan version in the answer, when the answer is a plan view. */
  version?: number;
  replayed: boolean;
  phase: 'cohort' | 'follow-up';
  detail?: string;
}

export interface ClientCounts {
  requests: number;
  retries: number;
  networkErrors: number;
  serverErrors: number;
  statuses: Record<string, number>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class PatientClient {
  readonly counts: ClientCounts = { requests: 0, retries: 0, networkErrors: 0, serverErrors: 0, statuses: {} };
  readonly commands: CommandRecord[] = [];
  phase: CommandRecord['phase'] = 'cohort';
  private readonly http: RawClient;
  private readonly maxAttempts: number;

  constructor(baseUrl: string, options: { sockets?: number; maxAttempts?: number } = {}) {
    this.http = new RawClient(baseUrl, options.sockets ?? 8);
    this.maxAttempts = options.maxAttempts ?? 400;
  }

  /** One request, sent until it is answered with something other than a 5xx. */
  async send(method: string, path: string, token: string, body?: unknown, key?: string): Promise<{ status: number; json: Json; text: string; attempts: number; replayed: boolean }> {
    const headers: [string, string][] = [['authorization', `Bearer ${token}`]];
    if (body !== undefined) headers.push(['content-type', 'application/json']);
    if (key) headers.push(['idempotency-key', key]);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    for (let attempt = 1; ; attempt += 1) {
      this.counts.requests += 1;
      const res = await this.http.send({ method, path, headers, ...(payload ? { body: payload } : {}), label: `${method} ${path}` }, 30_000);
      this.counts.statuses[res.status] = (this.counts.statuses[res.status] ?? 0) + 1;
      if (res.status !== 0 && res.status < 500) {
        let json: Json;
        try {
          json = res.text ? JSON.parse(res.text) : undefined;
        } catch {
          json = undefined;
        }
        return { status: res.status, json, text: res.text, attempts: attempt, replayed: res.headers['idempotent-replayed'] === 'true' };
      }
      if (res.status === 0) this.counts.networkErrors += 1;
      else this.counts.serverErrors += 1;
      if (attempt >= this.maxAttempts) throw new Error(`${method} ${path}: still ${res.status || res.error} after ${attempt} attempts: ${res.text.slice(0, 200)}`);
      this.counts.retries += 1;
      await sleep(Math.min(250, 5 * attempt));
    }
  }

  /** A command: recorded with what the client was finally told. */
  async command(planId: string, command: string, method: string, path: string, token: string, sub: string, body: unknown, key: string) {
    const res = await this.send(method, path, token, body, key);
    this.commands.push({
      planId: planId || (res.json?.planId ?? ''),
      command,
      key,
      sub,
      status: res.status,
      attempts: res.attempts,
      ...(typeof res.json?.version === 'number' ? { version: res.json.version } : {}),
      replayed: res.replayed,
      phase: this.phase,
      ...(res.status >= 400 ? { detail: String(res.json?.detail ?? res.text).slice(0, 300) } : {}),
    });
    return res;
  }

  close(): void {
    this.http.close();
  }
}
