/**
 * Five-field cron (minute hour day-of-month month day-of-week) in UTC: `*`, numbers,
 * lists, ranges and steps (`*\/15`, `1-5`, `0,30`, `10-50/20`). Day-of-week 0 and 7 are
 * Sunday. As in Vixie cron, when both day fields are restricted a day matching either
 * is due.
 */
import { DomainError } from '../domain-error';

interface IField {
  name: string;
  min: number;
  max: number;
}

const FIELDS: readonly IField[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day-of-week', min: 0, max: 7 }
];

export interface ICron {
  minutes: ReadonlySet<number>;
  hours: ReadonlySet<number>;
  days: ReadonlySet<number>;
  months: ReadonlySet<number>;
  weekdays: ReadonlySet<number>;
  /** Whether day-of-month / day-of-week were `*` (then only the other one counts). */
  anyDay: boolean;
  anyWeekday: boolean;
}

function refuse(field: IField, part: string, why: string): never {
  throw new DomainError(
    'bad_request',
    `cron ${field.name} "${part}": ${why} (allowed ${field.min}-${field.max})`
  );
}

function numberIn(field: IField, text: string, part: string): number {
  if (!/^\d+$/.test(text)) {
    refuse(field, part, `"${text}" is not a number`);
  }
  const n = Number(text);
  if (n < field.min || n > field.max) {
    refuse(field, part, `${n} is out of range`);
  }
  return n;
}

function parseField(field: IField, text: string): Set<number> {
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const [range, stepText, extra] = part.split('/');
    if (extra !== undefined || range === undefined || range === '') {
      refuse(field, part, 'expected a value, a range or */step');
    }
    const step =
      stepText === undefined
        ? 1
        : numberIn({ ...field, min: 1 }, stepText, part);
    let from: number;
    let to: number;
    if (range === '*') {
      from = field.min;
      to = field.max;
    } else if (range.includes('-')) {
      const [a = '', b = ''] = range.split('-');
      from = numberIn(field, a, part);
      to = numberIn(field, b, part);
      if (from > to) {
        refuse(field, part, `the range ${from}-${to} runs backwards`);
      }
    } else {
      from = numberIn(field, range, part);
      to = stepText === undefined ? from : field.max;
    }
    for (let v = from; v <= to; v += step) {
      values.add(v);
    }
  }
  return values;
}

/** Parses the expression; 400 with the field and the reason when it is not valid. */
export function parseCron(expression: string): ICron {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 5) {
    throw new DomainError(
      'bad_request',
      `cron "${expression}": five fields are needed (minute hour day-of-month month day-of-week), found ${parts.length}`
    );
  }
  const [minutes, hours, days, months, weekdays] = FIELDS.map((f, i) =>
    parseField(f, parts[i] ?? '')
  ) as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];
  if (weekdays.has(7)) {
    weekdays.add(0);
  }
  const cron = {
    minutes,
    hours,
    days,
    months,
    weekdays,
    anyDay: parts[2] === '*',
    anyWeekday: parts[4] === '*'
  };
  if (latestDue(cron, new Date(Date.UTC(2030, 0, 1)), 366 * 8) === null) {
    throw new DomainError(
      'bad_request',
      `cron "${expression}" is never due (no such day in any year)`
    );
  }
  return cron;
}

function dayMatches(cron: ICron, at: Date): boolean {
  const day = cron.days.has(at.getUTCDate());
  const weekday = cron.weekdays.has(at.getUTCDay());
  if (cron.anyDay && cron.anyWeekday) {
    return true;
  }
  if (cron.anyDay) {
    return weekday;
  }
  if (cron.anyWeekday) {
    return day;
  }
  return day || weekday;
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/**
 * The latest due minute at or before `at` (UTC), looking back at most `days` days; null
 * when none is due in that window.
 */
export function latestDue(cron: ICron, at: Date, days = 366): Date | null {
  const startOfMinute = Math.floor(at.getTime() / MINUTE) * MINUTE;
  const startOfDay = Math.floor(startOfMinute / DAY) * DAY;
  for (let d = 0; d <= days; d++) {
    const day = new Date(startOfDay - d * DAY);
    if (!cron.months.has(day.getUTCMonth() + 1) || !dayMatches(cron, day)) {
      continue;
    }
    const hours = [...cron.hours].sort((a, b) => b - a);
    const minutes = [...cron.minutes].sort((a, b) => b - a);
    for (const h of hours) {
      for (const m of minutes) {
        const t = day.getTime() + h * 60 * MINUTE + m * MINUTE;
        if (t <= startOfMinute) {
          return new Date(t);
        }
      }
    }
  }
  return null;
}
