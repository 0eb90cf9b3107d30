import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hydrated, signInDemo, watchConsole } from './helpers';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tutti-upload-'));

/** A 16-bit PCM WAV of a sine, built here. */
function wav(file: string, rate: number, seconds: number, hz: number) {
  const frames = Math.round(rate * seconds);
  const b = Buffer.alloc(44 + frames * 2);
  b.write('RIFF', 0); b.writeUInt32LE(36 + frames * 2, 4); b.write('WAVE', 8);
  b.write('fmt ', 12); b.writeUInt32LE(16, 16); b.writeUInt16LE(1, 20); b.writeUInt16LE(1, 22);
  b.writeUInt32LE(rate, 24); b.writeUInt32LE(rate * 2, 28); b.writeUInt16LE(2, 32); b.writeUInt16LE(16, 34);
  b.write('data', 36); b.writeUInt32LE(frames * 2, 40);
  for (let i = 0; i < frames; i++) b.writeInt16LE(Math.round(12000 * Math.sin((2 * Math.PI * hz * i) / rate)), 44 + i * 2);
  fs.writeFileSync(file, b);
  return file;
}

function ffmpeg(input: string, output: string, ...args: string[]) {
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', input, ...args, output]);
  return output;
}

test('two uploads show progress, then waveforms and a player that plays', async ({ page }) => {
  const problems = watchConsole(page);
  const a = wav(path.join(dir, 'tone-a.wav'), 48_000, 3, 440);
  const b = ffmpeg(wav(path.join(dir, 'src-b.wav'), 22_050, 2, 660), path.join(dir, 'tone-b.flac'));
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

  // Both are in the library with their waveforms.
  await page.goto('/library');
  await expect(page.locator('.library .audio-card')).toHaveCount(2);
  await expect(page.locator('.library svg.waveform')).toHaveCount(2);
  expect(problems).toEqual([]);
});

test('an Opus file is refused with a message that names the codec', async ({ page }) => {
  const opus = ffmpeg(wav(path.join(dir, 'voice.wav'), 48_000, 1, 300), path.join(dir, 'voice.opus'), '-c:a', 'libopus');
  await signInDemo(page, 'annotator');
  await page.goto('/upload');
  await hydrated(page);
  await page.locator('#upload-files').setInputFiles(opus);
  const row = page.locator('.upload-item').filter({ hasText: 'voice.opus' });
  await expect(row.locator('.upload-state')).toHaveText('Failed');
  await expect(row.getByRole('alert')).toContainText('Opus');
});
