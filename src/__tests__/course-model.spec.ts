/**
 * @jest-environment node
 */
import type { CommandRegistry } from '@lumino/commands';
import { Signal } from '@lumino/signaling';
import { CommandIDs } from '../commands';
import type { Courses } from '../courses/api';
import { CourseForms, CourseModel } from '../courses/CourseModel';
import {
  course,
  FakeCourseApi,
  FORM,
  SECRET,
  SHARED,
  visibleModel
} from './course-fakes';

describe('CourseModel: roles', () => {
  it('hides the section without courses', async () => {
    const model = await visibleModel(new FakeCourseApi({}));
    expect(model.hasCourses).toBe(false);
    expect(model.teaches).toBe(false);
    expect(model.takes).toBe(false);
    model.dispose();
  });

  it('gives an instructor usage, jobs and only their own endpoints', async () => {
    const api = new FakeCourseApi({ ml101: 'instructor' });
    const model = await visibleModel(api);
    expect(model.hasCourses).toBe(true);
    expect(model.teaches).toBe(true);
    expect(model.takes).toBe(false);
    expect(model.endpoints.map(e => e.id)).toEqual(['e1']);
    // Another course's profile is no base for this one's.
    expect(model.profiles.map(p => p.name)).toEqual(['cpu-small']);
    const details = model.details('ml101');
    expect(details?.usage?.map(s => s.student)).toEqual(['alice']);
    expect(details?.jobs).toEqual([]);
    expect(api.calls).not.toContain('gateway');
    model.dispose();
  });

  it('gives a student the gateway and the dataset, never the usage of others', async () => {
    const api = new FakeCourseApi(
      { ml101: 'student' },
      course({
        endpoint: SHARED,
        dataset: { tier: 'archive', path: 'd', owner: 'carol' }
      })
    );
    const model = await visibleModel(api);
    expect(model.takes).toBe(true);
    expect(model.gatewayUrl).toBe('http://127.0.0.1:8000/v1');
    const details = model.details('ml101');
    expect(details?.usage).toBeNull();
    expect(details?.jobs).toBeNull();
    expect(details?.dataset?.tier).toBe('archive');
    expect(api.calls).not.toContain('usage');
    expect(api.calls).not.toContain('endpoints');
    model.dispose();
  });

  it('shows a student the course their instructor has not set up, and asks nothing more of it', async () => {
    const api = new FakeCourseApi({ ml101: 'student', nlp201: 'student' });
    api.unconfigured.add('nlp201');
    const model = await visibleModel(api);
    expect(model.hasCourses).toBe(true);
    expect(model.awaitsSetup('nlp201')).toBe(true);
    expect(model.awaitsSetup('ml101')).toBe(false);
    expect(model.details('nlp201')).toBeNull();
    expect(model.details('ml101')?.course.name).toBe('ml101');
    expect(api.calls).not.toContain('get nlp201');
    // Once the instructor saves it, the student's course loads like any other.
    api.unconfigured.clear();
    await model.refresh();
    expect(model.awaitsSetup('nlp201')).toBe(false);
    expect(model.details('nlp201')?.course.name).toBe('nlp201');
    model.dispose();
  });

  it('never counts an instructor as waiting for the setup', async () => {
    const api = new FakeCourseApi({ ml101: 'instructor' });
    api.unconfigured.add('ml101');
    const model = await visibleModel(api);
    expect(model.awaitsSetup('ml101')).toBe(false);
    expect(model.details('ml101')?.usage).not.toBeNull();
    model.dispose();
  });

  it('loads only the list while the section is not visible', async () => {
    const api = new FakeCourseApi({ ml101: 'instructor' });
    const model = new CourseModel({ api, auto: false });
    await model.refresh();
    expect(model.hasCourses).toBe(true);
    expect(model.details('ml101')).toBeNull();
    expect(api.calls).toEqual([]);
    model.dispose();
  });
});

describe('CourseModel: actions', () => {
  it('sends the form as the PUT body and shows the saved course', async () => {
    const api = new FakeCourseApi({ ml101: 'instructor' });
    const model = await visibleModel(api);
    await model.save('ml101', FORM);
    expect(api.updates).toEqual([CourseForms.updateOf(FORM)]);
    expect(model.details('ml101')?.course.updatedBy).toBe('carol');
    await expect(
      model.save('ml101', { ...FORM, tokenBudget: 'lots' })
    ).rejects.toThrow('The token budget must be a whole number above 0.');
    expect(api.updates).toHaveLength(1);
    model.dispose();
  });

  it('hands the new key to the caller once and keeps only the budget left', async () => {
    const api = new FakeCourseApi(
      { ml101: 'student' },
      course({ endpoint: SHARED })
    );
    const model = await visibleModel(api);
    expect(model.tokensLeft('ml101')).toBeNull();
    const created = await model.createKey('ml101');
    expect(created.key).toBe(SECRET);
    expect(api.keysCreated).toBe(1);
    expect(model.tokensLeft('ml101')).toBe(4200);
    expect(model.details('ml101')?.course.myKey?.prefix).toBe('hpcb_secr');
    const kept = JSON.stringify({
      courses: model.courses,
      details: model.details('ml101'),
      gateway: model.gatewayUrl
    });
    expect(kept).not.toContain(SECRET);
    model.dispose();
  });
});

describe('CourseModel: the application commands', () => {
  /** Counts the course list requests. */
  class CountingApi extends FakeCourseApi {
    lists = 0;
    async list(): Promise<Courses.Summary[]> {
      this.lists += 1;
      return super.list();
    }
  }

  /** Stands for the application's commands: runs a command and tells who listens. */
  class FakeCommands {
    readonly commandExecuted = new Signal<
      this,
      CommandRegistry.ICommandExecutedArgs
    >(this);
    async execute(id: string): Promise<void> {
      const result = Promise.resolve(
        id === CommandIDs.createEndpoint ? 'e3' : null
      );
      this.commandExecuted.emit({ id, args: {}, result });
      await result;
    }
  }

  const settled = () => new Promise(resolve => setTimeout(resolve, 0));

  it('reloads after a new endpoint, not after other commands', async () => {
    const api = new CountingApi({ ml101: 'instructor' });
    const commands = new FakeCommands();
    const model = new CourseModel({
      api,
      commandExecuted: commands.commandExecuted,
      auto: false
    });
    // The instructor's section is on screen: a hidden one rests.
    model.visible = true;
    await model.refresh();
    const listsBefore = api.lists;
    const refresh = jest.spyOn(model, 'refresh');
    await commands.execute('other:command');
    await settled();
    expect(refresh).not.toHaveBeenCalled();
    await commands.execute(CommandIDs.createEndpoint);
    await settled();
    expect(refresh).toHaveBeenCalledTimes(1);
    await refresh.mock.results[0].value;
    model.dispose();
    expect(api.lists).toBe(listsBefore + 1);
  });

  it('lets go of the commands when disposed', async () => {
    const api = new CountingApi({ ml101: 'instructor' });
    const commands = new FakeCommands();
    const model = new CourseModel({
      api,
      commandExecuted: commands.commandExecuted,
      auto: false
    });
    await model.refresh();
    const refresh = jest.spyOn(model, 'refresh');
    model.dispose();
    expect(model.isDisposed).toBe(true);
    await commands.execute(CommandIDs.createEndpoint);
    await settled();
    expect(refresh).not.toHaveBeenCalled();
    expect(api.lists).toBe(1);
  });
});
