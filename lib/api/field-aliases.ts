/**
 * "Did you mean": an unknown field or query parameter named the way another API (or this API's own
 * answer) names one this request takes. Only names known to mean the same, and the same name spelled
 * otherwise (perPage, per-page, PER_PAGE for per_page); never a guess by likeness, which would point
 * at a parameter that does something else.
 */

/** Names that mean one thing, each group whatever the request calls it. */
const SAME_MEANING: readonly (readonly string[])[] = [
  // The page size: HSDS answers with `size` and takes `per_page`; other lists here take `limit`.
  ['per_page', 'limit', 'size', 'page_size', 'count', 'max_results'],
  ['cursor', 'after', 'next', 'next_cursor', 'page_token', 'continuation', 'start_after'],
  ['page', 'page_number', 'page_no'],
  ['taxonomy_term_id', 'taxonomy_term', 'need', 'need_domain', 'domain', 'term'],
  ['organization_id', 'organisation_id', 'organization', 'organisation', 'provider', 'provider_id'],
];

const spelling = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase().replace(/-/g, '_');

/** The known field `unknown` most likely meant, or undefined when none is known to mean the same. */
export function fieldMeant(unknown: string, known: readonly string[]): string | undefined {
  const asked = spelling(unknown);
  const same = known.find((k) => spelling(k) === asked);
  if (same) return same;
  const group = SAME_MEANING.find((g) => g.includes(asked));
  return group ? known.find((k) => group.includes(spelling(k))) : undefined;
}

/** The schema's own field names, where it is an object (a refined or piped one has none to offer). */
export function fieldsOf(schema: unknown): string[] {
  const shape = (schema as { shape?: unknown } | null)?.shape;
  return shape && typeof shape === 'object' ? Object.keys(shape) : [];
}
