import type { IncomingMessage, ServerResponse } from 'node:http';
import * as z from 'zod';
import { problem, problemResponse, type HttpProblem } from '../api/http.ts';
import { zodErrors } from '../domain/decide.ts';
import type { Clock } from './clock.ts';
import type { LocalTokens } from './tokens.ts';

/**
 * Embedded-only routes to read and move the clock: `GET /_local/clock` and
 * `POST /_local/clock/advance {"days": 30}`. They exist only on the embedded stack, need any valid
 * token, and refuse to move a clock that is not simulated.
 */
const Advance = z
  .strictObject({
    days: z.number().min(0).max(800).default(0),
    hours: z.number().min(0).max(24 * 800).default(0),
    minutes: z.number().min(0).max(60 * 24 * 800).default(0),
    stepHours: z.number().min(0.25).max(24 * 31).default(6),
  })
  .refine((a) => a.days + a.hours + a.minutes > 0, { message: 'give days, hours or minutes greater than 0', path: ['days'] });

export function clockRoutes(deps: { clock: Clock; tokens: LocalTokens; advance: (ms: number, stepMs: number) => Promise<unknown> }) {
  const send = (res: ServerResponse, status: number, body: unknown, type = 'application/json') => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };
  const sendProblem = (res: ServerResponse, p: HttpProblem) => {
    const r = problemResponse(p);
    res.writeHead(r.statusCode, r.headers as Record<string, string>);
    res.end(r.body);
  };
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (!path.startsWith('/_local/clock')) return false;
    const token = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!token || !(await deps.tokens.verify(token))) {
      sendProblem(res, problem(401, 'Sign in: send Authorization: Bearer <token>.'));
      return true;
    }
    if (req.method === 'GET' && path === '/_local/clock') {
      send(res, 200, { now: deps.clock.now(), kind: deps.clock.kind });
      return true;
    }
    if (req.method === 'POST' && path === '/_local/clock/advance') {
      if (deps.clock.kind !== 'simulated') {
        sendProblem(res, problem(409, 'The clock is the system clock; start the stack with --clock simulated to move it.'));
        return true;
      }
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      let body: unknown;
      try {
        body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
      } catch {
        sendProblem(res, problem(400, 'The body is not valid JSON.', [{ path: '(body)', message: 'must be valid JSON' }]));
        return true;
      }
      const parsed = Advance.safeParse(body);
      if (!parsed.success) {
        const errors = zodErrors(parsed.error);
        sendProblem(res, problem(400, `The advance request is not valid: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, errors));
        return true;
      }
      const a = parsed.data;
      const ms = ((a.days * 24 + a.hours) * 60 + a.minutes) * 60_000;
      send(res, 200, await deps.advance(ms, a.stepHours * 3600_000));
      return true;
    }
    sendProblem(res, problem(404, `There is no route ${req.method} ${path}.`));
    return true;
  };
}
