import { test, expect, type Page } from '@playwright/test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hydrated, signInDemo, watchConsole, writeWav } from './helpers';
import { screenshotDir } from './pages-helpers';

// An annotator chooses a campaign, sees their progress move, reads an instrument's help, and meets
// a campaign that asks for part of each clip to be heard before Submit opens.

const chord = (t: number) => 0.18 * (Math.sin(2 * Math.PI * 220 * t) + Math.sin(2 * Math.PI * 330 * t));

async function uploadWav(page: Page, dir: string, name: string, seconds: number, isPublic = false): Promise<string> {
  const file = writeWav(path.join(dir, name), 16_000, seconds, chord);
  const multipart: Record<string, unknown> = { file: { name, mimeType: 'audio/wav', buffer: fs.readFileSync(file) } };
  if (isPublic) multipart.public = 'true';
  const res = await page.request.post('/api/v1/audio', { multipart: multipart as never });
  expect(res.ok(), `upload ${name}: ${res.status()}`).toBeTruthy();
  return (await res.json()).id;
}

/** A campaign asking about piano and drums, one answer a clip, built from `source`; its id. */
async function campaign(admin: Page, name: string, source: string): Promise<string> {
  const res = await admin.request.post('/api/v1/campaigns', {
    data: { name, annotations_per_task: 1, instruments: ['piano', 'drums'], stats_every: 100 },
  });
  expect(res.status()).toBe(201);
  const c = await res.json();
  const job = await (await admin.request.post(`/api/v1/campaigns/${c.id}/builds`, {
    data: { sources: { kind: 'audio', ids: [source] }, strategy: 'even', seed: 1 },
  })).json();
  await expect
    .poll(async () => (await (await admin.request.get(`/api/v1/builds/${job.id}`)).json()).status, { timeout: 60_000 })
    .toBe('done');
  return c.id;
}

async function taskIds(admin: Page, id: string): Promise<string[]> {
  const tasks: { id: string }[] = await (await admin.request.get(`/api/v1/campaigns/${id}/tasks`)).json();
  return tasks.map((t) => t.id);
}

async function choose(page: Page, id: string) {
  await page.getByLabel('Campaign', { exact: true }).selectOption(id);
  await page.getByRole('button', { name: 'Show its clips' }).click();
  await expect(page).toHaveURL(new RegExp(`/annotate\\?campaign=${id}$`));
}

test('an annotator chooses a campaign, sees progress and help, and hears enough before submitting', async ({ browser }) => {
  test.setTimeout(180_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tutti-choice-'));
  const admin = await browser.newPage();
  await signInDemo(admin, 'admin');
  const alpha = await campaign(admin, 'Choice Alpha', await uploadWav(admin, dir, 'choice-alpha.wav', 20));
  const beta = await campaign(admin, 'Choice Beta', await uploadWav(admin, dir, 'choice-beta.wav', 20.5));
  const alphaTasks = await taskIds(admin, alpha);
  const betaTasks = await taskIds(admin, beta);
  expect(alphaTasks).toHaveLength(2);
  // Beta asks for a fifth of each ten-second clip: two seconds.
  expect((await admin.request.patch(`/api/v1/campaigns/${beta}`, { data: { min_listen_share: 0.2 } })).status()).toBe(200);
  // Piano gets a description and a public example.
  const example = await uploadWav(admin, dir, 'piano-example.wav', 3, true);
  const help = await admin.request.put('/api/v1/instruments/piano/help', {
    data: { description: 'Struck strings played from a keyboard: a clear attack, then a slow fade.', example_audio_id: example },
  });
  expect(help.status(), await help.text()).toBe(200);

  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = watchConsole(page);
  await signInDemo(page, 'annotator');
  await page.goto('/annotate');
  await hydrated(page);
  const chooser = page.getByLabel('Campaign', { exact: true });
  await expect(chooser).toHaveValue('');
  await expect(chooser.locator('option', { hasText: 'Choice Alpha (0 of 2 clips complete)' })).toHaveCount(1);

  // Alpha only: its clips, and the counter moves after a submission.
  await choose(page, alpha);
  await expect(page.locator('.annotator h1')).toHaveText('Choice Alpha');
  const progress = page.locator('.annotate-progress');
  await expect(progress).toHaveText('You: 0 answered here · 0 of 2 clips complete');
  const first = (await page.locator('.annotator').getAttribute('data-task-id'))!;
  expect(alphaTasks).toContain(first);

  // Help: an "About Piano" button opens the description and the example.
  const about = page.getByRole('button', { name: 'About Piano' });
  await expect(about).toHaveAttribute('aria-expanded', 'false');
  await about.click();
  await expect(about).toHaveAttribute('aria-expanded', 'true');
  const panel = page.getByRole('region', { name: 'About Piano' });
  await expect(panel).toContainText('Struck strings played from a keyboard');
  await panel.getByRole('button', { name: /Play an example/ }).click();
  await expect(panel.getByRole('button', { name: /Stop the example/ })).toBeVisible();
  // The open help, for a person to look over at both sizes.
  fs.mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: path.join(screenshotDir, 'annotate-choice-help-1280x800.png') });
  await page.setViewportSize({ width: 390, height: 844 });
  await panel.scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(screenshotDir, 'annotate-choice-help-390x844.png') });
  await page.setViewportSize({ width: 1280, height: 800 });
  await about.click();
  await expect(panel).toBeHidden();
  await expect(page.getByRole('button', { name: 'About Drums' })).toHaveCount(0);

  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.keyboard.press('Space');
  await expect(page.locator('.transport .muted')).toContainText(/played [1-9]/);
  await page.keyboard.press('x');
  await page.keyboard.press('Enter');
  await expect(page.locator('.annotator')).not.toHaveAttribute('data-task-id', first);
  await expect(progress).toHaveText('You: 1 answered here · 1 of 2 clips complete');
  expect(alphaTasks).toContain((await page.locator('.annotator').getAttribute('data-task-id'))!);
  await expect(page.locator('.annotator h1')).toHaveText('Choice Alpha');

  // Beta: Submit stays closed until two seconds were heard, and says why.
  await choose(page, beta);
  await expect(page.locator('.annotator h1')).toHaveText('Choice Beta');
  expect(betaTasks).toContain((await page.locator('.annotator').getAttribute('data-task-id'))!);
  const submit = page.getByRole('button', { name: /^Submit/ });
  await expect(submit).toBeDisabled();
  await expect(page.locator('.listen-needed')).toContainText('Submit opens once you have heard 20% of the clip');
  await expect(submit).toHaveAccessibleDescription(/still to hear/);
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: path.join(screenshotDir, 'annotate-choice-listen-390x844.png') });
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.keyboard.press('x');
  await page.keyboard.press('Enter');
  await expect(page.getByRole('alert')).toContainText('Listen to');
  await page.getByRole('button', { name: /^Play/ }).click();
  await expect(submit).toBeEnabled({ timeout: 20_000 });
  await expect(page.locator('.listen-needed')).toContainText('you can submit');
  const betaFirst = (await page.locator('.annotator').getAttribute('data-task-id'))!;
  await submit.click();
  await expect(page.locator('.annotator')).not.toHaveAttribute('data-task-id', betaFirst);
  await expect(progress).toHaveText('You: 1 answered here · 1 of 2 clips complete');

  // An address naming no open campaign says so, and the chooser is still there.
  await page.goto('/annotate?campaign=00000000-0000-4000-8000-000000000000');
  await hydrated(page);
  await expect(page.getByRole('heading', { name: 'No such campaign' })).toBeVisible();
  await expect(page.getByLabel('Campaign', { exact: true })).toBeVisible();
  expect(problems).toEqual([]);
});

test('instrument help is edited by admins only', async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signInDemo(page, 'annotator');
  const res = await page.goto('/admin/instruments');
  expect(res?.status()).toBe(403);

  const admin = await browser.newPage();
  await signInDemo(admin, 'admin');
  await admin.goto('/admin/instruments');
  await hydrated(admin);
  const form = admin.locator('form.instrument-help-form[data-instrument="violin"]');
  await form.getByLabel('What annotators read about Violin').fill('Bowed strings, held under the chin.');
  await form.getByRole('button', { name: 'Save Violin' }).click();
  await expect(form.getByRole('status')).toHaveText('Saved.');
  await form.getByLabel(/Example audio id/).fill('not-an-id');
  await form.getByRole('button', { name: 'Save Violin' }).click();
  await expect(form.getByRole('alert')).toContainText('audio id');
  const list: { slug: string; description: string }[] = await (await admin.request.get('/api/v1/instruments/help')).json();
  expect(list.find((i) => i.slug === 'violin')?.description).toBe('Bowed strings, held under the chin.');
});
