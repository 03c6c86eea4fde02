/**
 * Writes lib/adapters/gb-holidays.json: the England and Wales bank holidays date-holidays gives for
 * GB-ENG, year by year. The Lambda bundles read that file instead of date-holidays itself, whose
 * rules engine, worldwide data and time-zone database would be ~1.4 MB of every bundle.
 * `node scripts/render-holidays.ts` writes it; test/infra/holidays.test.ts fails when the committed
 * file differs from what the installed date-holidays says now (run this after updating it).
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Holidays from 'date-holidays';
import holidaysPackage from 'date-holidays/package.json' with { type: 'json' };

export const BANK_HOLIDAYS_FILE = 'lib/adapters/gb-holidays.json';
/** Plans, reviews and follow-ups fall within a few years of today; the file covers the century. */
export const FIRST_YEAR = 2000;
export const LAST_YEAR = 2100;

/** The public holidays of England (and Wales) in a year, as YYYY-MM-DD, substitute days included. */
export function bankHolidaysFromLibrary(year: number, holidays = new Holidays('GB', 'ENG')): string[] {
  return holidays
    .getHolidays(year)
    .filter((h) => h.type === 'public')
    .map((h) => h.date.slice(0, 10))
    .sort();
}

/** The file's text: one line per year so that an update to date-holidays shows as a readable diff. */
export function renderBankHolidays(): string {
  const holidays = new Holidays('GB', 'ENG');
  const years: string[] = [];
  for (let year = FIRST_YEAR; year <= LAST_YEAR; year += 1) {
    years.push(`    "${year}": ${JSON.stringify(bankHolidaysFromLibrary(year, holidays))}`);
  }
  return [
    '{',
    `  "generatedBy": "node scripts/render-holidays.ts",`,
    `  "source": ${JSON.stringify(`date-holidays@${holidaysPackage.version}, GB-ENG, public holidays`)},`,
    `  "licence": ${JSON.stringify(holidaysPackage.license)},`,
    `  "firstYear": ${FIRST_YEAR},`,
    `  "lastYear": ${LAST_YEAR},`,
    '  "dates": {',
    years.join(',\n'),
    '  }',
    '}',
    '',
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  writeFileSync(join(root, BANK_HOLIDAYS_FILE), renderBankHolidays());
  console.log(`wrote ${BANK_HOLIDAYS_FILE}`);
}
