import type {
  JobState,
  Trigger,
  TriggerAction,
  TriggerRunState,
  TriggerSource
} from '@hpc-bridge/server/contract';
import type { TranslationBundle } from '@jupyterlab/translation';

/**
 * Triggers in plain words: what one watches and does in one sentence
 * ("When a file lands in project:ml101/incoming/ (*.csv) → run clean.ipynb,
 * results to archive:results/{job}/"), and a cron schedule as it reads.
 */
export namespace TriggerSummary {
  /** Names the sentences use for ids: the user's endpoints and triggers. */
  export interface INames {
    endpoint?: (id: string) => string | undefined;
    trigger?: (id: string) => string | undefined;
  }

  /** The whole rule: its event, an arrow, its action. */
  export function sentence(
    trigger: Pick<Trigger, 'source' | 'action'>,
    trans: TranslationBundle,
    names: INames = {}
  ): string {
    return trans.__(
      '%1 → %2',
      source(trigger.source, trans, names),
      action(trigger.action, trans, names)
    );
  }

  /** What fires the trigger, as the start of a sentence. */
  export function source(
    source: TriggerSource,
    trans: TranslationBundle,
    names: INames = {}
  ): string {
    switch (source.kind) {
      case 'object.created':
        return source.match
          ? trans.__(
              'When a file lands in %1 (%2)',
              source.prefix,
              source.match
            )
          : trans.__('When a file lands in %1', source.prefix);
      case 'job.ended': {
        const states = statesPhrase(source.states, trans);
        if (source.trigger) {
          return trans.__(
            'When a job of trigger %1 ends %2',
            names.trigger?.(source.trigger) ?? source.trigger,
            states
          );
        }
        return source.jobName
          ? trans.__('When job %1 ends %2', source.jobName, states)
          : trans.__('When one of your jobs ends %1', states);
      }
      case 'schedule':
        return capitalized(cron(source.cron, trans));
      case 'endpoint.idle':
        return trans._n(
          'When endpoint %2 served nothing for %1 minute',
          'When endpoint %2 served nothing for %1 minutes',
          source.idleMinutes,
          names.endpoint?.(source.endpoint) ?? source.endpoint
        );
    }
  }

  /** What the trigger does, as the end of a sentence. */
  export function action(
    action: TriggerAction,
    trans: TranslationBundle,
    names: INames = {}
  ): string {
    switch (action.kind) {
      case 'submit': {
        const notebook = baseName(action.job.notebook.path);
        const outputs = (action.job.outputs ?? []).map(output =>
          typeof output === 'string' ? output : output.uri
        );
        return outputs.length > 0
          ? trans.__('run %1, results to %2', notebook, outputs.join(', '))
          : trans.__('run %1', notebook);
      }
      case 'copy':
        return trans.__('copy it to %1', action.to);
      case 'webhook':
        return trans.__('call %1', action.url);
      case 'roll-endpoint':
        return trans.__(
          'roll endpoint %1 to the model of output %2',
          names.endpoint?.(action.endpoint) ?? action.endpoint,
          action.output ?? 0
        );
    }
  }

  /** "(COMPLETED)", "(COMPLETED or FAILED)", "(in any state)". */
  function statesPhrase(
    states: readonly JobState[] | undefined,
    trans: TranslationBundle
  ): string {
    const list = states && states.length > 0 ? states : ['COMPLETED'];
    if (list.length === 1) {
      return trans.__('(%1)', list[0]);
    }
    return trans.__(
      '(%1 or %2)',
      list.slice(0, -1).join(', '),
      list[list.length - 1]
    );
  }

  /**
   * A cron schedule (five fields, UTC) as it reads: "every day at 02:00 UTC",
   * "every 15 minutes", "on weekdays at 09:30 UTC"; schedules without a
   * common reading are quoted.
   */
  export function cron(expression: string, trans: TranslationBundle): string {
    return (
      readCron(expression, trans) ??
      trans.__('on the schedule "%1" (UTC)', expression.trim())
    );
  }

  /** The reading of a common schedule, or `null`. */
  export function readCron(
    expression: string,
    trans: TranslationBundle
  ): string | null {
    const fields = expression.trim().split(/\s+/);
    if (fields.length !== 5) {
      return null;
    }
    const [minute, hour, day, month, weekday] = fields;
    const everyDay = day === '*' && month === '*';
    if (minute === '*' && hour === '*' && everyDay && weekday === '*') {
      return trans.__('every minute');
    }
    const minuteStep = step(minute);
    if (minuteStep !== null && hour === '*' && everyDay && weekday === '*') {
      return trans._n('every minute', 'every %1 minutes', minuteStep);
    }
    const minuteValue = number(minute, 59);
    if (minuteValue === null) {
      return null;
    }
    if (hour === '*' && everyDay && weekday === '*') {
      return trans.__('every hour at :%1', pad(minuteValue));
    }
    const hourStep = step(hour);
    if (hourStep !== null && everyDay && weekday === '*') {
      return trans._n(
        'every hour at :%2',
        'every %1 hours at :%2',
        hourStep,
        pad(minuteValue)
      );
    }
    const hours = list(hour, 23);
    if (hours === null) {
      return null;
    }
    const times = hours
      .map(h => `${pad(h)}:${pad(minuteValue)}`)
      .join(trans.__(' and '));
    if (everyDay && weekday === '*') {
      return trans.__('every day at %1 UTC', times);
    }
    if (everyDay) {
      const days = weekdays(weekday, trans);
      return days === null ? null : trans.__('%1 at %2 UTC', days, times);
    }
    const dayOfMonth = number(day, 31);
    if (dayOfMonth !== null && month === '*' && weekday === '*') {
      return trans.__('on day %1 of every month at %2 UTC', dayOfMonth, times);
    }
    return null;
  }

  /** "on Mondays", "on weekdays", "on Mondays and Fridays"; `null` for others. */
  function weekdays(field: string, trans: TranslationBundle): string | null {
    if (field === '1-5') {
      return trans.__('on weekdays');
    }
    if (field === '0,6' || field === '6,0' || field === '6-7') {
      return trans.__('on weekends');
    }
    const days = list(field, 7);
    if (days === null) {
      return null;
    }
    const names = [
      trans.__('Sundays'),
      trans.__('Mondays'),
      trans.__('Tuesdays'),
      trans.__('Wednesdays'),
      trans.__('Thursdays'),
      trans.__('Fridays'),
      trans.__('Saturdays'),
      trans.__('Sundays')
    ];
    return trans.__('on %1', days.map(d => names[d]).join(trans.__(' and ')));
  }

  /** `*\/N` → N. */
  function step(field: string): number | null {
    const match = /^\*\/(\d+)$/.exec(field);
    return match ? Number(match[1]) : null;
  }

  /** A single number up to `max`. */
  function number(field: string, max: number): number | null {
    return /^\d+$/.test(field) && Number(field) <= max ? Number(field) : null;
  }

  /** Numbers separated by commas, each up to `max`. */
  function list(field: string, max: number): number[] | null {
    const values = field.split(',').map(part => number(part, max));
    return values.every((v): v is number => v !== null) ? values : null;
  }

  function pad(value: number): string {
    return String(value).padStart(2, '0');
  }

  function capitalized(text: string): string {
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  /** The last part of a path. */
  export function baseName(path: string): string {
    const parts = path.split('/').filter(Boolean);
    return parts[parts.length - 1] ?? path;
  }

  /** The class a run's state badge takes (the job states' colours). */
  export function runStateClass(state: TriggerRunState): string {
    const like: Record<TriggerRunState, string> = {
      waiting: 'pending',
      starting: 'submitted',
      running: 'running',
      done: 'completed',
      failed: 'failed'
    };
    return `jp-mod-${like[state]}`;
  }
}
