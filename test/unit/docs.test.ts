import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMMAND_NAMES, LIFECYCLE, STAGES, TIMER_COMMANDS } from '../../lib/domain/lifecycle.ts';
import { ROUTES } from '../../lib/api/routes.ts';
import { renderApi, renderDocs, renderLifecycle } from '../../scripts/render-docs.ts';

const committed = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('generated docs', () => {
  it.each(Object.entries(renderDocs()))('%s is committed as rendered now (run `node scripts/render-docs.ts`)', (path, rendered) => {
    expect(committed(path)).toBe(rendered);
  });

  it('lifecycle.md has a row per command, with its actors and next stages', () => {
    const text = renderLifecycle();
    for (const name of COMMAND_NAMES) {
      const row = text.split('\n').find((line) => line.startsWith(`| \`${name}\` |`));
      expect(row, name).toBeDefined();
      expect(row).toContain(`| ${LIFECYCLE[name].actors.join(', ')} |`);
      expect(row).toContain(`| ${LIFECYCLE[name].next.join(', ')} |`);
    }
  });

  it('the state diagram moves between every stage and leaves timers out', () => {
    const diagram = /```mermaid\n([\s\S]*?)```/.exec(renderLifecycle())?.[1] ?? '';
    expect(diagram.startsWith('stateDiagram-v2\n')).toBe(true);
    expect(diagram).toContain('[*] --> referred : refer');
    expect(diagram).toContain('exited --> closed : withdraw-consent, record-follow-up');
    for (const stage of STAGES.filter((s) => s !== 'none')) expect(diagram, stage).toMatch(new RegExp(`--> ${stage}\\b`));
    for (const timer of TIMER_COMMANDS) expect(diagram).not.toContain(timer);
    // Staying put is not an arrow.
    for (const line of diagram.split('\n').slice(1)) {
      const [from, to] = line.trim().split(' : ')[0]?.split(' --> ') ?? [];
      expect(from, line).not.toBe(to);
    }
  });

  it('api.md lists every route with its roles and every HTTP command path', () => {
    const text = renderApi();
    for (const route of ROUTES) {
      const roles = route.roles === 'public' ? 'public' : route.roles.join(', ');
      expect(text).toMatch(new RegExp(`\\| ${route.method} \\| \`${route.path.replace(/[{}.]/g, '\\$&')}\` \\| ${roles}`));
    }
    expect(text).toContain('`POST /plans/{planId}/record-consent`');
    expect(text).toContain('`POST /allocations/{allocationId}/accept`');
    expect(text).not.toContain('/review-due`');
  });
});
