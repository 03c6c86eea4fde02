/**
 * fast-check arbitraries for hostile input: strings with unicode edge cases (lone surrogates, NUL,
 * bidi marks, BOM, non-characters), huge strings and arrays, deep nesting, malformed and truncated
 * JSON, raw bytes, unknown fields, wrong types. Bodies are bytes: lone surrogates can be sent raw
 * (WTF-8, which is invalid UTF-8) or escaped (\ud800, which JSON.parse accepts).
 */
import fc from 'fast-check';
import { MAX_BODY_BYTES } from '../../lib/api/http.ts';

// ---------------------------------------------------------------------------------------------
// Encoding

/** UTF-8, except that a lone surrogate becomes its own 3-byte sequence (ED A0 80…), as WTF-8 does. */
export function wtf8(text: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i += 1) {
    let code = text.charCodeAt(i);
    const next = text.charCodeAt(i + 1);
    if (code >= 0xd800 && code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      code = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00);
      i += 1;
    }
    if (code < 0x80) bytes.push(code);
    else if (code < 0x800) bytes.push(0xc0 | (code >> 6), 0x80 | (code & 63));
    else if (code < 0x10000) bytes.push(0xe0 | (code >> 12), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63));
    else bytes.push(0xf0 | (code >> 18), 0x80 | ((code >> 12) & 63), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63));
  }
  return Buffer.from(bytes);
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;
/** Percent-encode every byte outside the unreserved set (so the request line is always sendable). */
export function percentEncode(bytes: Buffer): string {
  let out = '';
  for (const byte of bytes) {
    const ch = String.fromCharCode(byte);
    out += byte < 0x80 && UNRESERVED.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** JSON text of a value, with each escaped lone surrogate turned back into a raw one (sent as WTF-8). */
export function rawSurrogateJson(value: unknown): Buffer {
  const text = JSON.stringify(value) ?? '';
  return wtf8(text.replace(/(?<!\\)\\u(d[89a-f][0-9a-f]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))));
}

// ---------------------------------------------------------------------------------------------
// Strings

/** Characters and fragments that have broken parsers, logs, databases and UIs before. */
export const EDGE_FRAGMENTS = [
  '\u0000', // NUL
  '\u202e', // right-to-left override
  '\u200f', // right-to-left mark
  '\u200e', // left-to-right mark
  '\u2066', // left-to-right isolate
  '\u200b', // zero width space
  '\u200d', // zero width joiner
  '\ufeff', // byte order mark
  '\ud800', // lone high surrogate
  '\udfff', // lone low surrogate
  '\udc00\ud800', // reversed pair
  '\ud83d\ude00', // 😀
  '\u{1f469}\u200d\u{1f469}\u200d\u{1f467}', // family (ZWJ sequence)
  'e\u0301\u0301\u0301\u0301', // combining marks
  '\u00a0', // no-break space
  '\u2028', // line separator
  '\u2029', // paragraph separator
  '\u0085', // next line
  '\uffff', // non-character
  '\ufffd', // replacement character
  '\u{10ffff}',
  'ｆｕｌｌ', // fullwidth
  'İı', // case mapping changes length
  'ß',
  '\t\n\r\v\f',
  '"',
  '\\',
  "'; DROP TABLE plans; --",
  '<script>alert(1)</script>',
  '${7*7}{{7*7}}',
  '%00%2e%2e%2f',
  '../../etc/passwd',
  '__proto__',
  'constructor',
  'NaN',
  'null',
  '-0',
  '1e309',
];

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const controlChar = fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c));

/** A short string mixing edge fragments, control characters, lone surrogates and any code point. */
export const edgeString: fc.Arbitrary<string> = fc
  .array(
    fc.oneof(
      { arbitrary: fc.constantFrom(...EDGE_FRAGMENTS), weight: 4 },
      { arbitrary: fc.string({ unit: 'binary', maxLength: 6 }), weight: 3 },
      { arbitrary: fc.string({ unit: 'grapheme', maxLength: 6 }), weight: 2 },
      { arbitrary: loneSurrogate, weight: 1 },
      { arbitrary: controlChar, weight: 1 },
    ),
    { minLength: 1, maxLength: 10 },
  )
  .map((parts) => parts.join(''));

/** A huge string of a repeated unit: ASCII, two-, three- and four-byte characters, NUL. */
export const hugeString = (minLength: number, maxLength: number): fc.Arbitrary<string> =>
  fc.tuple(fc.constantFrom('x', 'é', '€', '😀', '\u0000', 'ab '), fc.integer({ min: minLength, max: maxLength })).map(([unit, n]) => unit.repeat(Math.ceil(n / unit.length)).slice(0, n));

// ---------------------------------------------------------------------------------------------
// Values

/** Nesting `depth` deep, as arrays or as objects, built without recursion. */
export function deepValue(depth: number, kind: 'array' | 'object'): unknown {
  let value: unknown = kind === 'array' ? [] : {};
  for (let i = 1; i < depth; i += 1) value = kind === 'array' ? [value] : { a: value };
  return value;
}

export const deepNesting = fc.tuple(fc.integer({ min: 200, max: 1_200 }), fc.constantFrom<'array' | 'object'>('array', 'object')).map(([depth, kind]) => deepValue(depth, kind));

/** Arrays of thousands of items (10k of small ones fit under the body limit, of larger ones not). */
export const giantArray = fc.tuple(fc.integer({ min: 1_000, max: 12_000 }), fc.oneof({ weight: 6, arbitrary: fc.constantFrom<unknown>(0, 'a', null, {}, [], true) }, { weight: 1, arbitrary: fc.constant<unknown>({ domain: 'mental-health', level: 'high', priority: true }) })).map(([n, item]) => Array.from({ length: n }, () => item));

/** A value of the wrong kind for almost any field. */
export const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: fc.anything({ maxDepth: 3, maxKeys: 5 }), weight: 6 },
  { arbitrary: edgeString, weight: 3 },
  { arbitrary: fc.constantFrom<unknown>(null, true, false, 0, -1, 1.5, -0, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, '', ' ', [], {}, [null], { '': '' }), weight: 3 },
  { arbitrary: fc.double(), weight: 1 },
);

// ---------------------------------------------------------------------------------------------
// Body mutations

type Path = (string | number)[];

/** Every path into a JSON value (containers and leaves), the root as []. */
export function pathsOf(value: unknown, prefix: Path = []): Path[] {
  const paths: Path[] = [prefix];
  if (Array.isArray(value)) value.forEach((v, i) => paths.push(...pathsOf(v, [...prefix, i])));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) paths.push(...pathsOf(v, [...prefix, k]));
  return paths;
}

export function stringPathsOf(value: unknown): Path[] {
  return pathsOf(value).filter((p) => typeof getAt(value, p) === 'string');
}

export function getAt(value: unknown, path: Path): unknown {
  let current = value;
  for (const k of path) current = (current as Record<string | number, unknown> | undefined)?.[k];
  return current;
}

/** A copy of `value` with the value at `path` replaced (the root when the path is empty). */
export function setAt(value: unknown, path: Path, replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const copy = structuredClone(value) as Record<string | number, unknown>;
  let current = copy;
  for (const k of path.slice(0, -1)) current = current[k] as Record<string | number, unknown>;
  current[path.at(-1) as string | number] = replacement;
  return copy;
}

/** JSON text of an object with one more own key first (any key, even `__proto__`). */
export function withExtraKey(value: Record<string, unknown>, key: string, extra: unknown): string {
  const rest = JSON.stringify(value);
  const head = `{${JSON.stringify(key)}:${JSON.stringify(extra) ?? 'null'}`;
  return rest === '{}' ? `${head}}` : `${head},${rest.slice(1)}`;
}

export interface BodyChoice {
  kind: string;
  bytes?: Buffer;
  chunked?: boolean;
  /** Why this body can never be accepted by a route that reads a JSON object body. */
  refusedBecause?: string;
  /** True when the body is over the size limit: refused by any route (413). */
  oversize?: boolean;
}

const json = (value: unknown, raw: boolean): Buffer => (raw ? rawSurrogateJson(value) : Buffer.from(JSON.stringify(value) ?? ''));

/** Known keys are not "unknown fields": never add one of these as the extra key. */
const KNOWN_KEYS = new Set(['expectedVersion']);
const unknownKey = fc.oneof(
  { arbitrary: fc.constantFrom('__proto__', 'constructor', 'prototype', 'isAdmin', 'role', 'stage', 'version', 'planId', 'applied', 'outbox', '', ' ', '\u0000', '\ud800', 'ｒｅａｓｏｎ', 'Reason'), weight: 2 },
  { arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }), weight: 2 },
  { arbitrary: hugeString(1_000, 5_000), weight: 1 },
);

/**
 * Bodies for a route, grown from one valid body. `valid` may be undefined (a route without a body):
 * then `{}` is the starting point.
 */
export function bodyArb(valid: Record<string, unknown> | undefined): fc.Arbitrary<BodyChoice> {
  const base = valid ?? {};
  const paths = pathsOf(base);
  const leafPaths = paths.filter((p) => p.length > 0);
  const strings = stringPathsOf(base);
  const anyPath = fc.constantFrom(...paths);
  const somePath = leafPaths.length ? fc.constantFrom(...leafPaths) : fc.constant<Path>([]);
  const stringPath = strings.length ? fc.constantFrom(...strings) : somePath;
  const rawOrEscaped = fc.boolean();

  const choices: fc.WeightedArbitrary<BodyChoice>[] = [
    { weight: 3, arbitrary: fc.constant<BodyChoice>({ kind: 'valid', bytes: json(base, false) }) },
    {
      weight: 5,
      arbitrary: fc.tuple(stringPath, edgeString, rawOrEscaped).map(([path, text, raw]) => ({ kind: `unicode at ${path.join('.') || '(root)'}${raw ? ' (raw)' : ''}`, bytes: json(setAt(base, path, text), raw) })),
    },
    {
      weight: 6,
      arbitrary: fc.tuple(unknownKey, wrongValue).filter(([key]) => !KNOWN_KEYS.has(key) && !Object.hasOwn(base, key)).map(([key, extra]) => ({
        kind: `unknown field ${JSON.stringify(key).slice(0, 30)}`,
        bytes: wtf8(withExtraKey(base, key, extra)),
        refusedBecause: 'an unknown top-level field',
      })),
    },
    {
      weight: 3,
      arbitrary: fc.tuple(anyPath, unknownKey, wrongValue).map(([path, key, extra]) => {
        const target = getAt(base, path);
        const grown = target && typeof target === 'object' && !Array.isArray(target) ? setAt(base, path, { ...(target as object), [key]: extra }) : setAt(base, path, { [key]: extra });
        return { kind: `nested unknown field at ${path.join('.') || '(root)'}`, bytes: json(grown, false) };
      }),
    },
    { weight: 8, arbitrary: fc.tuple(somePath, wrongValue).map(([path, v]) => ({ kind: `wrong type at ${path.join('.') || '(root)'}`, bytes: json(setAt(base, path, v), false) })) },
    {
      weight: 4,
      arbitrary: fc.tuple(stringPath, fc.oneof({ weight: 3, arbitrary: hugeString(2_049, 10_000) }, { weight: 1, arbitrary: hugeString(10_000, 70_000) }), fc.boolean()).map(([path, text, chunked]) => {
        const bytes = json(setAt(base, path, text), false);
        return { kind: `huge string (${text.length}) at ${path.join('.') || '(root)'}`, bytes, chunked, refusedBecause: 'a string over 2048 characters', oversize: bytes.length > MAX_BODY_BYTES };
      }),
    },
    {
      weight: 3,
      arbitrary: fc.tuple(stringPath, hugeString(1, 2_100)).map(([path, text]) => ({ kind: `long string (${text.length}) at ${path.join('.') || '(root)'}`, bytes: json(setAt(base, path, text), false) })),
    },
    {
      weight: 4,
      arbitrary: fc.tuple(somePath, giantArray, fc.boolean()).map(([path, items, chunked]) => {
        const bytes = json(setAt(base, path, items), false);
        return { kind: `array of ${items.length} at ${path.join('.') || '(root)'}`, bytes, chunked, refusedBecause: 'an array of 1000+ items', oversize: bytes.length > MAX_BODY_BYTES };
      }),
    },
    {
      weight: 4,
      arbitrary: fc.tuple(anyPath, deepNesting).map(([path, deep]) => ({ kind: `nesting at ${path.join('.') || '(root)'}`, bytes: json(setAt(base, path, deep), false), refusedBecause: 'nesting 200+ deep' })),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(fc.integer({ min: 1_000, max: Math.floor(MAX_BODY_BYTES / 2) - 10 }), fc.constantFrom('[]', '{"a":}', '[{}]')).map(([depth, shape]) => {
        const [open, close] = shape === '[]' ? ['[', ']'] : shape === '[{}]' ? ['[{"a":', '}]'] : ['{"a":', '}'];
        const levels = Math.floor(depth / open.length);
        const inner = shape === '[]' ? '' : '0';
        return { kind: `nesting ${levels} deep as text`, bytes: Buffer.from(open.repeat(levels) + inner + close.repeat(levels)), refusedBecause: 'deep nesting' };
      }),
    },
    { weight: 6, arbitrary: fc.tuple(fc.anything({ maxDepth: 4 }), rawOrEscaped).map(([v, raw]) => ({ kind: 'anything', bytes: json(v, raw) })) },
    { weight: 3, arbitrary: fc.json({ maxDepth: 4 }).map((text) => ({ kind: 'json text', bytes: Buffer.from(text) })) },
    {
      weight: 4,
      arbitrary: fc.integer({ min: 1, max: 10_000 }).map((n) => {
        const text = JSON.stringify(base);
        const cut = 1 + (n % Math.max(1, text.length - 1));
        return { kind: `truncated at ${cut}`, bytes: Buffer.from(text.slice(0, cut)), refusedBecause: 'malformed JSON' };
      }),
    },
    { weight: 3, arbitrary: fc.oneof(edgeString, fc.string({ unit: 'binary', maxLength: 200 })).map((text) => ({ kind: 'text', bytes: wtf8(text) })) },
    { weight: 2, arbitrary: fc.uint8Array({ maxLength: 300 }).map((bytes) => ({ kind: 'bytes', bytes: Buffer.from(bytes) })) },
    { weight: 2, arbitrary: fc.constant<BodyChoice>({ kind: 'no body' }) },
    {
      weight: 3,
      arbitrary: fc.tuple(fc.oneof({ weight: 3, arbitrary: fc.integer({ min: MAX_BODY_BYTES + 1, max: MAX_BODY_BYTES + 4_096 }) }, { weight: 1, arbitrary: fc.integer({ min: MAX_BODY_BYTES + 1, max: MAX_BODY_BYTES + 200_000 }) }), fc.boolean(), fc.constantFrom('padded', 'array', 'bytes')).map(([size, chunked, shape]) => {
        const bytes =
          shape === 'padded'
            ? Buffer.concat([Buffer.from(JSON.stringify(base)), Buffer.alloc(size, 0x20)]).subarray(0, Math.max(size, JSON.stringify(base).length + 1))
            : shape === 'array'
              ? Buffer.from(`[${'0,'.repeat(Math.ceil(size / 2))}0]`)
              : Buffer.alloc(size, 0xff);
        return { kind: `over the limit (${bytes.length} bytes, ${shape}${chunked ? ', chunked' : ''})`, bytes, chunked, refusedBecause: 'over the body limit', oversize: true };
      }),
    },
    { weight: 1, arbitrary: fc.constant<BodyChoice>({ kind: 'BOM + valid', bytes: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), json(base, false)]), refusedBecause: 'a byte order mark is not JSON' }) },
    {
      weight: 2,
      arbitrary: fc.tuple(somePath, wrongValue).map(([path, v]) => {
        const key = String(path[0] ?? 'x');
        return { kind: `duplicate key ${key}`, bytes: Buffer.from(withExtraKey(base as Record<string, unknown>, key, v)) };
      }),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(somePath, fc.constantFrom('1e400', '-1e400', '-0', '1.0000000000000002', '9007199254740993', '1E2', '0.1e-400', '123456789012345678901234567890')).map(([path, number]) => {
        const marker = '"__NUMBER__"';
        const text = JSON.stringify(setAt(base, path, '__NUMBER__')).replace(marker, number);
        return { kind: `number ${number} at ${path.join('.') || '(root)'}`, bytes: Buffer.from(text) };
      }),
    },
  ];
  return fc.oneof(...choices);
}

// ---------------------------------------------------------------------------------------------
// Path segments and query strings

/** Percent-escapes that do not decode: invalid UTF-8, truncated escapes, lone surrogates as WTF-8. */
export const MALFORMED_ESCAPES = ['%FF', '%C3', '%E0%A4%A', '%ED%A0%80', '%', '%zz', 'a%2', '%C0%AF', '%F4%90%80%80'] as const;

/**
 * A path segment that is not a well-formed id: too long, wrong alphabet, encoded slashes and dots,
 * unicode, malformed percent-escapes.
 */
export const garbageSegment: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.tuple(fc.constantFrom(...MALFORMED_ESCAPES), fc.string({ unit: 'grapheme-ascii', maxLength: 4 })).map(([bad, rest]) => `${percentEncode(Buffer.from(rest))}${bad}`), weight: 2 },
  { arbitrary: edgeString.map((s) => percentEncode(Buffer.from(s, 'utf8'))), weight: 4 },
  { arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }).map((s) => percentEncode(Buffer.from(s, 'utf8'))), weight: 3 },
  { arbitrary: fc.constantFrom('%2F', '%2e%2e', '..', '.', '%00', 'PL_ABCDEFGHIJKL', 'pl_', 'pl_short', 'al_abcdefghij_99999', 'null', 'undefined', '%20', '-', 'a', '%C3%A9'), weight: 3 },
  { arbitrary: fc.integer({ min: 100, max: 4_000 }).map((n) => 'x'.repeat(n)), weight: 1 },
  // An empty segment is another route (`/plans/` is `/plans`): not a garbage value of this one.
).filter((segment) => segment.length > 0);

export interface QueryParam {
  name: string;
  value: string;
}

export function encodeQuery(params: QueryParam[]): string {
  if (params.length === 0) return '';
  return `?${params.map((p) => `${percentEncode(wtf8(p.name))}=${percentEncode(wtf8(p.value))}`).join('&')}`;
}

/** Values for a query parameter: plausible ones, numbers at and past the edges, and garbage. */
export const queryValue = (plausible: readonly string[]): fc.Arbitrary<string> =>
  fc.oneof(
    { arbitrary: plausible.length ? fc.constantFrom(...plausible) : fc.constant('x'), weight: 5 },
    { arbitrary: fc.constantFrom('0', '-1', '1', '1.5', '100', '101', '500', '501', '1e3', '9999999999999999999', 'NaN', 'Infinity', '', ' 1', '0x10', '[]', '{}', 'true'), weight: 4 },
    { arbitrary: edgeString, weight: 2 },
    { arbitrary: hugeString(100, 1_500), weight: 1 },
  );
