import { Dialog, showDialog } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import { Button, ReactWidget } from '@jupyterlab/ui-components';
import React from 'react';
import type { Courses } from './api';
import { Snippets } from '../endpoints/snippets';
import { CourseForms, CourseModel, type ICourseDetails } from './CourseModel';
import { Alert } from '../ui/Alert';
import { ActionButton } from '../ui/ActionButton';
import { messageOf } from '../ui/format';
import { SettingsForm } from './CourseSettingsForm';
import { CopyField } from '../ui/CopyField';
import { confirmDestructive, type IConfirmSetting } from '../ui/confirm';
import { download, when } from '../ui/OptionalSection';
import { TranslatorContext, useTranslator } from '../ui/translator';
import { DataTable } from '../ui/DataTable';
import { Section } from '../ui/Section';

/** What the section does outside its model: ask before revoking, open the New endpoint dialog. */
export interface ICourseSectionActions {
  confirm: IConfirmSetting;
  onCreateEndpoint: () => void;
}

function UsageTable(props: {
  model: CourseModel;
  confirm: IConfirmSetting;
  course: string;
  students: Courses.StudentUsage[];
}): JSX.Element {
  const trans = useTranslator();
  const { model, course } = props;
  const [error, setError] = React.useState<string | null>(null);
  const withJobs = props.students.some(s => s.jobs !== null);
  if (props.students.length === 0) {
    return (
      <p className="jp-hpc-Section-empty">{trans.__('No students yet.')}</p>
    );
  }
  return (
    <>
      {error !== null && <Alert message={error} />}
      <table
        className="jp-hpc-Course-table"
        aria-label={trans.__('Usage per student')}
      >
        <thead>
          <tr>
            <th>{trans.__('Student')}</th>
            <th>{trans.__('Requests')}</th>
            <th>{trans.__('Tokens used')}</th>
            <th>{trans.__('Completion')}</th>
            <th>{trans.__('Chat')}</th>
            <th>{trans.__('Budget left')}</th>
            {withJobs && <th>{trans.__('Course jobs')}</th>}
            <th>{trans.__('Key')}</th>
          </tr>
        </thead>
        <tbody>
          {props.students.map(s => (
            <tr key={s.student}>
              <td>{s.student}</td>
              <td>{s.requests}</td>
              <td>{s.tokensUsed}</td>
              <td>{s.completionTokens}</td>
              <td>{s.chatTokens}</td>
              <td>{s.budgetLeft}</td>
              {withJobs && <td>{CourseForms.allowanceText(s.jobs) ?? '–'}</td>}
              <td>
                {s.key === null ? (
                  '–'
                ) : (
                  <ActionButton
                    kind="warn"
                    title={s.key.prefix}
                    aria-label={trans.__('Revoke the key of %1', s.student)}
                    onClick={async () => {
                      const ok = await confirmDestructive(props.confirm, {
                        trans,
                        title: trans.__('Revoke the key of %1?', s.student),
                        body: trans.__(
                          '%1 can no longer call the course endpoint until they get a new key.',
                          s.student
                        ),
                        action: trans.__('Revoke')
                      });
                      if (ok) {
                        model
                          .revokeKey(course, s.student)
                          .catch(e => setError(messageOf(e)));
                      }
                    }}
                  >
                    {trans.__('Revoke')}
                  </ActionButton>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

/** How many jobs show before "Show all". */
const JOBS_SHOWN = 10;

function JobsTable(props: { jobs: Courses.Job[] }): JSX.Element {
  const trans = useTranslator();
  const [all, setAll] = React.useState(false);
  const jobs = all ? props.jobs : props.jobs.slice(0, JOBS_SHOWN);
  if (props.jobs.length === 0) {
    return <p className="jp-hpc-Section-empty">{trans.__('No jobs yet.')}</p>;
  }
  return (
    <>
      <DataTable
        className="jp-hpc-Course-table"
        label={trans.__('Course jobs')}
        columns={[
          { label: trans.__('Student'), value: j => j.owner },
          { label: trans.__('Job'), value: j => j.name },
          {
            label: trans.__('State'),
            value: j => j.state,
            className: j =>
              `jp-hpc-Course-state jp-mod-${j.state.toLowerCase()}`
          },
          { label: trans.__('Profile'), value: j => j.profile },
          { label: trans.__('Submitted'), value: j => when(j.submittedAt) },
          { label: trans.__('Updated'), value: j => when(j.updatedAt) }
        ]}
        items={jobs}
        rowKey={j => j.id}
      />
      {jobs.length < props.jobs.length && (
        <Button small minimal onClick={() => setAll(true)}>
          {trans.__('Show all %1 jobs', props.jobs.length)}
        </Button>
      )}
    </>
  );
}

/** Shows a student's new key, the only time it is shown, with the Python snippet. */
async function showKey(
  trans: TranslationBundle,
  gatewayUrl: string,
  created: Courses.KeyCreated
): Promise<void> {
  const python = Snippets.python({
    url: gatewayUrl,
    model: created.model,
    key: created.key
  });
  await showDialog({
    title: trans.__('Your course key'),
    body: ReactWidget.create(
      <TranslatorContext.Provider value={trans}>
        <div className="jp-hpc-KeyCreated">
          <CopyField label={trans.__('API key')} value={created.key} />
          <p className="jp-hpc-Form-warning">
            {trans.__(
              'Copy the key now: it will not be shown again. Getting another key revokes this one.'
            )}
          </p>
          <p>
            {trans.__(
              'Tokens left: %1 of %2',
              created.tokensLeft,
              created.tokenBudget
            )}
          </p>
          <CopyField
            label={trans.__('Python')}
            value={python}
            code
            codeLabelled
          />
        </div>
      </TranslatorContext.Provider>
    ),
    buttons: [Dialog.okButton({ label: trans.__('Close') })]
  });
}

function StudentView(props: {
  model: CourseModel;
  details: ICourseDetails;
}): JSX.Element {
  const trans = useTranslator();
  const { model, details } = props;
  const { course } = details;
  const [error, setError] = React.useState<string | null>(null);
  const left = model.tokensLeft(course.name);
  if (CourseForms.isUnset(course)) {
    return (
      <p className="jp-hpc-Section-empty" role="status">
        {trans.__(
          'This course is not set up yet: your instructor has not shared an endpoint, a dataset or a job profile. Come back later.'
        )}
      </p>
    );
  }
  return (
    <>
      {course.endpoint === null ? (
        <p className="jp-hpc-Section-empty">
          {trans.__('No endpoint is shared with this course yet.')}
        </p>
      ) : (
        <div className="jp-hpc-Course-endpoint">
          <p>
            {trans.__('Model')}: <strong>{course.endpoint.model}</strong> (
            {course.endpoint.state})
          </p>
          {model.gatewayUrl !== null && (
            <CopyField
              label={trans.__('Gateway URL')}
              value={model.gatewayUrl}
            />
          )}
          <p role="group" aria-label={trans.__('My budget')}>
            {left === null
              ? trans.__('Budget: %1 tokens', course.endpoint.tokenBudget)
              : trans.__(
                  'Budget left: %1 of %2 tokens',
                  left,
                  course.endpoint.tokenBudget
                )}
          </p>
          {course.myKey !== null && course.myKey.revokedAt === null && (
            <p className="jp-hpc-Course-note">
              {trans.__(
                'Your key %1… since %2',
                course.myKey.prefix,
                when(course.myKey.createdAt)
              )}
            </p>
          )}
          {error !== null && <Alert message={error} />}
          <ActionButton
            kind="accept"
            onClick={async () => {
              setError(null);
              try {
                const created = await model.createKey(course.name);
                await showKey(trans, model.gatewayUrl ?? '', created);
              } catch (e) {
                setError(messageOf(e));
              }
            }}
          >
            {trans.__('Get my key')}
          </ActionButton>
        </div>
      )}
      {course.jobProfile !== null && (
        <div
          className="jp-hpc-Course-jobs"
          role="group"
          aria-label={trans.__('My course jobs')}
        >
          <h4 className="jp-hpc-Course-subtitle">{trans.__('Jobs')}</h4>
          <p>
            {trans.__(
              'Submit with the profile “%1” (partition %2).',
              course.jobProfile.profile,
              course.jobProfile.partition
            )}
          </p>
          <p className="jp-hpc-Course-note">
            {CourseForms.allowanceText(course.myJobs)}
          </p>
        </div>
      )}
      {course.dataset !== null && (
        <>
          <h4 className="jp-hpc-Course-subtitle">
            {trans.__('Dataset (read-only)')}
          </h4>
          {details.datasetError !== null && (
            <Alert message={details.datasetError} />
          )}
          {details.dataset !== null && (
            <ul
              className="jp-hpc-Course-files"
              aria-label={trans.__('Dataset files')}
            >
              {details.dataset.entries.map(f => (
                <li key={f.path}>
                  {f.type === 'directory' ? (
                    <span>{f.name}/</span>
                  ) : (
                    <a
                      href="#"
                      onClick={async e => {
                        e.preventDefault();
                        try {
                          download(
                            await model.download(course.name, f.path),
                            f.name
                          );
                        } catch (err) {
                          setError(messageOf(err));
                        }
                      }}
                    >
                      {f.name}
                    </a>
                  )}
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </>
  );
}

function CourseView(
  props: ICourseSectionActions & {
    model: CourseModel;
    summary: Courses.Summary;
  }
): JSX.Element {
  const trans = useTranslator();
  const { model, summary } = props;
  const details = model.details(summary.name);
  return (
    <div className="jp-hpc-Course" role="group" aria-label={summary.name}>
      <h4 className="jp-hpc-Course-title">
        {summary.title}{' '}
        <span className="jp-hpc-Course-role">
          {summary.role === 'instructor'
            ? trans.__('instructor')
            : trans.__('student')}
        </span>
      </h4>
      {model.awaitsSetup(summary.name) ? (
        <p className="jp-hpc-Section-empty" role="status">
          {trans.__(
            'Your instructor has not set up course %1 yet.',
            summary.title
          )}
        </p>
      ) : details === null ? (
        <p className="jp-hpc-Section-empty">{trans.__('Loading…')}</p>
      ) : details.course.role === 'instructor' ? (
        <>
          <SettingsForm
            key={details.course.updatedAt ?? ''}
            model={model}
            course={details.course}
            onCreateEndpoint={props.onCreateEndpoint}
          />
          <h4 className="jp-hpc-Course-subtitle">{trans.__('Students')}</h4>
          <UsageTable
            model={model}
            confirm={props.confirm}
            course={summary.name}
            students={details.usage ?? []}
          />
          <h4 className="jp-hpc-Course-subtitle">{trans.__('Jobs')}</h4>
          <JobsTable jobs={details.jobs ?? []} />
        </>
      ) : (
        <StudentView model={model} details={details} />
      )}
    </div>
  );
}

/** The Course section: per course, settings and usage (instructors) or key and dataset (students). */
export function CourseSection(
  props: ICourseSectionActions & { model: CourseModel }
): JSX.Element | null {
  const trans = useTranslator();
  const { model } = props;
  if (!model.hasCourses) {
    return null;
  }
  return (
    <Section
      id="course"
      title={trans.__('Course')}
      className="jp-hpc-CourseSection"
      refreshLabel={trans.__('Refresh the course')}
      onRefresh={() => void model.refresh()}
    >
      {model.error !== null && (
        <Alert message={model.error.message} onRetry={() => model.refresh()} />
      )}
      {(model.courses ?? []).map(c => (
        <CourseView
          key={c.name}
          model={model}
          summary={c}
          confirm={props.confirm}
          onCreateEndpoint={props.onCreateEndpoint}
        />
      ))}
    </Section>
  );
}
