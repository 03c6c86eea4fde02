/** Worker thread running the HTTP clients (bench/lib/clients.ts): one job per message, one answer each. */
import { parentPort } from 'node:worker_threads';
import { runClients, type ClientsJob } from './clients.ts';

parentPort?.on('message', (job: ClientsJob) => {
  runClients(job).then(
    (result) => parentPort?.postMessage({ ok: true, result }),
    (error: Error) => parentPort?.postMessage({ ok: false, error: error.stack ?? error.message }),
  );
});
