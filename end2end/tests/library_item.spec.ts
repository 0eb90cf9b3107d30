import { test, expect } from '@playwright/test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hydrated, signInDemo, sine, writeWav } from './helpers';

test('an audio page plays and seeks, shows where the file is used, and its owner edits and deletes it', async ({ page }) => {
  test.setTimeout(120_000);
  await signInDemo(page, 'musician');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tutti-item-'));
  const wav = writeWav(path.join(dir, 'field-recording.wav'), 16_000, 6, sine(261.6, 0.25));
  const up = await page.request.post('/api/v1/audio', {
    multipart: { file: { name: 'field-recording.wav', mimeType: 'audio/wav', buffer: fs.readFileSync(wav) } },
  });
  const id = (await up.json()).id;
  const c = await (await page.request.post('/api/v1/compositions', { data: { title: 'Uses the recording' } })).json();
  const t = await (await page.request.post(`/api/v1/compositions/${c.id}/tracks`, { data: { audio_id: id, name: 'Field', instrument: 'unknown' } })).json();

  await page.goto(`/library/${id}`);
  await hydrated(page);
  await expect(page.getByRole('heading', { name: 'field-recording.wav' })).toBeVisible();
  await expect(page.locator('.audio-page')).toContainText('Uses the recording');
  // A click at the middle of the waveform moves the playhead and the player there.
  const wave = page.locator('.seekable');
  const box = (await wave.boundingBox())!;
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await expect.poll(() => page.locator('.audio-page audio').evaluate((a: HTMLAudioElement) => a.currentTime)).toBeCloseTo(3, 0);
  await expect(wave).toHaveAttribute('aria-valuenow', /^(2\.9|3\.0|3\.1)$/);
  // And from the keyboard: → is five seconds on.
  await wave.focus();
  await page.keyboard.press('ArrowLeft');
  await expect.poll(() => page.locator('.audio-page audio').evaluate((a: HTMLAudioElement) => a.currentTime)).toBeLessThan(0.5);

  // Rename, make public, change the licence.
  await page.locator('#audio-title').fill('Morning birds');
  await page.locator('#audio-public').check();
  await page.locator('#audio-licence').selectOption('CC0-1.0');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Morning birds' })).toBeVisible();
  const record = await (await page.request.get(`/api/v1/audio/${id}`)).json();
  expect([record.title, record.is_public, record.license]).toEqual(['Morning birds', true, 'CC0-1.0']);

  // Deleting a file that is a track says why it cannot be done.
  page.once('dialog', (d) => void d.accept());
  await page.getByRole('button', { name: 'Delete audio' }).click();
  await expect(page.locator('.error[role=alert]')).toContainText('Uses the recording');
  await page.request.delete(`/api/v1/tracks/${t.id}`);
  page.once('dialog', (d) => void d.accept());
  await page.getByRole('button', { name: 'Delete audio' }).click();
  await expect(page).toHaveURL(/\/library$/);
  expect((await page.request.get(`/api/v1/audio/${id}`)).status()).toBe(404);
});

test('My audio is searched and sorted, and each item opens its page; the same file again says its settings were kept', async ({ page }) => {
  await signInDemo(page, 'musician');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tutti-search-'));
  for (const [name, hz] of [['zebra-finch.wav', 500], ['aardvark-snore.wav', 90]] as const) {
    const wav = writeWav(path.join(dir, name), 16_000, 1, sine(hz, 0.2));
    await page.request.post('/api/v1/audio', { multipart: { file: { name, mimeType: 'audio/wav', buffer: fs.readFileSync(wav) } } });
  }
  await page.goto('/library');
  await hydrated(page);
  await page.locator('#library-search').fill('zebra');
  await expect(page.locator('.library .audio-card')).toHaveCount(1);
  await expect(page.locator('.library')).toContainText('zebra-finch.wav');
  await page.locator('#library-search').fill('');
  await page.locator('#library-sort').selectOption('name');
  await expect(page.locator('.library .audio-title a').first()).toHaveText(/aardvark-snore/);
  await page.locator('.library .audio-title a').first().click();
  await expect(page.getByRole('heading', { name: 'aardvark-snore.wav' })).toBeVisible();

  // Uploading the same bytes again from the upload page says the record kept its own settings.
  await page.goto('/upload');
  await hydrated(page);
  await page.locator('input[type=file]').setInputFiles(path.join(dir, 'zebra-finch.wav'));
  await expect(page.locator('.notice.existed')).toContainText('the settings chosen here were not applied');
});
