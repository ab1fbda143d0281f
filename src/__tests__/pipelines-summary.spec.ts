import type { TranslationBundle } from '@jupyterlab/translation';
import { TriggerSummary } from '../pipelines/summary';
import { identityTrans } from './helpers';
import { trigger } from './pipelines-fakes';

/** Substitutes like JupyterLab's bundle: in plurals `%1` is the count. */
function pluralTrans(): TranslationBundle {
  const base = identityTrans();
  return {
    ...base,
    _n: (one: string, many: string, n: number, ...args: unknown[]) =>
      base.__(n === 1 ? one : many, n, ...args)
  };
}

describe('TriggerSummary.sentence', () => {
  const trans = pluralTrans();

  it('says what a file trigger watches and does in one sentence', () => {
    expect(TriggerSummary.sentence(trigger(), trans)).toBe(
      'When a file lands in project:ml101/incoming/ (*.csv) → run clean.ipynb, results to archive:results/{job}/'
    );
  });

  it('names the trigger a job-ended trigger follows, and the endpoint it rolls', () => {
    const rolling = trigger({
      source: {
        kind: 'job.ended',
        states: ['COMPLETED', 'FAILED'],
        trigger: 't1'
      },
      action: { kind: 'roll-endpoint', endpoint: 'e1', output: 0 }
    });
    expect(
      TriggerSummary.sentence(rolling, trans, {
        trigger: id => (id === 't1' ? 'clean incoming' : undefined),
        endpoint: id => (id === 'e1' ? 'assistant' : undefined)
      })
    ).toBe(
      'When a job of trigger clean incoming ends (COMPLETED or FAILED) → roll endpoint assistant to the model of output 0'
    );
  });

  it('falls back to ids when names are unknown, and reads copies and schedules', () => {
    const copy = trigger({
      source: { kind: 'schedule', cron: '30 9 * * 1-5' },
      action: { kind: 'copy', to: 'archive:backup/' }
    });
    expect(TriggerSummary.sentence(copy, trans)).toBe(
      'On weekdays at 09:30 UTC → copy it to archive:backup/'
    );
    const roll = trigger({
      source: { kind: 'job.ended', states: ['COMPLETED'] },
      action: { kind: 'roll-endpoint', endpoint: 'e9', output: 1 }
    });
    expect(TriggerSummary.sentence(roll, trans)).toBe(
      'When one of your jobs ends (COMPLETED) → roll endpoint e9 to the model of output 1'
    );
  });
});

describe('TriggerSummary.cron', () => {
  const trans = pluralTrans();
  const cases: Array<[string, string]> = [
    ['* * * * *', 'every minute'],
    ['*/15 * * * *', 'every 15 minutes'],
    ['5 * * * *', 'every hour at :05'],
    ['0 */6 * * *', 'every 6 hours at :00'],
    ['0 2 * * *', 'every day at 02:00 UTC'],
    ['0 9,17 * * *', 'every day at 09:00 and 17:00 UTC'],
    ['0 8 * * 1', 'on Mondays at 08:00 UTC'],
    ['0 8 * * 0,6', 'on weekends at 08:00 UTC'],
    ['15 3 1 * *', 'on day 1 of every month at 03:15 UTC']
  ];
  it.each(cases)('reads %s as "%s"', (cron, reading) => {
    expect(TriggerSummary.cron(cron, trans)).toBe(reading);
  });

  it('quotes schedules without a common reading', () => {
    expect(TriggerSummary.readCron('0 0 1-7 * 1', trans)).toBeNull();
    expect(TriggerSummary.cron('0 0 1-7 * 1', trans)).toBe(
      'on the schedule "0 0 1-7 * 1" (UTC)'
    );
    expect(TriggerSummary.readCron('61 * * * *', trans)).toBeNull();
    expect(TriggerSummary.readCron('0 2 * *', trans)).toBeNull();
  });
});

describe('TriggerSummary.runStateClass', () => {
  it('colours runs like jobs: waiting as pending, done as completed', () => {
    expect(TriggerSummary.runStateClass('waiting')).toBe('jp-mod-pending');
    expect(TriggerSummary.runStateClass('done')).toBe('jp-mod-completed');
    expect(TriggerSummary.runStateClass('failed')).toBe('jp-mod-failed');
  });
});
