import { test, expect } from '@playwright/test';
import fs from 'node:fs';
import path from 'node:path';
import { hydrated, signInDemo } from './helpers';
import {
  axeViolations,
  blocking,
  describeViolations,
  makeFixtures,
  pages,
  screenshotDir,
  viewports,
  type Fixtures,
  type Role,
  type Violation,
} from './pages-helpers';

// Every page, as each kind of visitor sees it: axe finds nothing serious or critical, and a
// screenshot at a desktop and a phone size is left for a person to look over.

const roles = ['signed-out', 'musician', 'annotator', 'admin'] as const satisfies readonly Role[];
let fixtures: Fixtures;
let lastRoleRan = false;

test.beforeAll(async ({ browser }) => {
  test.setTimeout(120_000);
  fs.mkdirSync(screenshotDir, { recursive: true });
  fixtures = await makeFixtures(browser);
});

test.afterAll(() => {
  // A failed test restarts the worker, so only the worker that ran the last role lists them all,
  // at the end of the run.
  if (!lastRoleRan) return;
  const files = roles.flatMap((role) =>
    pages(fixtures).flatMap(({ name }) => viewports.map((vp) => path.join(screenshotDir, `${role}-${name}-${vp.width}x${vp.height}.png`))),
  ).filter((f) => fs.existsSync(f));
  console.log(`\nScreenshots (${files.length}) in ${screenshotDir}:\n${files.map((f) => `  ${path.basename(f)}`).join('\n')}`);
});

for (const role of roles) {
  test(`every page is accessible and screenshotted: ${role}`, async ({ page }) => {
    // Each page hydrates a debug build and is checked and captured at two sizes.
    test.setTimeout(600_000);
    if (role === roles[roles.length - 1]) lastRoleRan = true;
    if (role !== 'signed-out') await signInDemo(page, role);
    const found: Violation[] = [];
    for (const { name, path: url } of pages(fixtures)) {
      await page.setViewportSize(viewports[0]);
      await page.goto(url);
      await hydrated(page);
      // Waveforms, spectrograms and lists load after hydration; let them settle before judging.
      // A page that keeps polling never goes idle; it is judged as it stands after a while.
      await page.waitForLoadState('networkidle', { timeout: 10_000 }).catch(() => {});
      for (const vp of viewports) {
        const size = `${vp.width}x${vp.height}`;
        await page.setViewportSize(vp);
        // Layout and media queries apply before axe measures colours and sizes.
        await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
        found.push(...(await axeViolations(page, role, name, size)));
        const file = path.join(screenshotDir, `${role}-${name}-${size}.png`);
        await page.screenshot({ path: file, fullPage: true });
      }
    }
    // Every violation, whatever its impact, for whoever fixes them.
    fs.writeFileSync(path.join(screenshotDir, `axe-${role}.json`), JSON.stringify(found, null, 2));
    const serious = found.filter(blocking);
    if (serious.length) console.log(`\nSerious or critical axe violations (${role}):\n${describeViolations(serious)}`);
    expect(serious.length, `serious or critical axe violations for ${role}; see the list above`).toBe(0);
  });
}
