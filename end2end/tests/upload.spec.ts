import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hydrated, signInDemo, sine, watchConsole, writeWav } from './helpers';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tutti-upload-'));

function ffmpeg(input: string, output: string, ...args: string[]) {
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', input, ...args, output]);
  return output;
}

test('two uploads show progress, then waveforms and a player that plays', async ({ page }) => {
  const problems = watchConsole(page);
  const a = writeWav(path.join(dir, 'tone-a.wav'), 48_000, 3, sine(440, 0.37));
  const b = ffmpeg(writeWav(path.join(dir, 'src-b.wav'), 22_050, 2, sine(660, 0.37)), path.join(dir, 'tone-b.flac'));
  await signInDemo(page, 'musician');
  await page.goto('/upload');
  await hydrated(page);
  await page.locator('#upload-files').setInputFiles([a, b]);
  const rows = page.locator('.upload-item');
  await expect(rows).toHaveCount(2);
  for (const name of ['tone-a.wav', 'tone-b.flac']) {
    const row = rows.filter({ hasText: name });
    await expect(row.locator('.upload-state')).toHaveText('Done');
    await expect(row.locator('svg.waveform path')).toHaveCount(1);
  }
  await expect(rows.filter({ hasText: 'tone-a.wav' }).locator('.facts-line')).toContainText('0:03');

  // Play the first one and watch the clock move.
  const player = rows.filter({ hasText: 'tone-a.wav' }).locator('audio');
  await player.evaluate((el: HTMLAudioElement) => el.play());
  await expect.poll(() => player.evaluate((el: HTMLAudioElement) => el.currentTime), { timeout: 10_000 }).toBeGreaterThan(0.3);

  // Both are in the library with their waveforms (beside whatever this user made elsewhere).
  await page.goto('/library');
  for (const name of ['tone-a.wav', 'tone-b.flac']) {
    await expect(page.locator('.library .audio-card').filter({ hasText: name }).locator('svg.waveform')).toHaveCount(1);
  }
  expect(problems).toEqual([]);
});

test('an Opus file is refused with a message that names the codec', async ({ page }) => {
  const opus = ffmpeg(writeWav(path.join(dir, 'voice.wav'), 48_000, 1, sine(300, 0.37)), path.join(dir, 'voice.opus'), '-c:a', 'libopus');
  await signInDemo(page, 'annotator');
  await page.goto('/upload');
  await hydrated(page);
  await page.locator('#upload-files').setInputFiles(opus);
  const row = page.locator('.upload-item').filter({ hasText: 'voice.opus' });
  await expect(row.locator('.upload-state')).toHaveText('Failed');
  await expect(row.getByRole('alert')).toContainText('Opus');
});
