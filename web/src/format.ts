/** Dates as people in England read them, in London time whatever the browser's zone. */
const TZ = 'Europe/London';
const dateFmt = new Intl.DateTimeFormat('en-GB', { timeZone: TZ, day: 'numeric', month: 'short', year: 'numeric' });
const dateTimeFmt = new Intl.DateTimeFormat('en-GB', { timeZone: TZ, day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });
const isoDayFmt = new Intl.DateTimeFormat('en-CA', { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit' });

const parse = (value: string) => new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T12:00:00Z` : value);

export function formatDate(value: string | undefined | null): string {
  if (!value) return '';
  const d = parse(value);
  return Number.isNaN(d.getTime()) ? value : dateFmt.format(d);
}

export function formatDateTime(value: string | undefined | null): string {
  if (!value) return '';
  const d = parse(value);
  return Number.isNaN(d.getTime()) ? value : dateTimeFmt.format(d);
}

/** YYYY-MM-DD of an instant, in London. */
export function londonDay(instant: string | number | Date): string {
  return isoDayFmt.format(new Date(instant));
}

/** "in 3 days", "today", "2 days ago", from `now`. */
export function relative(value: string, now: string): string {
  const days = Math.round((parse(value).getTime() - new Date(now).getTime()) / 86_400_000);
  if (days === 0) {
    const hours = Math.round((parse(value).getTime() - new Date(now).getTime()) / 3_600_000);
    if (hours > 0) return `in ${hours} hour${hours === 1 ? '' : 's'}`;
    if (hours < 0) return `${-hours} hour${hours === -1 ? '' : 's'} ago`;
    return 'now';
  }
  return days > 0 ? `in ${days} day${days === 1 ? '' : 's'}` : `${-days} day${days === -1 ? '' : 's'} ago`;
}

export const isPast = (value: string, now: string) => parse(value).getTime() < new Date(now).getTime();

export function formatNumber(value: number, unit?: string): string {
  if (unit?.startsWith('proportion')) return `${(value * 100).toFixed(value * 100 >= 10 ? 0 : 1)}%`;
  return Number.isInteger(value) ? value.toLocaleString('en-GB') : value.toLocaleString('en-GB', { maximumFractionDigits: 2 });
}
