import { api, query } from './api.ts';
import { MAX_SERVICES_PER_PAGE } from '../../lib/domain/vocabulary.ts';

/** The paging fields of a page of GET /directory/services (HsdsServicePage in the OpenAPI). */
interface ServicePage<T> {
  contents: T[];
  last_page: boolean;
}

/**
 * Every service of the directory, in directory order: GET /directory/services a page at a time (the
 * most it gives in one) until its last page. One page was at most 100 services, so a larger directory
 * lost the rest without a word.
 */
export async function everyDirectoryService<T>(options: { signal?: AbortSignal } = {}): Promise<T[]> {
  const services: T[] = [];
  for (let page = 1; ; page += 1) {
    const answer = await api<ServicePage<T>>('GET', `/directory/services${query({ page, per_page: MAX_SERVICES_PER_PAGE })}`, options);
    services.push(...answer.contents);
    if (answer.last_page || answer.contents.length === 0) return services;
  }
}
