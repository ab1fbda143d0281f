/**
 * The OpenAPI document states each operation's access policy (`x-access`), generated from
 * the routes' own declarations (`config: policy.…()`), which are also what installs the
 * auth hooks: the document and the enforcement cannot disagree.
 */
import type { IDeclaredRoute, RouteAccess } from '../../src/auth/policy';
import { Routes } from '../../src/contract';
import { accessSentence } from '../../src/routes/openapi';
import { BASE } from './app-fixture';
import { servingApp } from './gateway-fakes';

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

interface IOperation {
  description?: string;
  'x-access'?: unknown;
}

type Paths = Record<string, Record<string, IOperation>>;

/** Fastify's `/jobs/:id` is OpenAPI's `/jobs/{id}`. */
function openapiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

async function documentAndRoutes(): Promise<{
  paths: Paths;
  declared: readonly IDeclaredRoute[];
}> {
  const { app } = await servingApp();
  const res = await app.inject({ url: `${BASE}${Routes.openapi}` });
  expect(res.statusCode).toBe(200);
  const paths = (res.json() as { paths: Paths }).paths;
  const declared = app.declaredRoutes;
  await app.close();
  return { paths, declared };
}

describe('OpenAPI access policies', () => {
  it("gives every operation an x-access equal to its route's declared policy", async () => {
    const { paths, declared } = await documentAndRoutes();
    const policyOf = new Map<string, RouteAccess>(
      declared.map(r => [
        `${r.method.toLowerCase()} ${openapiPath(r.url)}`,
        r.access
      ])
    );
    const operations = Object.entries(paths).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(([method]) => METHODS.includes(method))
        .map(([method, op]) => ({ key: `${method} ${path}`, op }))
    );
    expect(operations.length).toBeGreaterThan(50);
    for (const { key, op } of operations) {
      const access = policyOf.get(key);
      expect({ key, declared: access !== undefined }).toEqual({
        key,
        declared: true
      });
      expect({ key, access: op['x-access'] }).toEqual({ key, access });
      expect({
        key,
        says: op.description?.endsWith(accessSentence(access!))
      }).toEqual({
        key,
        says: true
      });
    }
  });

  it('documents every declared route under /api (HEAD twins of GETs aside)', async () => {
    const { paths, declared } = await documentAndRoutes();
    const api = declared.filter(
      r => r.url.startsWith(`${BASE}/api/`) && r.method !== 'HEAD'
    );
    expect(api.length).toBeGreaterThan(50);
    for (const r of api) {
      const op = paths[openapiPath(r.url)]?.[r.method.toLowerCase()];
      expect({
        route: `${r.method} ${r.url}`,
        access: op?.['x-access']
      }).toEqual({
        route: `${r.method} ${r.url}`,
        access: r.access
      });
    }
  });

  it('says who may call it in words, keeping the route description', async () => {
    const { paths } = await documentAndRoutes();
    const audit = paths[`${BASE}${Routes.audit}`]?.get;
    expect(audit?.['x-access']).toEqual({ who: 'admin' });
    expect(audit?.description).toContain(
      'Access: hub admins and members of the admin group only'
    );
    const job = paths[`${BASE}/api/v1/jobs/{id}`]?.get;
    expect(job?.['x-access']).toEqual({
      who: 'owner',
      resource: 'job',
      admins: 'read'
    });
    expect(job?.description).toBe(
      "Other users' jobs answer 404 (admins see all).\n\n" +
        'Access: the owner of the job; others get 404. Admins may read it (GET).'
    );
    const version = paths[`${BASE}${Routes.version}`]?.get;
    expect(version?.['x-access']).toMatchObject({ who: 'public' });
    expect(version?.description).toMatch(
      /^Access: public, no hub token \(.+\)\.$/
    );
  });
});
