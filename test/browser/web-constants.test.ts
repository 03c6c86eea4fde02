/**
 * The web app takes the API's lists from the API's own modules (web/src/domain.ts): those must stay
 * fit for a browser bundle, and every value must have words a person can read.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as web from '../../web/src/domain.ts';
import { CONTACT_METHODS, ContactDetails, GAP_REASONS } from '../../lib/domain/schemas.ts';
import { ESCALATION_KINDS } from '../../lib/domain/vocabulary.ts';
import { CONTACT_METHODS as CONTACT_METHOD_WORDS, SAFETY_QUESTIONS } from '../../web/src/pages/identity-words.ts';
import { importsOf, REPO, sharedModulesOfWebApp, valueImportsOf } from './web-imports.ts';

describe('the web app speaks the API', () => {
  it("asks for her contact details in the API's own words", () => {
    expect(CONTACT_METHOD_WORDS.map(([v]) => v)).toEqual(CONTACT_METHODS);
    // Every safety question is a yes/no the API keeps, and every yes/no the API keeps is asked.
    const flags = Object.entries(ContactDetails.shape).filter(([, schema]) => schema.unwrap().type === 'boolean').map(([key]) => key);
    expect(SAFETY_QUESTIONS.map(([key]) => key).sort()).toEqual(flags.sort());
  });

  it("takes the API's lists from modules that import nothing (no zod, nothing of Node), so the bundle stays small and runs in a browser", () => {
    const shared = sharedModulesOfWebApp();
    expect(shared).toContain('lib/domain/vocabulary.ts');
    // A shared module may import another shared module (lib/domain/audit-actions.ts takes the commands' words from the
    // lifecycle table), which is in the list and checked the same way; nothing else.
    const isShared = (from: string, specifier: string) => specifier.startsWith('.') && shared.includes(relative(REPO, resolve(dirname(join(REPO, from)), specifier)));
    const imports = Object.fromEntries(shared.map((path) => [path, valueImportsOf(readFileSync(join(REPO, path), 'utf8')).filter((specifier) => !isShared(path, specifier))]));
    expect(imports).toEqual(Object.fromEntries(shared.map((path) => [path, []])));
  });

  it('reads the imports it checks', () => {
    // The check above is only as good as the reading of import lines.
    expect(importsOf("import { z } from 'zod';\nimport type { A } from './a.ts';\nexport { B } from \"../b.ts\";\nimport 'side-effect';\nconst c = await import('node:fs');")).toEqual(['zod', './a.ts', '../b.ts', 'side-effect', 'node:fs']);
    // Type-only imports are erased from the bundle; an inline `type` modifier leaves the import in it.
    expect(valueImportsOf("import type { A } from './a.ts';\nexport type { T } from './t.ts';\nimport { type B } from './b.ts';\nimport { C } from './c.ts';")).toEqual(['./b.ts', './c.ts']);
  });

  it('has words for every value', () => {
    for (const value of [...web.NEED_DOMAINS, ...web.LOCAL_AUTHORITIES, ...web.REFERRAL_SOURCES, ...web.EXIT_REASONS, ...web.DECLINE_REASONS]) {
      expect(web.label(value)).toMatch(/^[A-Z]/);
      expect(web.label(value)).not.toBe(value);
    }
  });

  it('has words written for every gap reason, follow-up correction reason, exit reason and escalation kind, so a new code without words fails here', () => {
    // label() makes words up from any code ("not-offered" → "Not offered"): a new code would read
    // as its own spelling. These are the codes a person acts on, so each must have words of its own.
    const codes = [...GAP_REASONS, ...web.FOLLOW_UP_CORRECTION_REASONS, ...web.EXIT_REASONS];
    const withoutWords = codes.filter((code) => !web.ownWords(code)?.match(/^[A-Z0-9]/));
    expect(withoutWords).toEqual([]);
    expect(ESCALATION_KINDS.filter((kind) => !(web.ESCALATION_WORDS as Record<string, string | undefined>)[kind]?.match(/^[A-Z0-9]/))).toEqual([]);
    // What the team lead reads for each kind is those words (or, for a need, the need's own words).
    for (const kind of ESCALATION_KINDS) expect(web.escalationLabel({ kind })).toBe(web.ESCALATION_WORDS[kind]);
    expect(web.escalationLabel({ kind: 'coverage-gap', ref: 'mental-health' })).toBe('No provider for mental health');
  });

  it('names the service and provider an unanswered offer went to, never the allocation id', () => {
    const names = web.directoryNames([{ serviceId: 'bcwa-justice', name: 'Women in the justice system', providerId: 'bcwa', providerName: 'BCWA' }]);
    const offer = { kind: 'offer-unanswered', ref: 'al_0123', offer: { serviceId: 'bcwa-justice', providerId: 'bcwa' } };
    expect(web.escalationLabel(offer, names)).toBe('Offer to Women in the justice system (BCWA) not answered');
    expect(web.escalationLabel({ kind: 'offer-unanswered', ref: 'al_0123' })).not.toContain('al_0123');
  });

  it('lists every stage a plan can be in, and not the stage of a plan that does not exist', () => {
    expect(web.STAGES).toEqual(['referred', 'assessment', 'allocating', 'active', 'exited', 'closed', 'withdrawn']);
  });
});

describe("the plan's timeline", () => {
  it('tells an escalation in the words the Escalations page uses, not a code made into words', async () => {
    // A JSX module: vitest transforms it, the server's tsc (no --jsx) must not resolve it, so the path is a value.
    const timelineModule: string = '../../web/src/pages/timeline.tsx';
    const { describe: describeEvent } = (await import(timelineModule)) as { describe: (item: unknown, providerName: (id: string) => string) => { title: string } };
    const escalated = (data: Record<string, unknown>) => describeEvent({ type: 'plan.escalated.v1', time: '2026-06-15T13:05:00.000Z', sequence: 1, data }, (id) => id).title;
    expect(escalated({ kind: 'follow-up-due:6', stage: 'exited', repeated: false })).toBe(`Escalated: ${web.escalationLabel({ kind: 'follow-up-due:6' }).toLowerCase()}`);
    expect(escalated({ kind: 'follow-up-due:6', stage: 'exited', repeated: false })).not.toContain('due:6');
    expect(escalated({ kind: 'coverage-gap', ref: 'accommodation', stage: 'active', repeated: false })).toBe('Escalated: no provider for accommodation');
  });
});
