import { test, expect, type Browser, type Page } from '@playwright/test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hydrated, signInDemo, signInOAuth, writeWav } from './helpers';

const CAMPAIGN = 'Layout clips';
const desktop = { width: 1280, height: 800 };
const phone = { width: 390, height: 844 };

/** A two-tone chord, so no clip is silent. */
const chord = (t: number) => 0.18 * (Math.sin(2 * Math.PI * 220 * t) + Math.sin(2 * Math.PI * 330 * t));

/**
 * A campaign every annotator of this file can answer many times, showing the stats after each
 * answer. It is open only while this file runs, so other specs are served their own clips.
 */
async function setCampaignOpen(browser: Browser, open: boolean) {
  const context = await browser.newContext();
  const admin = await context.newPage();
  await signInDemo(admin, 'admin');
  const existing: { id: string; name: string }[] = await (await admin.request.get('/api/v1/campaigns')).json();
  let id = existing.find((c) => c.name === CAMPAIGN)?.id;
  if (!id && open) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tutti-layout-'));
    const up = await admin.request.post('/api/v1/audio', {
      multipart: { file: { name: 'layout.wav', mimeType: 'audio/wav', buffer: fs.readFileSync(writeWav(path.join(dir, 'layout.wav'), 16_000, 30, chord)) } },
    });
    expect(up.ok()).toBeTruthy();
    const audio = await up.json();
    const c = await (await admin.request.post('/api/v1/campaigns', { data: { name: CAMPAIGN, annotations_per_task: 50, stats_every: 1 } })).json();
    id = c.id as string;
    const job = await (await admin.request.post(`/api/v1/campaigns/${id}/builds`, {
      data: { sources: { kind: 'audio', ids: [audio.id] }, strategy: 'even', seed: 1 },
    })).json();
    await expect
      .poll(async () => (await (await admin.request.get(`/api/v1/builds/${job.id}`)).json()).status, { timeout: 60_000 })
      .toBe('done');
  }
  if (id) {
    const res = await admin.request.patch(`/api/v1/campaigns/${id}`, { data: { is_open: open } });
    expect(res.ok(), `${res.status()} ${await res.text()}`).toBeTruthy();
  }
  await context.close();
}

let users = 0;

/** A new annotator (so no lease or answer of another test is in the way) on a clip of this file's campaign. */
async function openClip(page: Page) {
  users += 1;
  await signInOAuth(page, `layout-${Date.now()}-${users}@example.org`, `Layout Tester ${users}`);
  await page.goto('/annotate');
  await hydrated(page);
  // Other specs' campaigns may be open too: skip their clips.
  for (let i = 0; i < 20; i++) {
    await expect(page.locator('.annotator h1')).toBeVisible();
    if ((await page.locator('.annotator h1').textContent()) === CAMPAIGN) break;
    const id = await page.locator('.annotator').getAttribute('data-task-id');
    await page.keyboard.press('Escape');
    await expect(page.locator('.annotator')).not.toHaveAttribute('data-task-id', id!);
  }
  await expect(page.locator('.annotator h1')).toHaveText(CAMPAIGN);
  await expect(page.locator('.instrument-row')).toHaveCount(20);
}

test.beforeAll(async ({ browser }) => {
  test.setTimeout(120_000);
  await setCampaignOpen(browser, true);
});

test.afterAll(async ({ browser }) => {
  await setCampaignOpen(browser, false);
});

for (const vp of [desktop, phone]) {
  const size = `${vp.width}x${vp.height}`;

  test(`Enter before playing says why, beside Submit and in view (${size})`, async ({ page }) => {
    await page.setViewportSize(vp);
    await openClip(page);
    await page.keyboard.press('Enter');
    const alert = page.getByRole('alert');
    await expect(alert).toContainText('Play the clip before answering');
    await expect(alert).toBeInViewport({ ratio: 1 });
    const submit = page.getByRole('button', { name: /^Submit/ });
    await expect(submit).toBeInViewport({ ratio: 1 });
    const a = (await alert.boundingBox())!;
    const s = (await submit.boundingBox())!;
    // Right above the Submit button.
    expect(Math.abs(s.y - (a.y + a.height))).toBeLessThan(48);
  });

  test(`the annotator fits the screen and lines up (${size})`, async ({ page }) => {
    await page.setViewportSize(vp);
    await openClip(page);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(vp.width);
    const card = (await page.locator('.annotator').boundingBox())!;
    for (const group of await page.locator('.family-group').all()) {
      const g = (await group.boundingBox())!;
      expect(g.x).toBeGreaterThanOrEqual(card.x);
      expect(g.x + g.width).toBeLessThanOrEqual(card.x + card.width + 0.5);
      // No group is stretched with empty space below its last row.
      const last = (await group.locator('.instrument-row').last().boundingBox())!;
      expect(g.y + g.height - (last.y + last.height)).toBeLessThan(24);
    }
    // Every answer button is one line high, and each kind sits in one column within a group.
    const one = (await page.locator('.answer.present').first().boundingBox())!.height;
    for (const kind of ['present', 'absent', 'unsure']) {
      for (const group of await page.locator('.family-group').all()) {
        const boxes = await Promise.all((await group.locator(`.answer.${kind}`).all()).map(async (b) => (await b.boundingBox())!));
        for (const b of boxes) {
          expect(b.height).toBeLessThanOrEqual(one + 0.5);
          expect(Math.abs(b.x - boxes[0].x)).toBeLessThan(0.5);
          expect(Math.abs(b.width - boxes[0].width)).toBeLessThan(0.5);
        }
      }
    }
    if (vp === phone) {
      await expect(page.locator('.shortcuts')).toBeHidden();
    } else {
      await expect(page.locator('.shortcuts')).toBeVisible();
    }
  });
}

test('each answer button names its instrument', async ({ page }) => {
  await openClip(page);
  await expect(page.getByRole('button', { name: /Piano.*present/i })).toHaveCount(1);
  await expect(page.getByRole('button', { name: /Piano.*absent/i })).toHaveCount(1);
  await expect(page.getByRole('button', { name: /Piano.*not sure/i })).toHaveCount(1);
  for (const row of (await page.locator('.instrument-row').all()).slice(0, 5)) {
    const name = (await row.locator('.instrument-name').textContent())!.trim();
    await expect(row.locator('.answer.present')).toHaveAccessibleName(`${name}: Present`);
    await expect(row.locator('.answer.absent')).toHaveAccessibleName(`${name}: Absent`);
    await expect(row.locator('.answer.unsure')).toHaveAccessibleName(`${name}: Not sure`);
  }
});

for (const vp of [desktop, phone]) {
  test(`the stats panel reads as label and figure, not a word per line (${vp.width}x${vp.height})`, async ({ page }) => {
    await page.setViewportSize(vp);
    await openClip(page);
    await page.keyboard.press('Space');
    await expect(page.locator('.transport .muted')).toContainText(/played [1-9]/);
    await page.keyboard.press('x');
    await page.keyboard.press('Enter');
    const panel = page.getByRole('dialog', { name: 'Your progress' });
    await expect(panel).toBeVisible();
    await expect(panel.locator('dl.facts dd')).toHaveCount(4);
    await expect(panel).toBeInViewport({ ratio: 1 });
    const lineHeight = await panel.locator('dl.facts dd').first().evaluate((el) => parseFloat(getComputedStyle(el).lineHeight));
    const list = (await panel.locator('dl.facts').boundingBox())!;
    for (const item of await panel.locator('dl.facts dt, dl.facts dd').all()) {
      const b = (await item.boundingBox())!;
      // A label or a figure takes at most two lines, and has room to.
      expect(b.height).toBeLessThanOrEqual(2 * lineHeight + 1);
      expect(b.width).toBeGreaterThanOrEqual(list.width / 3);
    }
  });
}
