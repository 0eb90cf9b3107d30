import { defineConfig } from '@playwright/test';
import path from 'node:path';
import os from 'node:os';
import fs from 'node:fs';

// The test command builds both binaries and passes their paths; ports are fixed but uncommon so a
// developer's own server on :3000 does not collide.
const serverBin = process.env.TUTTI_SERVER_BIN ?? '../target/debug/server';
const mockBin = process.env.MOCK_OAUTH_BIN ?? '../target/debug/mock-oauth';
const siteRoot = process.env.LEPTOS_SITE_ROOT ?? '../target/site';
const port = 3210;
const mockPort = 3211;
export const baseURL = `http://127.0.0.1:${port}`;
export const mockURL = `http://127.0.0.1:${mockPort}`;

// Every run starts from an empty database and object store.
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tutti-e2e-'));

// A known signal for the fake microphone: 4 s of a 440 Hz sine, 48 kHz mono 16-bit, made here.
const fakeMic = path.resolve(__dirname, '.fixtures/tone440.wav');
writeTone(fakeMic, 440, 4, 48_000);

function writeTone(file: string, hz: number, seconds: number, rate: number) {
  const frames = seconds * rate;
  const buf = Buffer.alloc(44 + frames * 2);
  buf.write('RIFF', 0); buf.writeUInt32LE(36 + frames * 2, 4); buf.write('WAVE', 8);
  buf.write('fmt ', 12); buf.writeUInt32LE(16, 16); buf.writeUInt16LE(1, 20); buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(rate, 24); buf.writeUInt32LE(rate * 2, 28); buf.writeUInt16LE(2, 32); buf.writeUInt16LE(16, 34);
  buf.write('data', 36); buf.writeUInt32LE(frames * 2, 40);
  for (let i = 0; i < frames; i++) buf.writeInt16LE(Math.round(12000 * Math.sin((2 * Math.PI * hz * i) / rate)), 44 + i * 2);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, buf);
}

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
        // Short leases, so a test can watch one run out.
        TUTTI_LEASE_SECONDS: '6',
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
});
