import { Worker } from 'node:worker_threads';
import type { ClientsJob, ClientsResult } from './clients.ts';

/** The clients' worker thread, kept for every run so its start-up is paid once. */
export class ClientWorker {
  private readonly worker = new Worker(new URL('./client-worker.ts', import.meta.url));

  run(job: ClientsJob): Promise<ClientsResult> {
    return new Promise((resolve, reject) => {
      const onMessage = (message: { ok: true; result: ClientsResult } | { ok: false; error: string }) => {
        this.worker.off('error', reject);
        if (message.ok) resolve(message.result);
        else reject(new Error(message.error));
      };
      this.worker.once('message', onMessage);
      this.worker.once('error', reject);
      this.worker.postMessage(job);
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
