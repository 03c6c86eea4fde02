/** Placeholder until the generated document lands (see lib/api/openapi.ts owner). */
export function openApiDocument(): unknown {
  return { openapi: '3.1.0', info: { title: 'Wraparound', version: '0.1.0' }, paths: {} };
}
