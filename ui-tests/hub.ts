/*
 * Where the UI tests find the stack: JupyterHub (stack/up) and the demo user.
 */
import * as path from 'path';

export const HUB_URL = (process.env.HUB_URL ?? 'http://127.0.0.1:8000').replace(
  /\/+$/,
  ''
);
export const HUB_USER = process.env.HUB_USER ?? 'alice';
export const HUB_PASSWORD = process.env.HUB_PASSWORD ?? 'hpc-demo';

/** The user's single-user server; galata appends `/lab`. */
export const USER_SERVER_URL = `${HUB_URL}/user/${HUB_USER}`;

/** Cookies of the logged-in user, written by global-setup.ts. */
export const AUTH_FILE = path.join(__dirname, '.auth', `${HUB_USER}.json`);

/**
 * The user's API token for their server (the one JupyterHub puts into the
 * lab's page config), written by global-setup.ts for REST calls.
 */
export const TOKEN_FILE = path.join(__dirname, '.auth', `${HUB_USER}.token`);

export const CHROMIUM = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run'
  ]
};
