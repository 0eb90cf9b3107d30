import { test, expect } from '@playwright/test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hydrated, signInDemo, sine, writeWav } from './helpers';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tutti-upload-layout-'));

for (const vp of [{ width: 1280, height: 800 }, { width: 390, height: 844 }]) {
  test(`only the drop zone opens the file dialog (${vp.width}x${vp.height})`, async ({ page }) => {
    await page.setViewportSize(vp);
    await signInDemo(page, 'musician');
    await page.goto('/upload');
    await hydrated(page);
    const zone = page.locator('.dropzone');
    const box = (await zone.boundingBox())!;
    // Beside the drop zone, in the page margin, and just above and below it.
    const outside = [
      { x: Math.max(2, box.x / 4), y: box.y + box.height / 2 },
      { x: vp.width - 3, y: box.y + box.height / 2 },
      { x: box.x + box.width / 2, y: box.y - 12 },
      { x: box.x + box.width / 2, y: box.y + box.height + 12 },
    ];
    for (const p of outside) {
      const chooser = page.waitForEvent('filechooser', { timeout: 1_000 }).then(() => 'opened', () => 'none');
      await page.mouse.click(p.x, p.y);
      expect(await chooser, `a click at ${p.x},${p.y}`).toBe('none');
    }
    const chooser = page.waitForEvent('filechooser', { timeout: 5_000 });
    await zone.click();
    await chooser;
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(vp.width);
  });
}

test('a file picked before the page is ready is uploaded once it is', async ({ page }) => {
  const file = writeWav(path.join(dir, 'early-bird.wav'), 44_100, 2, sine(523, 0.3));
  await signInDemo(page, 'musician');
  // Hold the WebAssembly back until the file is chosen.
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  await page.route('**/*.wasm', async (route) => {
    await gate;
    await route.continue();
  });
  await page.goto('/upload');
  await expect(page.locator('html[data-hydrated]')).toHaveCount(0);
  await page.locator('#upload-files').setInputFiles(file);
  release();
  await hydrated(page);
  const row = page.locator('.upload-item').filter({ hasText: 'early-bird.wav' });
  await expect(row).toHaveCount(1);
  await expect(row.locator('.upload-state')).toHaveText(/Done|Already in your library/);
});
