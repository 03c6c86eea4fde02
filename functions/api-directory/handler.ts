import type { DirectoryStore } from '../../lib/adapters/dynamodb/directory-store.ts';
import { apiHandler } from '../../lib/api/handler-kit.ts';
import { problem } from '../../lib/api/http.ts';
import type { Directory } from '../../lib/domain/directory.ts';
import { awsDeps } from '../../lib/runtime/aws.ts';

export interface DirectoryApiDeps {
  baseDirectory: Directory;
  services: DirectoryStore;
  clock: () => string;
}

/** The provider directory API (to be completed: HSDS list and item, availability changes). */
export function makeHandler(_deps: DirectoryApiDeps) {
  const notYet = async () => {
    throw problem(404, 'Not implemented yet.');
  };
  return apiHandler({
    'GET /directory/services': notYet,
    'GET /directory/services/{serviceId}': notYet,
    'PATCH /directory/services/{serviceId}': notYet,
  });
}

let built: ReturnType<typeof makeHandler> | undefined;
export const handler = (...args: Parameters<ReturnType<typeof makeHandler>>) => {
  built ??= makeHandler({ ...awsDeps(), clock: () => new Date().toISOString() });
  return built(...args);
};
