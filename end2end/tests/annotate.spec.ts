import { test, expect, type Page } from '@playwright/test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hydrated, signInDemo, watchConsole, writeWav } from './helpers';

/** A two-tone chord, so no clip is silent. */
const chord = (t: number) => 0.18 * (Math.sin(2 * Math.PI * 220 * t) + Math.sin(2 * Math.PI * 330 * t));

async function annotateCurrent(page: Page) {
  const card = page.locator('.annotator');
  await expect(card).toBeVisible();
  await page.keyboard.press('Space');
  await expect(page.locator('.transport .muted')).toContainText(/played [1-9]/);
  await page.keyboard.press('1'); // first instrument: present
  await page.keyboard.press('x'); // the rest: absent
  await expect(page.locator('.instrument-row').first().locator('.answer.present')).toHaveAttribute('aria-pressed', 'true');
  await page.keyboard.press('Enter');
}

test('an admin builds a campaign; an annotator works through clips with the keyboard', async ({ browser }) => {
  test.setTimeout(120_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tutti-annotate-'));
  const admin = await browser.newPage();
  const problems = watchConsole(admin);
  await signInDemo(admin, 'admin');
  const upload = await admin.request.post('/api/v1/audio', {
    multipart: { file: { name: 'ensemble.wav', mimeType: 'audio/wav', buffer: fs.readFileSync(writeWav(path.join(dir, 'ensemble.wav'), 16_000, 40, chord)) } },
  });
  expect(upload.status()).toBe(201);

  await admin.goto('/admin/campaigns');
  await hydrated(admin);
  await admin.locator('#campaign-name').fill('Ensemble check');
  await admin.locator('#campaign-k').fill('1');
  await admin.locator('#campaign-stats').fill('2');
  // Ask about 19 of the 20 instruments.
  await expect(admin.locator('.instrument-choice legend')).toHaveText('Instruments asked (20 of 20)');
  await admin.locator('.instrument-choice').getByLabel('Voice').uncheck();
  await expect(admin.locator('.instrument-choice legend')).toHaveText('Instruments asked (19 of 20)');
  await admin.getByRole('button', { name: 'Create campaign' }).click();
  const card = admin.locator('section.campaign[data-campaign="Ensemble check"]');
  await expect(card).toBeVisible();
  await card.getByLabel(/ensemble\.wav/).check();
  await card.getByRole('button', { name: 'Build tasks' }).click();
  await expect(card.locator('.job')).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
  await expect(card.locator('.job')).toContainText('4 clips made');
  expect(problems).toEqual([]);

  const context = await browser.newContext();
  const page = await context.newPage();
  const seen = watchConsole(page);
  await signInDemo(page, 'annotator');
  await page.goto('/annotate');
  await hydrated(page);
  await expect(page.locator('img.spectrogram')).toHaveJSProperty('complete', true);
  expect(await page.locator('img.spectrogram').evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);

  await expect(page.locator('.instrument-row')).toHaveCount(19);
  await expect(page.locator('.instrument-row[data-instrument="voice"]')).toHaveCount(0);
  // Keys follow the rows as shown (grouped by family): 1, 2, 3 … from the top.
  await expect(page.locator('.instrument-row kbd')).toHaveText(['1', '2', '3', '4', '5', '6', '7', '8', '9', '0', 'q', 'w', 'e', 'r', 't', 'y', 'u', 'i', 'o']);
  // Enter on a control reached with Tab does what the control does (Replay), not a submission.
  const first = await page.locator('.annotator').getAttribute('data-task-id');
  const replay = page.getByRole('button', { name: /Replay/ });
  for (let i = 0; i < 60 && !(await replay.evaluate((b) => b === document.activeElement)); i++) await page.keyboard.press('Tab');
  await expect(replay).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.locator('.transport .muted')).toContainText(/played [1-9]/);
  await expect(page.getByRole('alert')).toHaveCount(0);
  await expect(page.locator('.annotator')).toHaveAttribute('data-task-id', first!);
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await annotateCurrent(page);
  // The next clip arrives without a page reload.
  await expect(page.locator('.annotator')).not.toHaveAttribute('data-task-id', first!);
  await annotateCurrent(page);
  // Two submissions: the stats panel shows up.
  const panel = page.getByRole('dialog', { name: 'Your progress' });
  await expect(panel).toBeVisible();
  await expect(panel).toContainText('2 of 4 clips complete');
  // The panel is a modal that takes the focus and closes from the keyboard.
  await expect(panel.getByRole('button', { name: /Continue/ })).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(panel).toHaveCount(0);
  // Escape skips: another clip comes, and the skipped one is not served again while others are left.
  const skipped = await page.locator('.annotator').getAttribute('data-task-id');
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.keyboard.press('Escape');
  await expect(page.locator('.annotator')).not.toHaveAttribute('data-task-id', skipped!);
  expect(seen).toEqual([]);

  // The admin closes the campaign from its card and reads the agreement so far.
  await admin.reload();
  await hydrated(admin);
  await expect(card.locator('.job')).toHaveAttribute('data-status', 'done');
  await card.getByRole('button', { name: 'Agreement per instrument' }).click();
  await expect(card.locator('table.agreement tbody tr')).toHaveCount(19);
  // Gold answers are set from the campaign's task list.
  await card.getByRole('button', { name: 'Tasks and gold answers' }).click();
  const list = card.locator('.task-list');
  await expect(list).toContainText('Tasks 1–4 of 4');
  const item = list.locator('.task-item').first();
  await item.getByRole('button', { name: 'Make gold' }).click();
  // Nothing ticked is not taken to mean "no instrument present": that must be said.
  await item.getByRole('button', { name: 'Save as gold' }).click();
  await expect(item.getByRole('alert')).toContainText('None of these');
  await expect(item).toHaveAttribute('data-gold', 'false');
  await item.locator('.gold-answers').getByLabel('piano').check();
  await item.getByRole('button', { name: 'Save as gold' }).click();
  await expect(list.locator('.task-item').first()).toHaveAttribute('data-gold', 'true');
  await expect(list.locator('.task-item').first()).toContainText('gold · present: piano');
  // Closing asks first (declining is in review.spec.ts).
  admin.once('dialog', (d) => void d.accept());
  await card.getByRole('button', { name: 'Close campaign' }).click();
  await expect(card.locator('.badge')).toHaveText('Closed');
  await expect(card.getByRole('button', { name: 'Reopen campaign' })).toBeVisible();
  expect(problems).toEqual([]);
});

test('a submission after the lease ran out is refused with its reason', async ({ browser }) => {
  test.setTimeout(120_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tutti-lease-'));
  const admin = await browser.newPage();
  await signInDemo(admin, 'admin');
  const up = await admin.request.post('/api/v1/audio', {
    multipart: { file: { name: 'late.wav', mimeType: 'audio/wav', buffer: fs.readFileSync(writeWav(path.join(dir, 'late.wav'), 16_000, 12, chord)) } },
  });
  const audio = await up.json();
  const c = await (await admin.request.post('/api/v1/campaigns', { data: { name: 'Late', annotations_per_task: 1 } })).json();
  const job = await (await admin.request.post(`/api/v1/campaigns/${c.id}/builds`, {
    data: { sources: { kind: 'audio', ids: [audio.id] }, strategy: 'even', seed: 1 },
  })).json();
  await expect
    .poll(async () => (await (await admin.request.get(`/api/v1/builds/${job.id}`)).json()).status, { timeout: 60_000 })
    .toBe('done');

  const context = await browser.newContext();
  const page = await context.newPage();
  await signInDemo(page, 'musician');
  // Other specs leave campaigns open: choose this one.
  await page.goto(`/annotate?campaign=${c.id}`);
  await hydrated(page);
  await expect(page.locator('.annotator h1')).toHaveText('Late');
  // Something to fix on this page offers no way out but the fix.
  await page.keyboard.press('Enter');
  await expect(page.getByRole('alert')).toContainText('Play the clip before answering');
  await expect(page.getByRole('button', { name: 'Load the next clip' })).toHaveCount(0);
  await page.keyboard.press('Space');
  await page.keyboard.press('x');
  // The e2e server leases for 20 s only; wait it out.
  await page.waitForTimeout(21_000);
  await expect(page.locator('.annotator .lease')).toHaveText('Your time on this clip ran out: load the next one');
  await page.keyboard.press('Enter');
  await expect(page.getByRole('alert')).toContainText('lease expired');
  await page.getByRole('button', { name: 'Load the next clip' }).click();
  await expect(page.locator('.annotator')).toBeVisible();
});
