import { TriggerCreateSchema } from '@hpc-bridge/server/contract';
import { TriggerForm } from '../pipelines/triggerForm';
import { BridgeRequestError } from '../transport/errors';
import { endpoint } from './endpoints-fakes';
import { NOTEBOOK, PIPELINE_TIERS, PROFILE, trigger } from './pipelines-fakes';
import { TIERS } from './tier-fakes';

const CONTEXT: TriggerForm.IContext = {
  tiers: PIPELINE_TIERS,
  profiles: [PROFILE],
  endpoints: [endpoint({ id: 'e1', name: 'assistant' })],
  triggers: [{ id: 't1', name: 'clean incoming' }]
};

function refusal(details: unknown, message = 'Request validation failed') {
  return new BridgeRequestError({
    reason: 'http',
    url: 'http://bridge/api/v1/triggers',
    status: 400,
    message,
    body: { error: { code: 'bad_request', message, details } }
  });
}

describe('TriggerForm.defaults', () => {
  it('starts with a file trigger that runs a notebook into the archive tier', () => {
    const form = TriggerForm.defaults(CONTEXT);
    expect(form).toMatchObject({
      event: 'object.created',
      watchTier: 'scratch',
      action: 'submit',
      profile: 'cpu-small',
      output: 'archive:results/{job}/',
      endpoint: 'e1',
      maxConcurrent: 2,
      maxPerHour: 20
    });
  });

  it('offers no default output without an archive tier the user may write', () => {
    expect(TriggerForm.defaultOutput(TIERS)).toBe('');
    expect(
      TriggerForm.defaultOutput([
        { ...TIERS[1], class: 'archive', name: 'archive' }
      ])
    ).toBe('archive:ml101/results/{job}/');
  });
});

describe('TriggerForm.createRequest', () => {
  const base = {
    ...TriggerForm.defaults(CONTEXT),
    name: 'clean incoming',
    watchTier: 'project',
    watchPath: 'ml101/incoming',
    match: '*.csv',
    notebookPath: 'pipelines/clean.ipynb'
  };

  it('sends the notebook content, the output and the event parameter', () => {
    const request = TriggerForm.createRequest(
      { ...base, notebookPath: 'clean.ipynb' },
      NOTEBOOK
    );
    // The fake trigger is the one this form describes.
    const { name, source, action, limits } = trigger();
    expect(request).toEqual({ name, source, action, limits });
    expect(TriggerCreateSchema.safeParse(request).success).toBe(true);
    expect(TriggerForm.check(request)).toEqual({});
  });

  it('reads a notebook of a tier through its drive, sending the path inside it', () => {
    const form = {
      ...base,
      notebookTier: 'scratch',
      notebookPath: 'nb/clean.ipynb'
    };
    expect(TriggerForm.notebookContentsPath(form)).toBe(
      'scratch:nb/clean.ipynb'
    );
    const request = TriggerForm.createRequest(form, NOTEBOOK);
    expect(request.action).toMatchObject({
      job: { notebook: { path: 'nb/clean.ipynb' } }
    });
  });

  it('builds job-ended, schedule, copy and roll requests', () => {
    expect(
      TriggerForm.createRequest(
        {
          ...base,
          event: 'job.ended',
          states: ['COMPLETED', 'FAILED'],
          fromTrigger: 't1',
          action: 'roll-endpoint',
          outputIndex: 1
        },
        null
      )
    ).toMatchObject({
      source: {
        kind: 'job.ended',
        states: ['COMPLETED', 'FAILED'],
        trigger: 't1'
      },
      action: { kind: 'roll-endpoint', endpoint: 'e1', output: 1 }
    });
    expect(
      TriggerForm.createRequest(
        {
          ...base,
          event: 'schedule',
          cron: ' 0 2 * * * ',
          action: 'copy',
          copyTier: 'archive',
          copyPath: 'backup/'
        },
        null
      )
    ).toMatchObject({
      source: { kind: 'schedule', cron: '0 2 * * *' },
      action: { kind: 'copy', to: 'archive:backup/' }
    });
  });

  it('finds what the contract refuses, next to the fields', () => {
    const request = TriggerForm.createRequest(
      {
        ...base,
        name: '',
        watchPath: '',
        output: 'archive:../x/',
        event: 'object.created',
        maxPerHour: 0
      },
      NOTEBOOK
    );
    const errors = TriggerForm.check(request);
    expect(Object.keys(errors).sort()).toEqual([
      'maxPerHour',
      'name',
      'output',
      'watchPath'
    ]);
    expect(errors.output).toMatch(/tier URI/);
    const cron = TriggerForm.check(
      TriggerForm.createRequest(
        { ...base, event: 'schedule', cron: 'daily' },
        null
      )
    );
    expect(cron.cron).toMatch(/five cron fields/);
  });
});

describe('TriggerForm.bridgeErrors', () => {
  const form = {
    ...TriggerForm.defaults(CONTEXT),
    watchTier: 'project',
    watchPath: 'ml101/incoming'
  };

  it("puts the bridge's validation details next to the fields they name", () => {
    const errors = TriggerForm.bridgeErrors(
      refusal([
        { in: 'body', path: '/source/prefix', message: 'no such folder' },
        { in: 'body', path: '/action/job/profile', message: 'unknown profile' },
        { in: 'body', path: '/limits/maxConcurrent', message: 'too many' }
      ]),
      form
    );
    expect(errors).toEqual({
      watchPath: 'no such folder',
      profile: 'unknown profile',
      maxConcurrent: 'too many'
    });
  });

  it('follows a field named in the details, or the URI a sentence starts with', () => {
    expect(
      TriggerForm.bridgeErrors(
        refusal({ field: 'action.endpoint' }, 'Endpoint e1 is not yours'),
        form
      )
    ).toEqual({ endpoint: 'Endpoint e1 is not yours' });
    const sentence =
      'project:ml101/incoming/: the folder does not exist or you may not read it';
    expect(
      TriggerForm.bridgeErrors(refusal(undefined, sentence), form)
    ).toEqual({
      watchPath: sentence
    });
    const output = 'archive:results/{job}/: you may not write here';
    expect(TriggerForm.bridgeErrors(refusal(undefined, output), form)).toEqual({
      output
    });
  });

  it('shows anything else above the form', () => {
    expect(
      TriggerForm.bridgeErrors(refusal(undefined, 'At most 50 triggers'), form)
    ).toEqual({ form: 'At most 50 triggers' });
    expect(TriggerForm.bridgeErrors(new Error('offline'), form)).toEqual({
      form: 'offline'
    });
  });

  it('maps paths in every spelling to the same field', () => {
    expect(TriggerForm.fieldOf(['action', 'job', 'outputs', 0])).toBe('output');
    expect(TriggerForm.fieldOf('/action/job/notebook/content')).toBe(
      'notebookPath'
    );
    expect(TriggerForm.fieldOf('source.cron')).toBe('cron');
    expect(TriggerForm.fieldOf('/somewhere')).toBe('form');
  });
});
