import { test, expect } from '@playwright/test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { signInDemo, sine, writeWav } from './helpers';

test('a direct link to public audio opens a player that loads the file', async ({ page }) => {
  await signInDemo(page, 'musician');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tutti-media-'));
  const wav = writeWav(path.join(dir, 'direct-link.wav'), 16_000, 2, sine(330, 0.25));
  const up = await page.request.post('/api/v1/audio', {
    multipart: {
      file: { name: 'direct-link.wav', mimeType: 'audio/wav', buffer: fs.readFileSync(wav) },
      public: 'true',
    },
  });
  expect(up.ok()).toBeTruthy();
  const id = (await up.json()).id;
  const blocked: string[] = [];
  page.on('console', (m) => {
    if (m.text().includes('Content Security Policy')) blocked.push(m.text());
  });
  for (const file of ['canonical', 'original']) {
    await page.goto(`/api/v1/audio/${id}/${file}`);
    // The browser's own media document: its player must get past "no source" to the file's length.
    await expect.poll(() => page.evaluate(() => (document.querySelector('video, audio') as HTMLMediaElement | null)?.duration ?? -1)).toBeCloseTo(2, 1);
  }
  expect(blocked).toEqual([]);
});
