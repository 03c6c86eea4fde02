import type { PlanRepository } from '../../lib/adapters/dynamodb/plan-repository.ts';
import { apiHandler } from '../../lib/api/handler-kit.ts';
import { problem } from '../../lib/api/http.ts';
import { awsDeps } from '../../lib/runtime/aws.ts';

export interface ProvidersApiDeps {
  plans: PlanRepository;
  clock: () => string;
}

/** Provider-facing API (to be completed: allocations held, feed, webhook subscriptions, deliveries). */
export function makeHandler(_deps: ProvidersApiDeps) {
  const notYet = async () => {
    throw problem(404, 'Not implemented yet.');
  };
  return apiHandler({
    'GET /providers/{providerId}/allocations': notYet,
    'GET /providers/{providerId}/feed': notYet,
    'GET /providers/{providerId}/subscriptions': notYet,
    'POST /providers/{providerId}/subscriptions': notYet,
    'DELETE /providers/{providerId}/subscriptions/{subscriptionId}': notYet,
    'GET /providers/{providerId}/deliveries': notYet,
    'POST /providers/{providerId}/deliveries/{deliveryId}/replay': notYet,
  });
}

let built: ReturnType<typeof makeHandler> | undefined;
export const handler = (...args: Parameters<ReturnType<typeof makeHandler>>) => {
  built ??= makeHandler({ ...awsDeps(), clock: () => new Date().toISOString() });
  return built(...args);
};
