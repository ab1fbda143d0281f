// A project's own testTimeout is not applied under jest's projects: each sets it here.
jest.setTimeout(600_000);
