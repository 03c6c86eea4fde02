/**
 * A raw HTTP/1.1 client for the fuzz suites: keep-alive sockets (so thousands of requests cost no
 * handshakes), headers as a list (so a header can be sent twice, or not at all), bodies as bytes (so
 * invalid UTF-8 and lone surrogates reach the server as they are), and chunked bodies without a
 * Content-Length. fetch can do none of these.
 */
import { Agent, request, type IncomingHttpHeaders } from 'node:http';

export interface RawRequest {
  method: string;
  /** Already percent-encoded path and query (the client sends it as it is). */
  path: string;
  /** Header name/value pairs, in order; a name may repeat. */
  headers: [string, string][];
  body?: Buffer;
  /** Send the body with Transfer-Encoding: chunked instead of a Content-Length. */
  chunked?: boolean;
  /** What the generator made, for failure messages. */
  label: string;
  /** Use a connection of its own, closed afterwards, instead of a pooled keep-alive one. */
  ownConnection?: boolean;
  /** Leave out the Host header (Node's server answers that itself, before the gateway). */
  omitHost?: boolean;
  /** The request cannot be valid (bad token, malformed id, unknown field…): it must be a 4xx. */
  mustRefuse?: string;
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** Set when no response came back (connection reset, timeout). */
  error?: string;
}

export class RawClient {
  readonly agent: Agent;
  readonly host: string;
  readonly port: number;

  constructor(baseUrl: string, sockets = 8) {
    const url = new URL(baseUrl);
    this.host = url.hostname;
    this.port = Number(url.port);
    this.agent = new Agent({ keepAlive: true, maxSockets: sockets, keepAliveMsecs: 1000 });
  }

  send(req: RawRequest, timeoutMs = 20_000): Promise<RawResponse> {
    return new Promise((resolve) => {
      let settled = false;
      const done = (response: RawResponse) => {
        if (settled) return;
        settled = true;
        resolve(response);
      };
      const flat: string[] = req.omitHost || req.headers.some(([name]) => name.toLowerCase() === 'host') ? [] : ['host', `${this.host}:${this.port}`];
      for (const [name, value] of req.headers) flat.push(name, value);
      if (req.body && !req.chunked) flat.push('content-length', String(req.body.length));
      // Node's client frames a body as chunked by itself only for methods that usually carry one.
      if (req.body && req.chunked) flat.push('transfer-encoding', 'chunked');
      let outgoing;
      try {
        outgoing = request({ host: this.host, port: this.port, method: req.method, path: req.path, agent: req.ownConnection ? false : this.agent, headers: flat, timeout: timeoutMs });
      } catch (error) {
        // The client itself refused to send it (an invalid header or path): not the server's doing.
        done({ status: 0, headers: {}, text: '', error: `client: ${(error as Error).message}` });
        return;
      }
      outgoing.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (error) => done({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8'), error: error.message }));
      });
      outgoing.on('timeout', () => {
        outgoing.destroy(new Error(`no answer within ${timeoutMs} ms`));
      });
      // An early answer (413 while the body is still being written) may reset the socket under the
      // rest of the body; the answer already read counts, the write error does not.
      outgoing.on('error', (error) => setTimeout(() => done({ status: 0, headers: {}, text: '', error: error.message }), 50));
      if (req.body) {
        if (req.chunked) {
          const step = Math.max(1, Math.ceil(req.body.length / 4));
          for (let i = 0; i < req.body.length; i += step) outgoing.write(req.body.subarray(i, i + step));
        } else outgoing.write(req.body);
      }
      outgoing.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Run `work` over `items` with at most `limit` at once; results in input order. */
export async function inPool<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index] as T, index);
      }
    }),
  );
  return results;
}
