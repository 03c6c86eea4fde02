/**
 * Every action code the API can write to the audit log has words, from the one table
 * (lib/domain/audit-actions.ts) the web app reads: every code the handlers name (read from their
 * source, so a new code without words fails here), every command of the lifecycle table and every
 * reason a read of her contact details is refused for. A change's record without an outcome reads
 * "Outcome not recorded"; a read's has none.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AUDIT_ACTIONS, auditActionWords, auditOutcomeWords, serviceChangeWords } from '../../lib/domain/audit-actions.ts';
import { COMMAND_NAMES } from '../../lib/domain/lifecycle.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const sources = ['functions', 'lib'].flatMap((dir) =>
  readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => readFileSync(join(ROOT, dir, f), 'utf8')),
);

/** The action codes written in the source: auditAccess/auditRefusedCaller arguments, `action:` fields, the refusal reasons. */
function codesInSource(): string[] {
  const codes = new Set<string>();
  for (const text of sources) {
    for (const m of text.matchAll(/audit(?:Access|RefusedCaller)\([^,]+,\s*ctx,\s*([^,]+),/g)) {
      for (const literal of (m[1] as string).matchAll(/'([a-z:-]+)'/g)) codes.add(literal[1] as string);
      if ((m[1] as string).includes('read-participant-contact-refused:')) codes.add('read-participant-contact-refused:');
    }
    for (const m of text.matchAll(/action: '([a-z:-]+)'/g)) codes.add(m[1] as string);
    // The reasons the contact route refuses for, passed to its refused(...) helper.
    for (const m of text.matchAll(/refused\('([a-z-]+)'/g)) codes.add(`read-participant-contact-refused:${m[1]}`);
    for (const m of text.matchAll(/reason: '([a-z-]+)', detail/g)) codes.add(`read-participant-contact-refused:${m[1]}`);
  }
  codes.delete('read-participant-contact-refused:');
  return [...codes];
}

describe('audit action words', () => {
  it('has words for every code the source writes, every command and every refusal reason', () => {
    const written = codesInSource();
    expect(written.length).toBeGreaterThan(15);
    for (const code of [...written, ...COMMAND_NAMES.map((name) => `command:${name}`), ...AUDIT_ACTIONS]) {
      const words = auditActionWords(code);
      expect(words, code).toBeTruthy();
      expect(words, code).not.toBe(code);
      expect(words, code).toMatch(/^[A-Z]/);
    }
    expect(AUDIT_ACTIONS).toEqual(expect.arrayContaining(written));
  });

  it('names a command by its step in the lifecycle table, and leaves a code it does not know as undefined', () => {
    expect(auditActionWords('command:acknowledge-escalation')).toBe('Acknowledge escalation');
    expect(auditActionWords('read-plan')).toBe('Read the plan');
    expect(auditActionWords('read-participant-contact-refused:consent-withdrawn')).toBe('Tried to read her contact details: refused, she withdrew her consent');
    expect(auditActionWords('command:no-such-command')).toBeUndefined();
    expect(auditActionWords('something-new')).toBeUndefined();
  });

  it('says how a change ended, and that an older record of a change does not say', () => {
    expect(auditOutcomeWords({ action: 'command:acknowledge-escalation', outcome: { result: 'succeeded', status: 200 } })).toBe('Done');
    expect(auditOutcomeWords({ action: 'command:acknowledge-escalation', outcome: { result: 'refused', status: 409, problem: 'Conflict' } })).toBe('Refused, nothing changed (409 Conflict)');
    expect(auditOutcomeWords({ action: 'command:exit', outcome: { result: 'failed', status: 500, problem: 'Internal error' } })).toBe('Failed on our side (500 Internal error)');
    expect(auditOutcomeWords({ action: 'command:acknowledge-escalation' })).toBe('Outcome not recorded');
    expect(auditOutcomeWords({ action: 'change-service' })).toBe('Outcome not recorded');
    expect(auditOutcomeWords({ action: 'read-plan' })).toBeUndefined();
  });

  it("says what a directory change set, old to new", () => {
    expect(serviceChangeWords({ capacity: { from: 15, to: 18 } })).toBe('capacity 15 → 18');
    expect(serviceChangeWords({ capacity: { from: 18, to: 1000 }, status: { from: 'active', to: 'temporarily-closed' } })).toBe('capacity 18 → 1000; status active → temporarily closed');
  });
});
