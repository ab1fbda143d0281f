import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import React from 'react';
// The Course section must exist when the panel opens: loaded with the plugin.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { CourseModel } from './CourseModel';
import { IBridgeClient, IBridgePanel } from '../tokens';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { CourseSection } from './CourseSection';
import { OptionalSectionWidget } from '../ui/OptionalSection';
import { TRANSLATION_DOMAIN } from '../ui/translator';
import { CourseApi } from './api';

/**
 * The Course section of the panel, shown to instructors and students of a course:
 * instructors share an endpoint (per-student token budget) and a read-only dataset
 * folder and see usage and job states; students get their key and the dataset.
 */
export const coursePlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-hpc-bridge:courses',
  description:
    'The Course section of the HPC Bridge panel: course settings, per-student usage and job states for instructors; the shared endpoint, a personal key and the dataset for students.',
  autoStart: true,
  requires: [IBridgeClient],
  optional: [IBridgePanel, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    client: IBridgeClient,
    panel: IBridgePanel | null,
    translator: ITranslator | null
  ): void => {
    if (!panel) {
      return;
    }
    const trans = (translator ?? nullTranslator).load(TRANSLATION_DOMAIN);
    const model = new CourseModel({ api: new CourseApi(client), auto: false });
    void app.restored.then(() => model.start());
    const section = new OptionalSectionWidget({
      model,
      trans,
      className: 'jp-hpc-CourseSectionWidget',
      label: trans.__('Course'),
      isShown: m => m.hasCourses,
      render: m => React.createElement(CourseSection, { model: m })
    });
    panel.addSection(section, { rank: 450 });
  }
};
