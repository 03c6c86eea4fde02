import type { FieldError } from './types.ts';

/**
 * Every call to the API goes through here: the bearer token, JSON in and out, an Idempotency-Key on
 * every POST, and problem+json errors turned into an ApiError that keeps the fields it names.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly title: string;
  readonly errors: FieldError[];
  /** The problem's type (about:blank unless the API names one, such as possible-duplicate) and its other members. */
  readonly type: string;
  readonly problem: Record<string, unknown>;
  constructor(status: number, title: string, detail: string, errors: FieldError[] = [], problem: Record<string, unknown> = {}) {
    super(detail);
    this.name = 'ApiError';
    this.status = status;
    this.title = title;
    this.errors = errors;
    this.type = typeof problem.type === 'string' ? problem.type : 'about:blank';
    this.problem = problem;
  }
}

interface ApiSettings {
  baseUrl: string;
  /** The bearer token, renewed first when it is about to expire (hosted-UI sign-in). */
  token: () => string | undefined | Promise<string | undefined>;
  /** Told when the API says the token is no longer good (401). */
  onUnauthorized: () => void;
}

let settings: ApiSettings = { baseUrl: '', token: () => undefined, onUnauthorized: () => undefined };

export function configureApi(next: Partial<ApiSettings>) {
  settings = { ...settings, ...next };
}

/** A random id for Idempotency-Key headers, also where crypto.randomUUID is not offered (plain http). */
export function newKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

async function toError(response: Response): Promise<ApiError> {
  let body: { title?: unknown; detail?: unknown; errors?: unknown; [member: string]: unknown } = {};
  try {
    body = (await response.json()) as typeof body;
  } catch {
    // Not problem+json (a proxy's page, an empty body): the status says enough.
  }
  const errors = Array.isArray(body.errors)
    ? body.errors.filter((e): e is FieldError => typeof e === 'object' && e !== null && typeof (e as FieldError).path === 'string' && typeof (e as FieldError).message === 'string')
    : [];
  const title = typeof body.title === 'string' ? body.title : response.statusText || `Error ${response.status}`;
  const detail = typeof body.detail === 'string' ? body.detail : fallbackDetail(response.status);
  return new ApiError(response.status, title, detail, errors, typeof body === 'object' && body !== null ? body : {});
}

function fallbackDetail(status: number): string {
  if (status === 401) return 'Your sign-in has ended: sign in again.';
  if (status === 403) return 'Your role may not do this.';
  if (status === 404) return 'Not found: it may not be built yet on this server.';
  if (status >= 500) return 'Something went wrong on the server. Nothing was changed; try again.';
  return `The server answered ${status}.`;
}

export interface RequestOptions {
  body?: unknown;
  idempotencyKey?: string;
  /** A precondition (If-Match: the ETag the data was read with): the API refuses with 412 if it changed since. */
  ifMatch?: string;
  signal?: AbortSignal;
}

async function send(method: string, path: string, options: RequestOptions = {}, accept = 'application/json'): Promise<Response> {
  const headers: Record<string, string> = { accept };
  const token = await settings.token();
  if (token) headers.authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (method === 'POST') headers['idempotency-key'] = options.idempotencyKey ?? newKey();
  if (options.ifMatch !== undefined) headers['if-match'] = options.ifMatch;
  let response: Response;
  try {
    response = await fetch(`${settings.baseUrl}${path}`, {
      method,
      headers,
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiError(0, 'No connection', 'The server could not be reached. Check your connection and try again: nothing was lost.');
  }
  if (!response.ok) {
    const error = await toError(response);
    if (response.status === 401) settings.onUnauthorized();
    throw error;
  }
  return response;
}

export async function api<T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, options: RequestOptions = {}): Promise<T> {
  const response = await send(method, path, options);
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/** A file from the API (CSV): fetched with the token, then handed to the browser to save. */
export async function download(path: string, fallbackName: string): Promise<string> {
  const response = await send('GET', path, {}, 'text/csv');
  const disposition = response.headers.get('content-disposition') ?? '';
  const name = /filename="?([^";]+)"?/.exec(disposition)?.[1] ?? fallbackName;
  const url = URL.createObjectURL(await response.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return name;
}

export const query = (params: Record<string, string | number | undefined | null>) => {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') search.set(k, String(v));
  const text = search.toString();
  return text ? `?${text}` : '';
};
