import { expect, type Page } from '@playwright/test';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Write a 16-bit PCM mono WAV whose samples are `sample(t)` (t in seconds, result in −1..1),
 * and return its path. Fixtures are made here, not stored.
 */
export function writeWav(file: string, rate: number, seconds: number, sample: (t: number) => number): string {
  const frames = Math.round(rate * seconds);
  const b = Buffer.alloc(44 + frames * 2);
  b.write('RIFF', 0); b.writeUInt32LE(36 + frames * 2, 4); b.write('WAVE', 8);
  b.write('fmt ', 12); b.writeUInt32LE(16, 16); b.writeUInt16LE(1, 20); b.writeUInt16LE(1, 22);
  b.writeUInt32LE(rate, 24); b.writeUInt32LE(rate * 2, 28); b.writeUInt16LE(2, 32); b.writeUInt16LE(16, 34);
  b.write('data', 36); b.writeUInt32LE(frames * 2, 40);
  for (let i = 0; i < frames; i++) {
    b.writeInt16LE(Math.max(-32767, Math.min(32767, Math.round(32767 * sample(i / rate)))), 44 + i * 2);
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, b);
  return file;
}

/**
 * The fake microphone's signal at time t (s): a sine sweeping 500 Hz → 5 kHz → 500 Hz linearly
 * over each second, amplitude 0.5. Its phase is a whole number of turns at every second, so the
 * signal repeats seamlessly with period 1 s.
 */
export function sweep(t: number): number {
  const u = t - Math.floor(t);
  const k = 9_000; // Hz per second
  const turns = u < 0.5 ? 500 * u + (k * u * u) / 2 : 1_375 + 5_000 * (u - 0.5) - (k * (u - 0.5) ** 2) / 2;
  return 0.5 * Math.sin(2 * Math.PI * (turns - Math.floor(turns)));
}

export const sine = (hz: number, amplitude: number) => (t: number) => amplitude * Math.sin(2 * Math.PI * hz * t);

/**
 * Collects console errors, CSP violations and uncaught exceptions. HTTP error statuses are left out:
 * tests assert those themselves.
 */
export function watchConsole(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  return problems;
}

/** Waits until the WebAssembly bundle has hydrated the server-rendered page. */
export async function hydrated(page: Page) {
  // A debug build's wasm can take a while to compile on a busy 2-core machine.
  await expect(page.locator('html[data-hydrated]')).toHaveCount(1, { timeout: 45_000 });
}

export async function signInDemo(page: Page, role: 'musician' | 'annotator' | 'admin') {
  await page.goto('/signin');
  await page.getByRole('button', { name: new RegExp(`^${role}$`, 'i') }).click();
  await expect(page.locator('.profile-menu .user-name')).toHaveText(`Demo ${role[0].toUpperCase()}${role.slice(1)}`);
}

/** The full OAuth redirect flow through the local mock provider's sign-in form. */
export async function signInOAuth(page: Page, email: string, name: string) {
  await page.goto('/signin');
  await page.getByRole('link', { name: 'Sign in with Google' }).click();
  await expect(page.getByRole('heading', { name: 'Mock sign-in' })).toBeVisible();
  await page.locator('#email').fill(email);
  await page.locator('#name').fill(name);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('.profile-menu .user-name')).toHaveText(name);
}

export async function signOut(page: Page) {
  await page.locator('.profile-menu summary').click();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('link', { name: 'Sign in', exact: true })).toBeVisible();
}
