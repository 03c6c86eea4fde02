import * as z from 'zod';
import { andList, orList } from './list-words.ts';

/**
 * What is wrong with a value, in the words a coordinator or team lead uses: the one place zod's
 * issue kinds get their wording, installed as zod's error map (`z.config({ customError })`), so every
 * schema parsed anywhere (request bodies, query parameters, the directory file, a command's payload)
 * says "must be 10 or less", not "Too big: expected number to be <=10". A message a schema gives
 * itself (a refinement's, a field's own `error`) still wins, as zod's precedence has it. The field's
 * path is not part of the words: the API gives it alongside (`errors[].path`).
 */

type RawIssue = z.core.$ZodRawIssue;

const quoted = (value: unknown) => (typeof value === 'string' ? `"${value}"` : String(value));

/** "one", "2 items": a list of at least one reads "must list at least one". */
const items = (n: number | bigint) => (Number(n) === 1 ? 'one' : `${String(n)} items`);
const characters = (n: number | bigint) => (Number(n) === 1 ? 'one character' : `${String(n)} characters`);

/** Which of a date's parts makes it no day of the calendar: "30 February", "the 13th month". */
function impossibleDate(text: string): string | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (month < 1 || month > 12) return `there is no month ${month}`;
  const monthName = new Date(Date.UTC(2000, month - 1, 1)).toLocaleString('en-GB', { month: 'long', timeZone: 'UTC' });
  const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month === 2 && day === 29 && last === 28) return `${year} has no 29 February`;
  if (day < 1 || day > last) return `${day} ${monthName}`;
  return undefined;
}

/** The fields an object schema takes, for "must be an object with …". */
function fieldsInWords(schema: unknown): string | undefined {
  const shape = (schema as { _zod?: { def?: { shape?: Record<string, { _zod?: { optin?: string } }> } } } | undefined)?._zod?.def?.shape;
  if (!shape) return undefined;
  const keys = Object.keys(shape);
  const required = keys.filter((k) => shape[k]?._zod?.optin !== 'optional');
  const optional = keys.filter((k) => shape[k]?._zod?.optin === 'optional');
  if (keys.length === 0) return undefined;
  const parts = [required.length > 0 ? andList(required) : undefined, optional.length > 0 ? `optionally ${orList(optional)}` : undefined].filter(Boolean);
  return parts.join(', and ');
}

const TYPE_WORDS: Record<string, string> = {
  string: 'must be text',
  number: 'must be a number',
  int: 'must be a whole number',
  boolean: 'must be true or false',
  array: 'must be a list',
  object: 'must be an object',
  record: 'must be an object',
  date: 'must be a date',
  null: 'must be null',
};

function typeWords(issue: z.core.$ZodRawIssue<z.core.$ZodIssueInvalidType>): string {
  if (issue.input === undefined) return 'is required';
  // A text field of a known form (a date, a date and time) given a number or the like: say the form.
  const format = (issue.inst as { _zod?: { def?: { format?: string } } } | undefined)?._zod?.def?.format;
  if (issue.expected === 'string' && format && FORMAT_WORDS[format]) return FORMAT_WORDS[format];
  // zod reports a number with a fraction where a whole one is wanted as the wrong type ("expected int").
  if (issue.expected === 'int' && typeof issue.input === 'number') return Number.isFinite(issue.input) ? 'must be a whole number' : 'must be a finite whole number';
  if (issue.expected === 'number' && typeof issue.input === 'number') return 'must be a finite number';
  if (issue.expected === 'object') {
    const fields = fieldsInWords(issue.inst);
    return fields ? `must be an object with ${fields}` : 'must be an object';
  }
  return TYPE_WORDS[issue.expected] ?? `must be ${issue.expected}`;
}

function bound(issue: z.core.$ZodRawIssue<z.core.$ZodIssueTooBig | z.core.$ZodIssueTooSmall>): string {
  const big = issue.code === 'too_big';
  const limit = big ? (issue as z.core.$ZodIssueTooBig).maximum : (issue as z.core.$ZodIssueTooSmall).minimum;
  const inclusive = issue.inclusive !== false;
  switch (issue.origin) {
    case 'number':
    case 'int':
    case 'bigint':
      if (inclusive) return big ? `must be ${limit} or less` : `must be ${limit} or more`;
      return big ? `must be less than ${limit}` : `must be more than ${limit}`;
    case 'array':
    case 'set':
      if (issue.exact) return `must list exactly ${items(limit)}`;
      return big ? `must list at most ${items(limit)}` : `must list at least ${items(limit)}`;
    case 'string':
      if (!big && Number(limit) === 1) return 'must not be empty';
      if (issue.exact) return `must be exactly ${characters(limit)} long`;
      return big ? `must be at most ${characters(limit)} long` : `must be at least ${characters(limit)} long`;
    case 'date':
      return big ? `must not be after ${String(limit)}` : `must not be before ${String(limit)}`;
    default:
      return big ? `must be at most ${String(limit)}` : `must be at least ${String(limit)}`;
  }
}

const FORMAT_WORDS: Record<string, string> = {
  date: 'must be a date, like 2026-11-27',
  datetime: 'must be a date and time with its offset, like 2026-11-27T14:30:00Z',
  time: 'must be a time of day, like 14:30',
  email: 'must be an email address',
  url: 'must be a web address',
  uuid: 'must be a UUID',
  base64: 'must be base64',
  base64url: 'must be base64url',
  e164: 'must be a phone number in international form, like +441214960000',
};

function formatWords(issue: z.core.$ZodRawIssue<z.core.$ZodIssueInvalidStringFormat>): string {
  if (issue.format === 'date' && typeof issue.input === 'string') {
    const why = impossibleDate(issue.input);
    if (why) return `is not a real date (${why})`;
  }
  if (issue.format === 'datetime' && typeof issue.input === 'string') {
    const why = impossibleDate(issue.input.slice(0, 10));
    if (why) return `is not a real date (${why})`;
  }
  const known = FORMAT_WORDS[issue.format];
  if (known) return known;
  const { prefix, suffix, includes } = issue as { prefix?: string; suffix?: string; includes?: string };
  if (issue.format === 'starts_with' && prefix) return `must start with "${prefix}"`;
  if (issue.format === 'ends_with' && suffix) return `must end with "${suffix}"`;
  if (issue.format === 'includes' && includes) return `must include "${includes}"`;
  return 'is not in the form this field takes';
}

/** The values a union of literals and enums takes, when that is all it is ("must be 6 or 12"). */
function unionValues(issue: z.core.$ZodRawIssue<z.core.$ZodIssueInvalidUnion>): unknown[] | undefined {
  const branches = (issue as { errors?: z.core.$ZodIssue[][] }).errors ?? [];
  if (branches.length === 0) return undefined;
  const values: unknown[] = [];
  for (const branch of branches) {
    const only = branch.length === 1 ? branch[0] : undefined;
    if (!only || only.code !== 'invalid_value' || only.path.length > 0) return undefined;
    values.push(...only.values);
  }
  return values;
}

function unionWords(issue: z.core.$ZodRawIssue<z.core.$ZodIssueInvalidUnion>): string {
  const values = unionValues(issue);
  if (values) return `must be ${orList(values.map(quoted))}`;
  const options = (issue as { options?: unknown[] }).options;
  // The path names the discriminating field already (scope.providers.kind).
  if (issue.discriminator && options?.length) return `must be one of ${orList(options.map(quoted))}`;
  return 'does not match any form this field takes';
}

/** zod's error map: the plain words of an issue zod raised without a message of the schema's own. */
export function plainIssueWords(issue: RawIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return typeWords(issue as z.core.$ZodRawIssue<z.core.$ZodIssueInvalidType>);
    case 'too_big':
    case 'too_small':
      return bound(issue as z.core.$ZodRawIssue<z.core.$ZodIssueTooBig | z.core.$ZodIssueTooSmall>);
    case 'invalid_format':
      return formatWords(issue as z.core.$ZodRawIssue<z.core.$ZodIssueInvalidStringFormat>);
    case 'invalid_value': {
      const values = (issue as z.core.$ZodRawIssue<z.core.$ZodIssueInvalidValue>).values;
      return values.length === 1 ? `must be ${quoted(values[0])}` : `must be one of ${orList(values.map(quoted))}`;
    }
    case 'invalid_union':
      return unionWords(issue as z.core.$ZodRawIssue<z.core.$ZodIssueInvalidUnion>);
    case 'not_multiple_of':
      return `must be a multiple of ${(issue as z.core.$ZodRawIssue<z.core.$ZodIssueNotMultipleOf>).divisor}`;
    case 'unrecognized_keys':
      return 'is not a known field';
    case 'invalid_key':
      return 'is not a known key here';
    case 'invalid_element':
      return 'holds a value that is not valid';
    default:
      return 'is not valid';
  }
}

z.config({ customError: plainIssueWords });
