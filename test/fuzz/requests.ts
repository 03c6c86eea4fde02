/**
 * Generated requests for one route: method, path with its parameters, query, headers (token,
 * content type, Idempotency-Key, others) and body, each part either plausible or hostile, and a
 * note of why the whole request can never be accepted when one of its parts guarantees that.
 */
import fc from 'fast-check';
import type { Route } from '../../lib/api/routes.ts';
import { LIFECYCLE, TIMER_COMMANDS, type LifecycleRow } from '../../lib/domain/lifecycle.ts';
import { bodyArb, type BodyChoice, edgeString, encodeQuery, garbageSegment, hugeString, percentEncode, queryValue, type QueryParam } from './arbitraries.ts';
import type { RawRequest } from './raw-http.ts';
import type { Tokens } from './targets.ts';

/** A route of ROUTES with its generic `{command}` expanded to one command's segment. */
export interface FuzzRoute {
  route: Route;
  /** The path with `{command}` filled in (or `{unknownCommand}`). */
  template: string;
  label: string;
  /** The lifecycle row of the command, for expanded command routes. */
  command?: LifecycleRow;
}

const planSegments = () => [...new Set(Object.values(LIFECYCLE).filter((r) => r.target === 'plan' && r.segment !== 'refer' && r.actors.some((a) => a === 'coordinator')).map((r) => r.segment))];
const allocationSegments = () => [...new Set(Object.values(LIFECYCLE).filter((r) => r.target === 'allocation').map((r) => r.segment))];

export function expandRoutes(routes: readonly Route[]): FuzzRoute[] {
  const out: FuzzRoute[] = [];
  for (const route of routes) {
    if (!route.path.endsWith('/{command}')) {
      out.push({ route, template: route.path, label: `${route.method} ${route.path}` });
      continue;
    }
    const target = route.path.startsWith('/allocations/') ? 'allocation' : 'plan';
    for (const segment of target === 'plan' ? planSegments() : allocationSegments()) {
      const row = Object.values(LIFECYCLE).find((r) => r.target === target && r.segment === segment) as LifecycleRow;
      const template = route.path.replace('{command}', segment);
      out.push({ route, template, label: `${route.method} ${template}`, command: row });
    }
    const template = route.path.replace('{command}', '{unknownCommand}');
    out.push({ route, template, label: `${route.method} ${template}` });
  }
  return out;
}

export interface RequestContext {
  tokens: Tokens;
  /** Well-formed values for each path parameter, with the provider that holds each (when one does). */
  params: Record<string, { value: string; providerId?: string }[]>;
  /** Well-formed ids that name nothing. */
  unknownIds: Record<string, string[]>;
  /** Plausible values of each query parameter of the route, by route key. */
  queries: Record<string, Record<string, string[]>>;
  /** A valid body for the route (the first element of a plausible request), if it takes one. */
  validBody?: Record<string, unknown>;
}

/** Does the route read a JSON body (and so refuse a bad one)? */
export const readsBody = (fr: FuzzRoute) => fr.route.method === 'POST' || fr.route.method === 'PATCH';
/** Does the route read the Idempotency-Key header? */
const readsIdempotencyKey = (fr: FuzzRoute) => fr.route.method === 'POST' && (fr.route.fn === 'api-commands' || fr.route.fn === 'api-providers');

const isDotSegment = (segment: string) => /^(\.|%2e){1,2}$/i.test(segment);

interface Part {
  text: string;
  refused?: string;
}

function paramArb(name: string, ctx: RequestContext): fc.Arbitrary<Part & { providerId?: string }> {
  if (name === 'unknownCommand') {
    const others = [...TIMER_COMMANDS.map((c) => LIFECYCLE[c].segment), 'refer', 'Accept', 'record_consent', 'RECORD-CONSENT', 'accept-offer', 'decline-offer', 'end-allocation', 'history'];
    return fc.oneof(
      fc.constantFrom(...others).map((text) => ({ text, refused: 'no such command' })),
      garbageSegment.map((text) => ({ text, ...(isDotSegment(text) ? {} : { refused: 'no such command' }) })),
    );
  }
  const known = ctx.params[name] ?? [];
  const unknown = ctx.unknownIds[name] ?? [];
  const choices: fc.WeightedArbitrary<Part & { providerId?: string }>[] = [
    { weight: 3, arbitrary: garbageSegment.map((text) => ({ text, ...(isDotSegment(text) ? {} : { refused: `a malformed ${name}` }) })) },
  ];
  if (known.length) choices.push({ weight: 9, arbitrary: fc.constantFrom(...known).map((k) => ({ text: percentEncode(Buffer.from(k.value)), ...(k.providerId ? { providerId: k.providerId } : {}) })) });
  if (unknown.length) choices.push({ weight: 2, arbitrary: fc.constantFrom(...unknown).map((text) => ({ text, refused: `a ${name} that names nothing` })) });
  return fc.oneof(...choices);
}

function authArb(fr: FuzzRoute, ctx: RequestContext, holder: string | undefined): fc.Arbitrary<{ headers: [string, string][]; refused?: string; kind: string }> {
  const { tokens } = ctx;
  const roles = fr.route.roles;
  const isPublic = roles === 'public';
  const allowed: string[] = [];
  const wrong: string[] = [];
  for (const [role, token] of Object.entries(tokens.byRole)) ((isPublic || (roles as readonly string[]).includes(role)) ? allowed : wrong).push(token);
  const providerAllowed = isPublic || (roles as readonly string[]).includes('provider');
  const providerTokens = Object.entries(tokens.provider);
  const right = holder ? providerTokens.filter(([p]) => p === holder) : providerTokens;
  const others = holder ? providerTokens.filter(([p]) => p !== holder) : [];
  if (providerAllowed) allowed.push(...right.map(([, t]) => t), ...(holder ? [] : others.map(([, t]) => t)));
  else wrong.push(...providerTokens.map(([, t]) => t));

  const bearer = (token: string): [string, string][] => [['authorization', `Bearer ${token}`]];
  const refusedUnlessPublic = (why: string) => (isPublic ? {} : { refused: why });
  const choices: fc.WeightedArbitrary<{ headers: [string, string][]; refused?: string; kind: string }>[] = [
    { weight: 2, arbitrary: fc.constant({ headers: [], kind: 'no token', ...refusedUnlessPublic('no token') }) },
    {
      weight: 3,
      arbitrary: fc.constantFrom(...Object.entries(tokens.invalid)).map(([why, token]) => ({ headers: bearer(token), kind: `token: ${why}`, ...refusedUnlessPublic(`a token with ${why}`) })),
    },
    {
      weight: 2,
      arbitrary: fc.constantFrom(...Object.entries(tokens.strange)).map(([why, t]) => ({ headers: bearer(t.token), kind: `token: ${why}`, ...(t.refused && !isPublic ? { refused: t.refused } : {}) })),
    },
    {
      weight: 2,
      arbitrary: fc
        .oneof(
          fc.constantFrom('Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', 'Token abc', 'Bearer a.b', 'Bearer a.b.c.d', 'Bearer \t'),
          edgeString.map((s) => `Bearer ${percentEncode(Buffer.from(s))}`),
          hugeString(100, 3_000).map((s) => `Bearer ${Buffer.from(s).toString('base64url')}`),
        )
        .map((value) => ({ headers: [['authorization', value]] as [string, string][], kind: 'malformed authorization', ...refusedUnlessPublic('a malformed Authorization header') })),
    },
  ];
  if (allowed.length) {
    choices.push({ weight: 14, arbitrary: fc.constantFrom(...allowed).map((token) => ({ headers: bearer(token), kind: 'allowed token' })) });
    choices.push({ weight: 1, arbitrary: fc.constantFrom(...allowed).map((token) => ({ headers: [['authorization', `bearer   ${token}`]] as [string, string][], kind: 'lower-case bearer' })) });
    choices.push({
      weight: 1,
      arbitrary: fc.constantFrom(...allowed).map((token) => ({ headers: [['authorization', `Bearer ${token}`], ['authorization', 'Bearer nonsense']] as [string, string][], kind: 'two Authorization headers' })),
    });
  }
  if (wrong.length) choices.push({ weight: 3, arbitrary: fc.constantFrom(...wrong).map((token) => ({ headers: bearer(token), kind: 'wrong role', ...refusedUnlessPublic('a role the route does not allow') })) });
  if (providerAllowed && others.length) choices.push({ weight: 2, arbitrary: fc.constantFrom(...others).map(([, token]) => ({ headers: bearer(token), kind: 'another provider' })) });
  return fc.oneof(...choices);
}

const CONTENT_TYPES: [string | undefined, boolean][] = [
  // [value, is it JSON as the API reads it]
  ['application/json', true],
  ['application/json; charset=utf-8', true],
  ['APPLICATION/JSON', true],
  ['application/problem+json', true],
  ['application/vnd.api+json', true],
  ['text/plain', false],
  ['application/x-www-form-urlencoded', false],
  ['multipart/form-data; boundary=x', false],
  ['text/json', false],
  ['application/xml', false],
  ['', true],
  [undefined, true],
];

function contentTypeArb(): fc.Arbitrary<{ headers: [string, string][]; json: boolean; kind: string }> {
  return fc.oneof(
    { weight: 12, arbitrary: fc.constant({ headers: [['content-type', 'application/json']] as [string, string][], json: true, kind: 'json' }) },
    {
      weight: 6,
      arbitrary: fc.constantFrom(...CONTENT_TYPES).map(([value, json]) => ({ headers: value === undefined ? [] : ([['content-type', value]] as [string, string][]), json, kind: `content-type ${JSON.stringify(value)}` })),
    },
    { weight: 1, arbitrary: fc.constant({ headers: [['content-type', 'application/json'], ['content-type', 'text/plain']] as [string, string][], json: true, kind: 'two content types' }) },
    {
      weight: 1,
      arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 40 }).map((value) => ({ headers: [['content-type', value]] as [string, string][], json: !value || /^application\/(.+\+)?json\b/i.test(value), kind: 'content-type garbage' })),
    },
  );
}

/** Header values Node will send: visible ASCII, spaces, tabs and Latin-1. */
const headerText = fc.string({ unit: fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0xa0, max: 0xff })).map((c) => String.fromCharCode(c)), maxLength: 300 });

function idempotencyArb(fr: FuzzRoute): fc.Arbitrary<{ headers: [string, string][]; refused?: string; kind: string }> {
  const checked = readsIdempotencyKey(fr);
  const bad = (why: string) => (checked ? { refused: why } : {});
  return fc.oneof(
    { weight: 10, arbitrary: fc.constant({ headers: [] as [string, string][], kind: 'no key' }) },
    { weight: 4, arbitrary: fc.stringMatching(/^[\x21-\x7e]{1,200}$/).map((key) => ({ headers: [['idempotency-key', key]] as [string, string][], kind: 'key' })) },
    {
      weight: 2,
      arbitrary: fc
        .oneof(fc.constant(''), fc.constant('x'.repeat(201)), fc.constant('has space'), fc.constant('é-key'), headerText.filter((s) => !/^[\x21-\x7e]{1,200}$/.test(s)))
        .map((key) => ({ headers: [['idempotency-key', key]] as [string, string][], kind: 'bad key', ...bad('a malformed Idempotency-Key') })),
    },
    { weight: 1, arbitrary: fc.constant({ headers: [['idempotency-key', 'first'], ['idempotency-key', 'second']] as [string, string][], kind: 'two keys', ...bad('two Idempotency-Keys (read as "first, second")') }) },
  );
}

const EXTRA_HEADERS = ['x-request-id', 'accept', 'accept-encoding', 'accept-language', 'origin', 'referer', 'x-forwarded-for', 'x-forwarded-proto', 'cookie', 'user-agent', 'x-amzn-trace-id', 'if-match', 'range', 'x-http-method-override'];
const extraHeadersArb = fc.array(fc.tuple(fc.constantFrom(...EXTRA_HEADERS), headerText), { maxLength: 3 });

function queryArb(fr: FuzzRoute, ctx: RequestContext): fc.Arbitrary<QueryParam[]> {
  const known = ctx.queries[`${fr.route.method} ${fr.route.path}`] ?? {};
  const names = Object.keys(known);
  const param = fc.oneof(
    ...(names.length
      ? [{ weight: 6, arbitrary: fc.constantFrom(...names).chain((name) => queryValue(known[name] ?? []).map((value) => ({ name, value }))) }]
      : []),
    { weight: 1, arbitrary: fc.tuple(fc.oneof(edgeString, fc.constantFrom('limit', 'page', 'cursor', 'stage', 'x', '', 'limit[]', '__proto__')), queryValue([])).map(([name, value]) => ({ name, value })) },
  );
  return fc.array(param, { maxLength: names.length ? 4 : 2 });
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

export function requestArb(fr: FuzzRoute, ctx: RequestContext): fc.Arbitrary<RawRequest> {
  const names = [...fr.template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] as string);
  const paramsArb = fc.tuple(...names.map((n) => paramArb(n, ctx)));
  const sendsBody = readsBody(fr);
  // Built once per route (building arbitraries is not free): one auth arbitrary per provider that
  // may hold what the path names, chosen once the path is drawn.
  const holders = [...new Set(Object.values(ctx.params).flatMap((values) => values.map((v) => v.providerId)))];
  const authByHolder = new Map(holders.map((holder) => [holder, authArb(fr, ctx, holder)]));
  const rest = fc.record({
    contentType: contentTypeArb(),
    idempotency: idempotencyArb(fr),
    extra: extraHeadersArb,
    query: queryArb(fr, ctx),
    // Routes without a body still get one now and then: it must be ignored or refused, never a 5xx.
    body: sendsBody ? bodyArb(ctx.validBody) : fc.oneof({ weight: 8, arbitrary: fc.constant<BodyChoice>({ kind: 'no body' }) }, { weight: 1, arbitrary: bodyArb(undefined) }),
    method: fc.oneof({ weight: 30, arbitrary: fc.constant(fr.route.method) }, { weight: 1, arbitrary: fc.constantFrom(...METHODS) }),
    pathShape: fc.oneof({ weight: 20, arbitrary: fc.constant('plain') }, { weight: 1, arbitrary: fc.constantFrom('trailing slash', 'double slash', 'upper case') }),
  });
  return fc.tuple(paramsArb, rest).chain(([params, parts]) => {
    const holder = params.map((p) => p.providerId).find(Boolean);
    const auth = authByHolder.get(holder) ?? authArb(fr, ctx, holder);
    return auth.map((a) => build(fr, names, params, { ...parts, auth: a }, sendsBody));
  });
}

interface Parts {
  auth: { headers: [string, string][]; refused?: string; kind: string };
  contentType: { headers: [string, string][]; json: boolean; kind: string };
  idempotency: { headers: [string, string][]; refused?: string; kind: string };
  extra: [string, string][];
  query: QueryParam[];
  body: BodyChoice;
  method: string;
  pathShape: string;
}

function build(fr: FuzzRoute, names: string[], params: readonly Part[], parts: Parts, sendsBody: boolean): RawRequest {
  let path = fr.template;
  names.forEach((name, i) => (path = path.replace(`{${name}}`, (params[i] as Part).text)));
  // Node answers a request line and headers over 16 KiB itself (431, see the limits suite): stay under.
  const query = [...parts.query];
  while (encodeQuery(query).length > 6_000) query.pop();
  let shaped = path;
  if (parts.pathShape === 'trailing slash') shaped = `${path}/`;
  if (parts.pathShape === 'double slash') shaped = path.replace('/', '//');
  if (parts.pathShape === 'upper case') shaped = path.toUpperCase();
  const body = parts.body;
  const keyHeaders = parts.idempotency.headers;
  const hasText = body.bytes !== undefined && body.bytes.toString('latin1').trim() !== '';
  const reasons = [
    ...params.map((p) => p.refused),
    parts.auth.refused,
    sendsBody && keyHeaders.length ? parts.idempotency.refused : undefined,
    sendsBody && hasText && !parts.contentType.json ? 'a body that is not JSON by its content type' : undefined,
    sendsBody && hasText ? body.refusedBecause : undefined,
    body.oversize ? 'a body over the limit' : undefined,
    parts.pathShape === 'upper case' && /[a-z]/.test(path) ? 'an upper-case path' : undefined,
  ].filter((r): r is string => Boolean(r));
  // A different method may land on another route entirely: nothing can be promised then.
  const sameMethod = parts.method === fr.route.method;
  const headers: [string, string][] = [...parts.auth.headers, ...(body.bytes !== undefined ? parts.contentType.headers : []), ...keyHeaders, ...parts.extra];
  return {
    method: parts.method,
    path: `${shaped}${encodeQuery(query)}`,
    headers,
    ...(body.bytes !== undefined ? { body: body.bytes } : {}),
    ...(body.chunked ? { chunked: true } : {}),
    label: [parts.method, shaped.slice(0, 120), `[${parts.auth.kind}; ${parts.contentType.kind}; ${parts.idempotency.kind}; body ${body.kind}${query.length ? `; query ${query.length}` : ''}]`].join(' '),
    ...(sameMethod && reasons.length ? { mustRefuse: reasons.join('; ') } : {}),
  };
}
