/**
 * Logs never hold identity or free text: everything the process writes (console.*, stdout, stderr)
 * while the embedded stack runs a whole lifecycle, refuses bad input and fails on injected storage
 * faults is captured and searched for the participant's name, date of birth, contact details,
 * address, notes, own words and goals.
 */
import { format } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  CONTACT_SECRETS,
  injectFaults,
  SECRET_CONTACT,
  putPk,
  putsAuditRecord,
  referralBody,
  runFullLifecycle,
  SECRET_GOAL,
  SECRET_NOTE,
  SECRET_PARTICIPANT,
  SECRET_WORDS,
  secretParticipant,
  startSecurityStack,
  type FaultInjector,
  type Lifecycle,
  type SecurityStack,
} from './support.ts';

const captured: string[] = [];
const write = { out: process.stdout.write, err: process.stderr.write };
/** Dates of birth sent in this file: every one must stay out of the logs. */
const datesOfBirth = new Set<string>();
/** Free text sent in refused requests. */
const BAD_INPUT_SECRET = 'Marrowcombe safehouse on Quayle Street';

let s: SecurityStack;
let faults: FaultInjector;
let life: Lifecycle;
const statuses: Record<string, number> = {};

function startCapture() {
  const keep = (chunk: unknown) => {
    captured.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return true;
  };
  process.stdout.write = keep as typeof process.stdout.write;
  process.stderr.write = keep as typeof process.stderr.write;
  for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void captured.push(format(...args)));
}

function stopCapture() {
  process.stdout.write = write.out;
  process.stderr.write = write.err;
  vi.restoreAllMocks();
}

beforeAll(async () => {
  startCapture();
  s = await startSecurityStack();
  faults = injectFaults(s.stack);
  life = await runFullLifecycle(s);
  datesOfBirth.add(life.participant.dateOfBirth);
}, 60_000);
afterAll(async () => {
  await s?.stop();
  stopCapture();
});

async function send(label: string, method: string, path: string, token: string | undefined, body?: unknown, headers?: Record<string, string>) {
  const res = await s.call(method, path, { ...(token ? { token } : {}), ...(body !== undefined ? { body } : {}), ...(headers ? { headers } : {}) });
  statuses[label] = res.status;
  return res;
}

describe('what the process writes never identifies the participant or repeats free text', () => {
  it('refuses bad input carrying personal data (4xx)', async () => {
    const who = secretParticipant();
    datesOfBirth.add(who.dateOfBirth);
    const plan = await send('refer (good)', 'POST', '/plans', s.coordinator, referralBody(who));
    expect(plan.status).toBe(201);
    const id = plan.json.planId as string;
    await send('refer: impossible date of birth', 'POST', '/plans', s.coordinator, referralBody({ ...secretParticipant(), dateOfBirth: '1983-13-45' }));
    const future = { ...secretParticipant(), dateOfBirth: '2999-01-01' };
    datesOfBirth.add(future.dateOfBirth);
    await send('refer: born in the future', 'POST', '/plans', s.coordinator, referralBody(future));
    await send('refer: unknown field', 'POST', '/plans', s.coordinator, { ...referralBody(), notes: BAD_INPUT_SECRET });
    await send('refer: name too long', 'POST', '/plans', s.coordinator, referralBody({ ...secretParticipant(), givenName: `${SECRET_PARTICIPANT.givenName} ${'x'.repeat(300)}` }));
    await send('refer: not JSON', 'POST', '/plans', s.coordinator, `{"participant":{"givenName":"${SECRET_PARTICIPANT.givenName}","familyName":"${SECRET_PARTICIPANT.familyName}"`);
    await send('refer: too large', 'POST', '/plans', s.coordinator, { ...referralBody(), padding: `${BAD_INPUT_SECRET} `.repeat(3000) });
    await send('refer: duplicate person', 'POST', '/plans', s.coordinator, referralBody(who));
    await send('refer: without a token', 'POST', '/plans', undefined, referralBody(who));
    await send('consent: bad method', 'POST', `/plans/${id}/record-consent`, s.coordinator, { scope: { shareWithProviders: true, dataCategories: ['needs'] }, givenAt: s.today(), method: BAD_INPUT_SECRET });
    await send('withdraw: note too long', 'POST', `/plans/${id}/withdraw`, s.coordinator, { reason: 'other', note: `${BAD_INPUT_SECRET} `.repeat(40) });
    await send('assessment in the wrong stage', 'POST', `/plans/${id}/submit-assessment`, s.coordinator, { needs: [{ domain: 'mental-health', level: 'high', priority: true, goals: [SECRET_GOAL] }] });
    await send('review: bad score, with own words', 'POST', `/plans/${life.planId}/record-review`, s.coordinator, { scores: { 'mental-health': 11 }, outcome: 'continue', participantWords: SECRET_WORDS });
    await send('decline on a closed plan, with a note', 'POST', `/allocations/${life.allocationId}/decline`, s.provider(life.providerId), { reason: 'other', note: SECRET_NOTE });
    await send('exit on a closed plan, with a note', 'POST', `/plans/${life.planId}/exit`, s.coordinator, { reason: 'other', note: SECRET_NOTE });
    await send('X-Purpose too long, naming her', 'GET', `/plans/${id}`, s.coordinator, undefined, { 'x-purpose': `${SECRET_PARTICIPANT.familyName} ${'x'.repeat(300)}` });
    const contact = who.contact ?? {};
    await send('refer: bad postcode, with her phone', 'POST', '/plans', s.coordinator, referralBody({ ...secretParticipant(), address: { lines: [`${BAD_INPUT_SECRET}`], postcode: 'not a postcode' } }));
    await send('refer: bad email, with her address', 'POST', '/plans', s.coordinator, referralBody({ ...secretParticipant(), contact: { ...contact, email: `${BAD_INPUT_SECRET} at home` } }));
    await send('correct: unknown field, with her phone', 'PATCH', `/plans/${id}/participant`, s.coordinator, { contact, givenName: SECRET_PARTICIPANT.givenName });
    await send('correct: letter without an address', 'PATCH', `/plans/${id}/participant`, s.coordinator, { contact: { ...contact, preferredMethod: 'letter', safeToSendPost: true }, address: { lines: [] } });
    await send('correct: as a team lead', 'PATCH', `/plans/${id}/participant`, s.teamLead, { contact });
    await send('contact read before acceptance', 'GET', `/allocations/${life.allocationId}/participant`, s.provider(life.providerId));
    const refused = Object.entries(statuses).filter(([label]) => label !== 'refer (good)');
    for (const [label, status] of refused) {
      expect(status, label).toBeGreaterThanOrEqual(400);
      expect(status, label).toBeLessThan(500);
    }
  });

  it('fails on injected storage faults (5xx) without logging what was being stored or read', async () => {
    const who = secretParticipant();
    datesOfBirth.add(who.dateOfBirth);
    faults.set((name, input) => Boolean(putPk(name, input)?.startsWith('PARTICIPANT#')));
    const refer = await send('refer: identity write fails', 'POST', '/plans', s.coordinator, referralBody(who));
    faults.clear();
    expect(refer.status).toBeGreaterThanOrEqual(500);

    const plan = await send('refer (good, for faults)', 'POST', '/plans', s.coordinator, referralBody());
    expect(plan.status).toBe(201);
    const id = plan.json.planId as string;
    // Every read of the identity item fails: the coordinator's read of the plan is a 5xx.
    faults.set((name, input) => name.startsWith('GetItem') && JSON.stringify(input.Key ?? {}).includes('PARTICIPANT#'));
    const read = await send('read plan: identity read fails', 'GET', `/plans/${id}`, s.coordinator);
    faults.clear();
    expect(read.status).toBeGreaterThanOrEqual(500);
    expect(read.text).not.toContain(SECRET_PARTICIPANT.familyName);

    // Every write of the plan fails: the command cannot be saved.
    faults.set((name, input) => (putPk(name, input) ?? '').startsWith('PLAN#') || (name.startsWith('TransactWrite') && JSON.stringify(input).includes('PLAN#')) || (name.startsWith('UpdateItem') && JSON.stringify(input.Key ?? {}).includes('PLAN#')));
    const consent = await send('consent: plan write fails', 'POST', `/plans/${id}/record-consent`, s.coordinator, {
      scope: { shareWithProviders: true, dataCategories: ['needs'] },
      givenAt: s.today(),
      method: 'verbal',
    });
    const withdraw = await send('withdraw: plan write fails', 'POST', `/plans/${id}/withdraw`, s.coordinator, { reason: 'other', note: SECRET_NOTE });
    faults.clear();
    expect(consent.status).toBeGreaterThanOrEqual(500);
    expect(withdraw.status).toBeGreaterThanOrEqual(500);
    expect(faults.failed).toBeGreaterThanOrEqual(4);
  });

  it("fails a provider's read of her contact details when its audit record cannot be written, without logging them", async () => {
    const plan = await send('refer (good, for the contact read)', 'POST', '/plans', s.coordinator, referralBody());
    const id = plan.json.planId as string;
    await send('consent incl. contact details', 'POST', `/plans/${id}/record-consent`, s.coordinator, { scope: { shareWithProviders: true, dataCategories: ['needs', 'contact-details'] }, givenAt: s.today(), method: 'written' });
    const assessed = await send('assessment', 'POST', `/plans/${id}/submit-assessment`, s.coordinator, { needs: [{ domain: 'mental-health', level: 'high', priority: true }] });
    const offer = (assessed.json.allocations as { allocationId: string; providerId: string }[])[0] as { allocationId: string; providerId: string };
    expect((await send('accept', 'POST', `/allocations/${offer.allocationId}/accept`, s.provider(offer.providerId), {})).status).toBe(200);
    faults.set(putsAuditRecord);
    const read = await send('contact read: audit write fails', 'GET', `/allocations/${offer.allocationId}/participant`, s.provider(offer.providerId));
    faults.clear();
    expect(read.status).toBeGreaterThanOrEqual(500);
    for (const secret of CONTACT_SECRETS) expect(read.text).not.toContain(secret);
    // The control: with the log back, the same read gives them.
    const again = await send('contact read', 'GET', `/allocations/${offer.allocationId}/participant`, s.provider(offer.providerId));
    expect(again.status).toBe(200);
    expect(again.json.contact.phone).toBe(SECRET_CONTACT.phone);
  });

  it('logs the failures it had (the capture works), and none of it names her or repeats her words', () => {
    const text = captured.join('\n');
    // The 5xx above were logged: proof that what the process writes was captured.
    expect(text).toContain('InjectedStorageFault');
    const secrets = [
      SECRET_PARTICIPANT.givenName,
      SECRET_PARTICIPANT.familyName,
      ...datesOfBirth,
      SECRET_NOTE,
      SECRET_WORDS,
      SECRET_GOAL,
      BAD_INPUT_SECRET,
      // How to reach her and where she lives, in every spelling sent.
      ...CONTACT_SECRETS,
      // Parts of the free text, in case a message was cut short.
      'Kestrelmoor',
      'Lanternbright',
      'Thistledown',
      'Marrowcombe',
      // Field names of the identity and the free text: a logged object or request body would show them.
      'givenName',
      'familyName',
      'dateOfBirth',
      'participantWords',
      'preferredName',
      'postcode',
      'safetyNote',
      'safeToLeaveVoicemail',
    ];
    for (const secret of secrets) expect(text.includes(secret), `the logs contain "${secret}"`).toBe(false);
  });
});
