import { defineConfig } from '@playwright/test';
import path from 'node:path';
import os from 'node:os';
import fs from 'node:fs';
import { sweep, writeWav } from './tests/helpers';

// The test command builds both binaries and passes their paths; ports are fixed but uncommon so a
// developer's own server on :3000 does not collide; TUTTI_E2E_PORT moves both (two runs at once).
const serverBin = process.env.TUTTI_SERVER_BIN ?? '../target/debug/server';
const mockBin = process.env.MOCK_OAUTH_BIN ?? '../target/debug/mock-oauth';
const siteRoot = process.env.LEPTOS_SITE_ROOT ?? '../target/site';
const port = Number(process.env.TUTTI_E2E_PORT ?? 3210);
const mockPort = port + 1;
export const baseURL = `http://127.0.0.1:${port}`;
export const mockURL = `http://127.0.0.1:${mockPort}`;

// Every run starts from an empty database and object store.
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tutti-e2e-'));

// The fake microphone's signal, made here: a known sweep (see `sweep` in tests/helpers.ts), 48 kHz
// mono 16-bit. Chromium resamples it to its capture rate; every captured sample then sits on the
// known curve at one fixed time shift, so a dropped or repeated sample shows as a change of shift.
// Three minutes long, because Chromium's loop back to the file's start is not seamless (it jumps by
// a few milliseconds), and no take may cross it, even the last retry on a slow machine.
export const fakeMic = path.resolve(__dirname, '.fixtures/sweep48k.wav');
writeWav(fakeMic, 48_000, 180, sweep);

export default defineConfig({
  testDir: './tests',
  workers: 1,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  reporter: [['list']],
  webServer: [
    {
      command: `${mockBin} --port ${mockPort} --client-id tutti-e2e --client-secret e2e-secret`,
      url: `${mockURL}/authorize?client_id=tutti-e2e&response_type=code&redirect_uri=${encodeURIComponent(baseURL + '/auth/google/callback')}`,
      reuseExistingServer: false,
      timeout: 30_000,
    },
    {
      command: serverBin,
      url: `${baseURL}/healthz`,
      reuseExistingServer: false,
      timeout: 120_000,
      stdout: 'pipe',
      env: {
        TUTTI_BIND: `127.0.0.1:${port}`,
        DATABASE_URL: `sqlite://${dataDir}/tutti.db?mode=rwc`,
        TUTTI_STORAGE: `${dataDir}/objects`,
        TUTTI_DEMO: 'true',
        TUTTI_ADMIN_EMAILS: 'grace@example.org',
        TUTTI_OAUTH_CLIENT_ID: 'tutti-e2e',
        TUTTI_OAUTH_CLIENT_SECRET: 'e2e-secret',
        TUTTI_OAUTH_AUTH_URL: `${mockURL}/authorize`,
        TUTTI_OAUTH_TOKEN_URL: `${mockURL}/token`,
        TUTTI_OAUTH_USERINFO_URL: `${mockURL}/userinfo`,
        LEPTOS_SITE_ROOT: siteRoot,
        TUTTI_LOG: 'warn',
        // Short leases, so a test can watch one run out; long enough for a slow machine to load,
        // hydrate and answer the first clip of the page that leased it.
        TUTTI_LEASE_SECONDS: '20',
      },
    },
  ],
  use: {
    baseURL,
    browserName: 'chromium',
    headless: true,
    launchOptions: {
      // Debian's Chromium; Playwright never downloads a browser here.
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
        '--use-fake-ui-for-media-stream',
        '--use-fake-device-for-media-stream',
        `--use-file-for-fake-audio-capture=${fakeMic}`,
        '--autoplay-policy=no-user-gesture-required',
      ],
    },
    permissions: ['microphone'],
    trace: 'retain-on-failure',
  },
  projects: [
    { name: 'chromium', testIgnore: /loopback\.spec\.ts/ },
    {
      // Real audio devices: a private PulseAudio server whose microphone hears its speakers
      // (scripts/common.sh `start_loopback`). Output must not be muted, and only the new headless
      // mode talks to PulseAudio.
      name: 'loopback',
      testMatch: /loopback\.spec\.ts/,
      use: {
        launchOptions: {
          executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
          ignoreDefaultArgs: ['--mute-audio', '--headless'],
          args: [
            '--headless=new',
            '--disable-background-networking',
            '--disable-component-update',
            '--no-first-run',
            '--use-fake-ui-for-media-stream',
            '--autoplay-policy=no-user-gesture-required',
          ],
          env: { ...process.env, PULSE_SERVER: process.env.TUTTI_LOOPBACK_PULSE ?? '' },
        },
      },
    },
  ],
});
