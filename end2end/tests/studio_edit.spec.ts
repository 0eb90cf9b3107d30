import { test, expect, Page } from '@playwright/test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hydrated, signInDemo, sine, writeWav } from './helpers';

/** A composition with one track, made over REST; returns the page's path and the track's id. */
async function compositionWithTrack(page: Page, title: string): Promise<{ url: string; trackId: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tutti-edit-'));
  const wav = writeWav(path.join(dir, 'bass.wav'), 16_000, 2, sine(110, 0.25));
  const up = await page.request.post('/api/v1/audio', {
    multipart: { file: { name: 'bass.wav', mimeType: 'audio/wav', buffer: fs.readFileSync(wav) } },
  });
  expect(up.ok()).toBeTruthy();
  const audio = await up.json();
  const c = await (await page.request.post('/api/v1/compositions', { data: { title } })).json();
  const t = await page.request.post(`/api/v1/compositions/${c.id}/tracks`, {
    data: { audio_id: audio.id, name: 'Bass', instrument: 'bass', offset_frames: 0, is_master: false },
  });
  expect(t.ok()).toBeTruthy();
  return { url: `/studio/${c.id}`, trackId: (await t.json()).id };
}

test('mixer values on the page stay what the server holds after each save', async ({ page }) => {
  await signInDemo(page, 'musician');
  const { url, trackId } = await compositionWithTrack(page, 'Mixer check');
  const stored = async () => (await (await page.request.get(`/api/v1/tracks/${trackId}`)).json()) as { gain_db: number; pan: number };
  await page.goto(url);
  await hydrated(page);
  const lane = page.locator('.lane[data-track="Bass"]');
  const gain = lane.getByLabel('Gain');
  const pan = lane.getByLabel('Pan');

  // Three presses of ← from 0 dB in 0.5 dB steps, each one saved and the lanes redrawn.
  await gain.focus();
  for (let i = 1; i <= 3; i++) {
    const saved = page.waitForResponse((r) => r.url().includes('/api/get_composition'));
    await page.keyboard.press('ArrowLeft');
    await saved;
    await expect.poll(async () => (await stored()).gain_db).toBe(-0.5 * i);
    await expect(lane.getByLabel('Gain')).toHaveValue(String(-0.5 * i));
    await expect(lane.getByLabel('Gain')).toBeFocused();
  }
  await expect(lane.locator('.mixer output').first()).toHaveText('−1.5 dB');

  // A value far from the middle (−24 dB, pan 0.75) is shown as such after the redraw.
  await page.request.patch(`/api/v1/tracks/${trackId}`, { data: { gain_db: -24, pan: 0.75 } });
  await page.reload();
  await hydrated(page);
  await expect(gain).toHaveValue('-24');
  await expect(pan).toHaveValue('0.75');
  await pan.focus();
  const saved = page.waitForResponse((r) => r.url().includes('/api/get_composition'));
  await page.keyboard.press('ArrowLeft');
  await saved;
  await expect.poll(async () => (await stored()).pan).toBeCloseTo(0.7, 9);
  await expect(lane.getByLabel('Pan')).toHaveValue('0.7');
  await expect(lane.getByLabel('Gain')).toHaveValue('-24');
  expect((await stored()).gain_db).toBe(-24);
});
