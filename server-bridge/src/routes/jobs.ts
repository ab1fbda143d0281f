import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  API_PREFIX,
  ErrorBodySchema,
  JobEstimateSchema,
  JobIdParamsSchema,
  JobListQuerySchema,
  JobListSchema,
  JobLogQuerySchema,
  JobOutputQuerySchema,
  JobSchema,
  JobSubmitSchema,
  NotebookContentSchema,
  ProfileListSchema,
  Routes
} from '../contract';
import { policy } from '../auth/policy';
import { userOf } from '../auth/plugin';
import { withLiveElapsed } from '../jobs/track';
import { authErrorResponses, declareRoute, type IJobsContext } from './context';
import { followLog } from './log-stream';

/** Errors of routes that act on the cluster as the user. */
const clusterErrors = {
  ...authErrorResponses,
  404: ErrorBodySchema,
  409: ErrorBodySchema,
  412: ErrorBodySchema
} as const;

const ACTIONS = ['cancel', 'hold', 'release'] as const;

export const jobsRoutes: FastifyPluginAsyncZod<IJobsContext> = async (
  app,
  ctx
) => {
  const { jobs } = ctx;

  app.get(
    Routes.profiles,
    declareRoute('jobs', policy.user(), {
      summary:
        'Job profiles (admin presets with the ranges users may choose in, and those of my courses)',
      response: { 200: ProfileListSchema, ...authErrorResponses }
    }),
    async request => ({ profiles: jobs.profiles(userOf(request)) })
  );

  app.post(
    Routes.jobs,
    {
      bodyLimit: 64 * 1024 * 1024,
      ...declareRoute('jobs', policy.user(), {
        summary:
          'Submit a notebook (or some of its cells, or a sweep) as a SLURM job',
        description:
          "Writes the job working directory on the cluster over SFTP and runs sbatch as the user. 412 cluster_auth_failed when the cluster does not accept the user's key (details: the key to install). 429 course_limit when a course profile's per-student limit refuses the job (the message names the rule and the numbers).",
        body: JobSubmitSchema,
        response: { 201: JobSchema, ...clusterErrors, 429: ErrorBodySchema }
      })
    },
    async (request, reply) => {
      const job = await jobs.submit(userOf(request), request.body);
      return reply.status(201).send(job);
    }
  );

  app.post(
    Routes.jobsEstimate,
    {
      bodyLimit: 64 * 1024 * 1024,
      ...declareRoute('jobs', policy.user(), {
        summary:
          'Expected start of a job (sbatch --test-only), without submitting',
        body: JobSubmitSchema,
        response: { 200: JobEstimateSchema, ...clusterErrors }
      })
    },
    async request => jobs.estimate(userOf(request), request.body)
  );

  app.get(
    Routes.jobs,
    declareRoute('jobs', policy.user(), {
      summary: "My jobs, newest first (admins: all=true for everyone's)",
      querystring: JobListQuerySchema,
      response: { 200: JobListSchema, ...authErrorResponses }
    }),
    async request => ({
      jobs: jobs
        .list(userOf(request), request.query)
        .map(j => withLiveElapsed(j, Date.now()))
    })
  );

  app.get(
    `${API_PREFIX}/jobs/:id`,
    declareRoute('jobs', policy.owned('job', 'read'), {
      summary:
        'One job: state, node, elapsed, exit code, MaxRSS, progress per element',
      description: "Other users' jobs answer 404 (admins see all).",
      params: JobIdParamsSchema,
      response: {
        200: JobSchema,
        404: ErrorBodySchema,
        ...authErrorResponses
      }
    }),
    async request =>
      withLiveElapsed(
        jobs.record(userOf(request), request.params.id).job,
        Date.now()
      )
  );

  for (const action of ACTIONS) {
    app.post(
      `${API_PREFIX}/jobs/:id/${action}`,
      declareRoute('jobs', policy.owned('job', 'act'), {
        summary: `${action} a job (scancel / scontrol ${action}), as its owner's cluster account`,
        params: JobIdParamsSchema,
        response: { 200: JobSchema, ...clusterErrors }
      }),
      async request => jobs.act(userOf(request), request.params.id, action)
    );
  }

  app.post(
    `${API_PREFIX}/jobs/:id/resubmit`,
    declareRoute('jobs', policy.owned('job'), {
      summary:
        'Submit the same request again as a new job (resubmittedFrom = id)',
      params: JobIdParamsSchema,
      response: { 201: JobSchema, ...clusterErrors }
    }),
    async (request, reply) => {
      const job = await jobs.resubmit(userOf(request), request.params.id);
      return reply.status(201).send(job);
    }
  );

  app.get(
    `${API_PREFIX}/jobs/:id/output`,
    declareRoute('jobs', policy.owned('job', 'read'), {
      summary: 'The executed notebook of one element (saved after every cell)',
      params: JobIdParamsSchema,
      querystring: JobOutputQuerySchema,
      response: { 200: NotebookContentSchema, ...clusterErrors }
    }),
    async request =>
      jobs.output(userOf(request), request.params.id, request.query.element)
  );

  app.get(
    `${API_PREFIX}/jobs/:id/log`,
    declareRoute('jobs', policy.owned('job', 'read'), {
      summary:
        'stdout or stderr of one element (text/plain); follow=1 streams until the job ends',
      params: JobIdParamsSchema,
      querystring: JobLogQuerySchema,
      produces: ['text/plain'],
      response: {
        200: z.string().describe('The log text (chunked when following)'),
        ...clusterErrors
      }
    }),
    async (request, reply) => {
      const user = userOf(request);
      const { id } = request.params;
      const q = request.query;
      const rec = jobs.record(user, id);
      jobs.elementOf(rec, q.element);
      const path = jobs.logPath(rec, q.stream, q.element);
      const follow = q.follow === '1' || q.follow === 'true';
      await followLog({
        request,
        reply,
        access: ctx.access,
        cluster: rec.job.cluster,
        owner: rec.job.owner,
        path,
        tail: q.tail,
        follow,
        ended: () => jobs.elementEnded(id, q.element)
      });
      return reply;
    }
  );
};
