import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { z } from 'zod';
import { DOMAIN_ERROR_STATUS, type FieldError } from '../domain/errors.ts';
import { zodErrors } from '../domain/decide.ts';
import { fieldMeant, fieldsOf } from './field-aliases.ts';

/** Requests larger than this are refused with 413 before any parsing. */
export const MAX_BODY_BYTES = 64 * 1024;

export type HttpResult = APIGatewayProxyStructuredResultV2 & { statusCode: number };

/** The members RFC 9457 defines and this API's field errors: what a client reads first, never an extension's to replace. */
const STANDARD_MEMBERS = ['type', 'title', 'status', 'detail', 'instance', 'errors'] as const;
const STANDARD_MEMBER_SET: ReadonlySet<string> = new Set(STANDARD_MEMBERS);

/** RFC 9457 extension members: any name but a standard member's (refused here, and left out by problemResponse). */
export type ProblemExtensions = Record<string, unknown> & { [name in (typeof STANDARD_MEMBERS)[number]]?: never };

/** An error a person can act on: RFC 9457 problem details, with the fields at fault. */
export class HttpProblem extends Error {
  readonly status: number;
  readonly title: string;
  readonly errors: FieldError[];
  readonly headers: Record<string, string>;
  /** A problem type of this API's own (a URI reference; about:blank when unset) and the members it adds (RFC 9457 extension members). */
  type?: string;
  extensions?: ProblemExtensions;
  constructor(status: number, title: string, detail: string, errors: FieldError[] = [], headers: Record<string, string> = {}) {
    super(detail);
    this.name = 'HttpProblem';
    this.status = status;
    this.title = title;
    this.errors = errors;
    this.headers = headers;
  }
}

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Conflict',
  412: 'Precondition failed',
  413: 'Payload too large',
  415: 'Unsupported media type',
  422: 'Unprocessable request',
  500: 'Internal error',
};

export function problem(status: number, detail: string, errors: FieldError[] = [], headers: Record<string, string> = {}): HttpProblem {
  return new HttpProblem(status, TITLES[status] ?? 'Error', detail, errors, headers);
}

export function problemResponse(p: HttpProblem, instance?: string): HttpResult {
  // The type forbids an extension named as a standard member; one that got past it (a cast) is left out,
  // so the status, title and detail a client reads are always the problem's own.
  const extensions = p.extensions ? Object.entries(p.extensions).filter(([name]) => !STANDARD_MEMBER_SET.has(name)) : [];
  return {
    statusCode: p.status,
    headers: { 'content-type': 'application/problem+json', ...p.headers },
    body: JSON.stringify({
      type: p.type ?? 'about:blank',
      title: p.title,
      status: p.status,
      detail: p.message,
      ...(instance ? { instance } : {}),
      ...(p.errors.length ? { errors: p.errors } : {}),
      ...Object.fromEntries(extensions),
    }),
  };
}

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return { statusCode, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

export function header(event: APIGatewayProxyEventV2, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [k, v] of Object.entries(event.headers ?? {})) if (k.toLowerCase() === wanted) return v;
  return undefined;
}

/** The JSON body, or a 4xx that says what is wrong with it. An absent body reads as `{}`. */
export function readJsonBody(event: APIGatewayProxyEventV2): unknown {
  const raw = event.body ? (event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body) : '';
  if (Buffer.byteLength(raw, 'utf8') > MAX_BODY_BYTES) throw problem(413, `The request body is larger than ${MAX_BODY_BYTES} bytes.`);
  if (raw.trim() === '') return {};
  const type = header(event, 'content-type');
  if (type && !/^application\/(.+\+)?json\b/i.test(type)) throw problem(415, `Send the body as application/json, not ${type}.`, [{ path: 'Content-Type', message: 'must be application/json' }]);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    throw problem(400, `The request body is not valid JSON: ${(error as Error).message}`, [{ path: '(body)', message: 'must be valid JSON' }]);
  }
  if (depthOf(parsed) > MAX_JSON_DEPTH) throw problem(400, `The request body nests deeper than ${MAX_JSON_DEPTH} levels.`, [{ path: '(body)', message: `must not nest deeper than ${MAX_JSON_DEPTH} levels` }]);
  return parsed;
}

/** No request needs deeper JSON; deeper would only risk the stack of whatever walks it next. */
export const MAX_JSON_DEPTH = 32;

function depthOf(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [unknown, number];
    if (d > deepest) deepest = d;
    if (deepest > MAX_JSON_DEPTH) return deepest;
    if (v && typeof v === 'object') for (const child of Object.values(v)) if (child && typeof child === 'object') stack.push([child, d + 1]);
  }
  return deepest;
}

/** Validate a value; `root` names it in errors when the value itself (not a field of it) is wrong. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, what: string, root = '(body)'): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    // An unknown field named as another API (or this one's answer) names one it takes says which to use.
    const known = fieldsOf(schema);
    const errors = zodErrors(parsed.error, root).map((e) => {
      const meant = e.message === 'is not a known field' && !e.path.includes('.') ? fieldMeant(e.path, known) : undefined;
      return meant ? { ...e, message: `is not a known field: use ${meant}` } : e;
    });
    throw problem(400, `The ${what} is not valid: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, errors);
  }
  return parsed.data;
}

/**
 * Map how a PlanCommand execution failed to a response. Domain refusals carry their detail and
 * field errors as JSON in the cause (wrapped once more by Lambda on AWS).
 */
export function failureToProblem(error: string, cause: string): HttpProblem {
  const status = (DOMAIN_ERROR_STATUS as Record<string, number>)[error];
  if (!status) return problem(500, `The command could not be completed (${error}). It was not applied; try again.`);
  let detail = cause;
  let errors: FieldError[] = [];
  try {
    let parsed = JSON.parse(cause) as { detail?: string; errors?: FieldError[]; errorMessage?: string };
    if (typeof parsed.errorMessage === 'string') {
      // Lambda wraps the error; its message is our JSON, or (never expected) plain text: never the stack.
      const message = parsed.errorMessage;
      try {
        parsed = JSON.parse(message) as typeof parsed;
      } catch {
        parsed = { detail: message };
      }
    }
    detail = parsed.detail ?? cause;
    errors = parsed.errors ?? [];
  } catch {
    // A plain-text cause (the Guard's own refusal) is the detail as it is.
  }
  return problem(status, detail, errors);
}
