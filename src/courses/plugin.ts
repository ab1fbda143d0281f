import React from 'react';
import { CommandIDs } from '../commands';
import { hpcBridgeIcon } from '../icons';
import { optionalSectionPlugin } from '../ui/sectionPlugin';
// The Course section must exist when the panel opens: loaded with the plugin.
import { CourseModel } from './CourseModel';
import { CourseSection } from './CourseSection';
import { CourseApi } from './api';

/**
 * The Course section of the panel, shown to instructors and students of a course:
 * instructors share an endpoint (per-student token budget) and a read-only dataset
 * folder and see usage and job states; students get their key and the dataset.
 */
export const coursePlugin = optionalSectionPlugin({
  id: 'jupyterlab-hpc-bridge:courses',
  description:
    'The Course section of the HPC Bridge panel: course settings, per-student usage and job states for instructors; the shared endpoint, a personal key and the dataset for students.',
  rank: 450,
  model: (client, { app }) =>
    new CourseModel({
      api: new CourseApi(client),
      commandExecuted: app.commands.commandExecuted,
      auto: false
    }),
  section: (trans, { app, confirm }) => ({
    className: 'jp-hpc-CourseSectionWidget',
    label: trans.__('Course'),
    isShown: m => m.hasCourses,
    render: m =>
      React.createElement(CourseSection, {
        model: m,
        confirm,
        onCreateEndpoint: () =>
          void app.commands.execute(CommandIDs.createEndpoint)
      })
  }),
  page: trans => ({
    command: CommandIDs.openCourse,
    namespace: 'hpc-bridge-course',
    id: 'jp-hpc-course-page',
    className: 'jp-hpc-CoursePageWidget',
    label: trans.__('Open the Course Page'),
    title: trans.__('HPC Course'),
    caption: trans.__('Open the course management in the main area'),
    icon: hpcBridgeIcon,
    unavailable: trans.__('You teach or take no course.')
  })
});
