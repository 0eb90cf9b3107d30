import { test, expect } from '@playwright/test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hydrated, signInDemo, sine, watchConsole, writeWav } from './helpers';

test('a musician sets up a private composition; a second user needs the invitation to open it', async ({ browser }) => {
  // Three page loads that each hydrate a debug build, two ingests, decoding and a mixdown.
  test.setTimeout(120_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tutti-studio-'));
  const page = await browser.newPage();
  const problems = watchConsole(page);
  await signInDemo(page, 'musician');
  const up = await page.request.post('/api/v1/audio', {
    multipart: { file: { name: 'guide.wav', mimeType: 'audio/wav', buffer: fs.readFileSync(writeWav(path.join(dir, 'guide.wav'), 16_000, 8, sine(110, 0.25))) } },
  });
  expect(up.ok()).toBeTruthy();

  await page.goto('/studio');
  await hydrated(page);
  // A collection to file the composition in.
  await page.locator('#collection-title').fill('Demos');
  await page.getByRole('button', { name: 'Create collection' }).click();
  await expect(page.getByRole('link', { name: 'Demos' })).toBeVisible();
  await page.locator('#composition-collection').selectOption({ label: 'Demos' });
  await page.locator('#composition-title').fill('Evening song');
  await page.locator('#composition-tempo').fill('90');
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Evening song' })).toBeVisible();
  await expect(page.locator('.composition-page')).toHaveAttribute('data-role', 'owner');
  await hydrated(page);

  await page.locator('#track-name').fill('Guide');
  await page.locator('#track-instrument').selectOption('guitar');
  await page.getByLabel('Master (sync) track').check();
  await page.getByRole('button', { name: 'Add track' }).click();
  const lane = page.locator('.lane[data-track="Guide"]');
  await expect(lane).toBeVisible();
  await expect(lane).toHaveClass(/master/);
  await expect(lane.locator('svg.waveform')).toBeVisible();
  // Mixer state is saved on the server: mute survives a reload.
  await lane.getByRole('button', { name: 'M' }).click();
  await expect(lane.getByRole('button', { name: 'M' })).toHaveAttribute('aria-pressed', 'true');
  await page.reload();
  await expect(page.locator('.lane[data-track="Guide"]').getByRole('button', { name: 'M' })).toHaveAttribute('aria-pressed', 'true');
  const url = page.url();
  // What the musician set on the page (zoom, snap) outlives a save, which redraws the lanes.
  await page.locator('label.zoom input').fill('80');
  await page.getByLabel('Snap to beat').uncheck();
  await page.locator('.lane[data-track="Guide"]').getByRole('button', { name: 'M' }).click();
  await expect(page.locator('.lane[data-track="Guide"]').getByRole('button', { name: 'M' })).toHaveAttribute('aria-pressed', 'false');
  await expect(page.locator('label.zoom input')).toHaveValue('80');
  await expect(page.getByLabel('Snap to beat')).not.toBeChecked();
  await page.locator('label.zoom input').fill('40');
  await page.getByLabel('Snap to beat').check();
  // Space on a button reached with the keyboard presses that button; it does not start playback.
  const guide = page.locator('.lane[data-track="Guide"]');
  await guide.getByLabel('Pan').focus();
  await page.keyboard.press('Tab');
  await expect(guide.getByRole('button', { name: 'M' })).toBeFocused();
  await page.keyboard.press('Space');
  await expect(page.locator('.lane[data-track="Guide"]').getByRole('button', { name: 'M' })).toHaveAttribute('aria-pressed', 'true');
  await expect(page.locator('.transport')).toHaveAttribute('data-playing', 'false');

  // A file uploaded from the composition page becomes a new track.
  await hydrated(page);
  await page.locator('#track-name').fill('Take 2');
  await page.locator('#track-instrument').selectOption('voice');
  await page.locator('#track-file').setInputFiles(writeWav(path.join(dir, 'take2.wav'), 48_000, 3, sine(110, 0.25)));
  await expect(page.locator('.lane[data-track="Take 2"]')).toBeVisible();
  await expect(page.locator('.lane[data-track="Take 2"]')).toContainText('voice');

  // Drag it 100 px right (2.5 s at the default zoom): it snaps to the nearest beat (90 BPM).
  const block = page.locator('.lane[data-track="Take 2"] .clip-block');
  await block.scrollIntoViewIfNeeded();
  const box = (await block.boundingBox())!;
  await page.mouse.move(box.x + 20, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + 70, box.y + box.height / 2, { steps: 5 });
  await page.mouse.move(box.x + 120, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
  const compositionId = url.split('/').pop();
  await expect.poll(async () => {
    const tracks = await (await page.request.get(`/api/v1/compositions/${compositionId}/tracks`)).json();
    return tracks.find((t: { name: string }) => t.name === 'Take 2').offset_frames;
  }).toBe(4 * 29_400);
  const offsetOf = async (name: string) => {
    const tracks = await (await page.request.get(`/api/v1/compositions/${compositionId}/tracks`)).json();
    return tracks.find((t: { name: string }) => t.name === name).offset_frames;
  };
  // A click is not a drag: the track stays where it is.
  const moved = (await block.boundingBox())!;
  await block.click({ position: { x: 10, y: moved.height / 2 } });
  await page.waitForTimeout(500);
  expect(await offsetOf('Take 2')).toBe(4 * 29_400);
  // Dragged 160 px left (4 s = 6 beats), it starts before the composition's zero: offsets may be
  // negative, as a latency-compensated take's are.
  await page.mouse.move(moved.x + 20, moved.y + moved.height / 2);
  await page.mouse.down();
  await page.mouse.move(moved.x - 60, moved.y + moved.height / 2, { steps: 5 });
  await page.mouse.move(moved.x - 140, moved.y + moved.height / 2, { steps: 5 });
  const redrawn = page.waitForResponse((r) => r.url().includes('/api/get_composition'));
  await page.mouse.up();
  await expect.poll(() => offsetOf('Take 2')).toBe(-2 * 29_400);
  await redrawn;
  // From the keyboard: → moves it a beat later, and the lane keeps the focus for the next press.
  await block.focus();
  await page.keyboard.press('ArrowRight');
  await expect.poll(() => offsetOf('Take 2')).toBe(-29_400);
  await expect(page.locator('.lane[data-track="Take 2"] .clip-block')).toBeFocused();
  await page.keyboard.press('ArrowRight');
  await expect.poll(() => offsetOf('Take 2')).toBe(0);

  // Playback: every track on one AudioContext clock; the clock moves, Space pauses.
  await page.getByRole('button', { name: /^Play/ }).click();
  await expect(page.locator('.transport')).toHaveAttribute('data-playing', 'true');
  await expect.poll(async () => parseFloat((await page.locator('.transport .position').textContent())!), { timeout: 10_000 }).toBeGreaterThan(0.5);
  await page.keyboard.press('Space');
  await expect(page.locator('.transport')).toHaveAttribute('data-playing', 'false');
  // Played on, it stops by itself where the last track (the 8 s guide) ends.
  await page.getByRole('button', { name: /^Play/ }).click();
  await expect(page.locator('.transport')).toHaveAttribute('data-playing', 'true');
  await expect(page.locator('.transport')).toHaveAttribute('data-playing', 'false', { timeout: 15_000 });
  await expect(page.locator('.transport .position')).toHaveText(/^8\.0 s/);

  // The server renders the mix; it downloads as FLAC.
  await page.getByRole('button', { name: 'Render mixdown' }).click();
  const download = page.getByRole('link', { name: 'Download the mixdown (FLAC)' });
  await expect(download).toBeVisible();
  const mixed = await page.request.get((await download.getAttribute('href'))!);
  expect(mixed.status()).toBe(200);
  expect(mixed.headers()['content-type']).toBe('audio/flac');

  // The collection's page lists it.
  const collections = await (await page.request.get('/api/v1/collections')).json();
  const demos = collections.find((c: { title: string }) => c.title === 'Demos');
  expect(demos.compositions).toBe(1);

  await page.getByRole('button', { name: 'Create invitation link' }).click();
  const invite = await page.getByLabel('Invitation link').inputValue();
  expect(invite).toMatch(/^http:\/\/[^/]+\/invite\//);
  expect(problems).toEqual([]);

  const otherContext = await browser.newContext();
  const other = await otherContext.newPage();
  await signInDemo(other, 'annotator');
  const denied = await other.goto(url);
  expect(denied?.status()).toBe(404);
  await other.goto(invite);
  await hydrated(other);
  // The page says what the link offers before it is accepted.
  await expect(other.locator('.card')).toContainText('“Evening song” as contributor');
  await other.getByRole('button', { name: 'Accept invitation' }).click();
  await expect(other.getByRole('heading', { name: 'Evening song' })).toBeVisible();
  await expect(other.locator('.composition-page')).toHaveAttribute('data-role', 'contributor');
  const allowed = await other.goto(url);
  expect(allowed?.status()).toBe(200);
});
