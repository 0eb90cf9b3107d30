import { test, expect } from '@playwright/test';
import { hydrated, signInOAuth } from './helpers';

test('the signed-in header is one line at 1280 px, even with a long name', async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 800 });
  await signInOAuth(page, `long-name-${Date.now()}@example.org`, 'Maximiliane Konstantina von Featherstonehaugh');
  await page.goto('/annotate');
  await hydrated(page);
  const items = await page.locator('.main-nav .nav-item').all();
  expect(items.length).toBeGreaterThan(5);
  const tops = await Promise.all(items.map(async (i) => (await i.boundingBox())!.y));
  for (const y of tops) expect(Math.abs(y - tops[0])).toBeLessThan(1);
  const header = (await page.locator('.site-header').boundingBox())!;
  const first = (await items[0].boundingBox())!;
  expect(header.height).toBeLessThan(first.height * 2);
});

test('on a phone every nav link is whole and in view, no sideways scrolling', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await signInOAuth(page, `phone-nav-${Date.now()}@example.org`, 'Phone Person');
  await page.goto('/library');
  await hydrated(page);
  const nav = page.locator('.main-nav');
  expect(await nav.evaluate((n) => n.scrollWidth - n.clientWidth)).toBeLessThanOrEqual(0);
  for (const link of await nav.getByRole('link').all()) {
    await expect(link).toBeInViewport({ ratio: 1 });
    const b = (await link.boundingBox())!;
    expect(b.x).toBeGreaterThanOrEqual(0);
    expect(b.x + b.width).toBeLessThanOrEqual(390);
  }
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  // The links work by touch.
  await nav.getByRole('link', { name: 'Upload' }).click();
  await expect(page).toHaveURL(/\/upload$/);
});
