import { test, expect, type Page } from '@playwright/test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hydrated, signInDemo, watchConsole, writeWav } from './helpers';
import { axeViolations, blocking, describeViolations, screenshotDir, viewports } from './pages-helpers';

/** A two-tone chord at a random pitch, so no clip is silent and no upload repeats an earlier one. */
function chord(): (t: number) => number {
  const f = 200 + Math.random() * 200;
  return (t) => 0.18 * (Math.sin(2 * Math.PI * f * t) + Math.sin(2 * Math.PI * 1.5 * f * t));
}

/** Answer the next task of `campaign` through the REST API. */
async function answer(page: Page, campaign: string, piano: string): Promise<void> {
  const next = await page.request.post(`/api/v1/annotate/next?campaign=${campaign}`);
  expect(next.status()).toBe(200);
  const a = await next.json();
  const res = await page.request.post(`/api/v1/tasks/${a.task_id}/annotations`, {
    data: { client_id: `dash-${a.task_id}`, answers: { piano, drums: 'absent' }, play_count: 1, listening_ms: 8000, time_to_submit_ms: 11000 },
  });
  expect(res.status()).toBe(201);
}

const iso = (d: Date) => d.toISOString().slice(0, 10);

test('an admin reads the dashboard, narrows the range and downloads a chart as CSV', async ({ browser }) => {
  test.setTimeout(120_000);
  const tag = Date.now().toString(36);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tutti-dash-'));
  const admin = await (await browser.newContext()).newPage();
  const problems = watchConsole(admin);
  await signInDemo(admin, 'admin');
  const name = `dash-${tag}.wav`;
  const up = await admin.request.post('/api/v1/audio', {
    multipart: { file: { name, mimeType: 'audio/wav', buffer: fs.readFileSync(writeWav(path.join(dir, name), 16_000, 30, chord())) } },
  });
  expect(up.status()).toBe(201);
  const audio = (await up.json()).id as string;
  const campaignName = `Dashboard ${tag}`;
  const created = await admin.request.post('/api/v1/campaigns', {
    data: { name: campaignName, annotations_per_task: 2, instruments: ['piano', 'drums'] },
  });
  expect(created.status()).toBe(201);
  const campaign = (await created.json()).id as string;
  const job = await (await admin.request.post(`/api/v1/campaigns/${campaign}/builds`, {
    data: { sources: { kind: 'audio', ids: [audio] }, strategy: 'even', seed: 1 },
  })).json();
  await expect
    .poll(async () => (await (await admin.request.get(`/api/v1/builds/${job.id}`)).json()).status, { timeout: 60_000 })
    .toBe('done');
  const first = await (await browser.newContext()).newPage();
  await signInDemo(first, 'annotator');
  const second = await (await browser.newContext()).newPage();
  await signInDemo(second, 'musician');
  for (const piano of ['present', 'present', 'absent']) await answer(first, campaign, piano);
  await answer(second, campaign, 'present');
  const goal = await admin.request.put(`/api/v1/stats/campaigns/${campaign}/goal`, { data: { goal: 4 } });
  expect(goal.status()).toBe(200);

  // The campaign's view: charts with data, the task states, the goal's progress bars.
  await admin.goto(`/dashboard?campaign=${campaign}`);
  await hydrated(admin);
  await expect(admin.getByRole('heading', { name: 'Dashboard', level: 1 })).toBeVisible();
  const perDay = admin.locator('figure.dash-chart', { hasText: 'Answers per day' });
  await expect(perDay.locator('svg circle')).toHaveCount(30);
  await expect(perDay.locator('svg circle').last()).toContainText(`${campaignName}: 4`);
  const states = admin.locator('figure.dash-chart', { hasText: 'Tasks per campaign' });
  await expect(states.locator('rect title').first()).toContainText(campaignName);
  await expect(admin.locator('.dash-figure', { hasText: 'Answers' }).first()).toContainText('4');
  await expect(admin.locator('.dash-coverage progress')).toHaveCount(2);
  await expect(admin.getByLabel('Goal (positive clips per instrument)')).toHaveValue('4');

  // A narrower range goes into the address and the figures follow it.
  const today = new Date();
  const from = iso(new Date(today.getTime() - 6 * 86_400_000));
  await admin.getByLabel('From', { exact: true }).fill(from);
  await admin.getByLabel('From', { exact: true }).dispatchEvent('change');
  await expect(admin).toHaveURL(new RegExp(`from=${from}`));
  await expect(perDay.locator('svg circle')).toHaveCount(7);

  // One chart's CSV: its header and today's row.
  const link = perDay.getByRole('link', { name: /Download CSV/ });
  await expect(link).toHaveAttribute('href', new RegExp(`from=${from}`));
  const [download] = await Promise.all([admin.waitForEvent('download'), link.click()]);
  const csv = fs.readFileSync((await download.path())!, 'utf8').trim().split('\n');
  expect(csv[0]).toBe(`day,${campaignName}`);
  expect(csv).toHaveLength(8);
  expect(csv[7]).toBe(`${iso(today)},4`);

  // Accessible, and screenshotted at a desktop and a phone size.
  fs.mkdirSync(screenshotDir, { recursive: true });
  const found = [];
  for (const vp of viewports) {
    await admin.setViewportSize(vp);
    await admin.goto(`/dashboard?campaign=${campaign}`);
    await hydrated(admin);
    await expect(perDay.locator('svg')).toBeVisible();
    const size = `${vp.width}x${vp.height}`;
    // Nothing is wider than the screen.
    expect(await admin.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(vp.width);
    found.push(...(await axeViolations(admin, 'admin', 'dashboard', size)));
    await admin.screenshot({ path: path.join(screenshotDir, `admin-dashboard-${size}.png`), fullPage: true });
  }
  const blockers = found.filter(blocking);
  expect(blockers, describeViolations(blockers)).toHaveLength(0);
  expect(problems).toEqual([]);

  // Others are turned away.
  const member = await (await browser.newContext()).newPage();
  await signInDemo(member, 'musician');
  const res = await member.goto('/dashboard');
  expect(res?.status()).toBe(403);
  expect((await member.request.get('/api/v1/stats/annotation')).status()).toBe(403);
});
