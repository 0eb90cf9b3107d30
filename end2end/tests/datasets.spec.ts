import { test, expect, type Page } from '@playwright/test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hydrated, signInDemo, watchConsole, writeWav } from './helpers';
import { axeViolations, blocking, describeViolations, screenshotDir, viewports, type Role, type Violation } from './pages-helpers';

// A researcher's dataset from start to download: an admin makes a public dataset, compiles a
// release from a finished campaign (watching it compile), reads its report, publishes it and
// downloads its archive; a signed-out visitor then finds it in the catalogue.

/** A two-tone chord at a random pitch, so no upload repeats another spec's bytes. */
function chord(): (t: number) => number {
  const f = 200 + Math.random() * 200;
  return (t) => 0.18 * (Math.sin(2 * Math.PI * f * t) + Math.sin(2 * Math.PI * 1.5 * f * t));
}

/** Answer every task of `campaign` once as the signed-in user; labels vary with the task id. */
async function answerAll(page: Page, campaign: string, tasks: number): Promise<number> {
  let answered = 0;
  for (let i = 0; i < tasks * 3 + 10 && answered < tasks; i++) {
    const next = await page.request.post(`/api/v1/annotate/next?campaign=${campaign}`);
    if (next.status() === 204) break;
    expect(next.status()).toBe(200);
    const a = await next.json();
    if (a.campaign_id !== campaign) {
      expect((await page.request.delete(`/api/v1/tasks/${a.task_id}/lease`)).status()).toBe(204);
      continue;
    }
    const code = (k: number) => (a.task_id.charCodeAt(k) % 2 === 0 ? 'present' : 'absent');
    const res = await page.request.post(`/api/v1/tasks/${a.task_id}/annotations`, {
      data: { client_id: `ds-${a.task_id}`, answers: { piano: code(0), drums: code(1) }, play_count: 1, listening_ms: 9000, time_to_submit_ms: 12000 },
    });
    expect(res.status(), await res.text()).toBe(201);
    answered++;
  }
  return answered;
}

/** axe at both sizes, with a screenshot of each (named as the page tour names its own). */
async function checkPage(page: Page, role: Role, name: string, url: string): Promise<Violation[]> {
  const found: Violation[] = [];
  await page.setViewportSize(viewports[0]);
  await page.goto(url);
  await hydrated(page);
  await page.waitForLoadState('networkidle', { timeout: 10_000 }).catch(() => {});
  for (const vp of viewports) {
    const size = `${vp.width}x${vp.height}`;
    await page.setViewportSize(vp);
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    found.push(...(await axeViolations(page, role, name, size)));
    await page.screenshot({ path: path.join(screenshotDir, `${role}-${name}-${size}.png`), fullPage: true });
    // Nothing may push the page sideways on a phone; the widest culprits are named.
    const wide = await page.evaluate(() => {
      const w = document.documentElement.clientWidth;
      return [...document.querySelectorAll('body *')]
        .filter((e) => e.getBoundingClientRect().right > w + 0.5)
        .slice(0, 5)
        .map((e) => `${e.tagName.toLowerCase()}.${e.className} (${Math.round(e.getBoundingClientRect().right)}px)`);
    });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow, `${name} (${role}) overflows at ${size}: ${wide.join(', ')}`).toBeLessThanOrEqual(0);
  }
  return found;
}

test('an admin compiles, checks and publishes a release; a visitor downloads it', async ({ browser }) => {
  test.setTimeout(300_000);
  fs.mkdirSync(screenshotDir, { recursive: true });
  const tag = Date.now().toString(36);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tutti-datasets-'));

  // A finished campaign: three public recordings cut into clips, every clip answered twice.
  const adminContext = await browser.newContext({ acceptDownloads: true });
  const admin = await adminContext.newPage();
  const problems = watchConsole(admin);
  await signInDemo(admin, 'admin');
  const sources: string[] = [];
  for (let i = 0; i < 3; i++) {
    const name = `ds-${tag}-${i}.wav`;
    const up = await admin.request.post('/api/v1/audio', {
      multipart: { file: { name, mimeType: 'audio/wav', buffer: fs.readFileSync(writeWav(path.join(dir, name), 16_000, 20, chord())) }, public: 'true' },
    });
    expect(up.ok(), await up.text()).toBeTruthy();
    sources.push((await up.json()).id);
  }
  const campaignName = `Dataset source ${tag}`;
  const created = await admin.request.post('/api/v1/campaigns', { data: { name: campaignName, annotations_per_task: 2, instruments: ['piano', 'drums'] } });
  expect(created.status()).toBe(201);
  const campaign = (await created.json()).id as string;
  const build = await admin.request.post(`/api/v1/campaigns/${campaign}/builds`, { data: { sources: { kind: 'audio', ids: sources }, strategy: 'even', seed: 1 } });
  expect(build.status()).toBe(202);
  const job = (await build.json()).id as string;
  let clipsMade = 0;
  await expect
    .poll(async () => {
      const j = await (await admin.request.get(`/api/v1/builds/${job}`)).json();
      clipsMade = j.clips_made;
      return j.status;
    }, { timeout: 60_000 })
    .toBe('done');
  expect(clipsMade).toBeGreaterThan(2);
  for (const role of ['annotator', 'musician'] as const) {
    const context = await browser.newContext();
    const who = await context.newPage();
    await signInDemo(who, role);
    expect(await answerAll(who, campaign, clipsMade)).toBe(clipsMade);
    await context.close();
  }

  // The catalogue leads to a new dataset's page.
  await admin.goto('/datasets');
  await hydrated(admin);
  await expect(admin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Datasets' })).toHaveAttribute('href', '/datasets');
  const slug = `open-mix-${tag}`;
  const name = `Open mix ${tag}`;
  await admin.getByLabel(/^Slug/).fill(slug);
  await admin.getByLabel('Name', { exact: true }).fill(name);
  await admin.getByLabel('Description (Markdown)').fill('Clips **labelled** by the crowd.\n\nTen-second clips with piano and drums labels.');
  await admin.getByLabel('Citation').fill(`Tutti contributors (2026). ${name}. https://example.org/${slug}`);
  await admin.getByLabel('Visible to').selectOption('public');
  await admin.getByRole('button', { name: 'Create dataset' }).click();
  await expect(admin).toHaveURL(new RegExp(`/datasets/${slug}$`));
  await expect(admin.getByRole('heading', { level: 1, name })).toBeVisible();
  await expect(admin.locator('.ds-description strong')).toHaveText('labelled');
  await expect(admin.locator('.ds-citation')).toContainText(`${name}.`);

  // The form explains what is wrong, in the server's words where only it can tell.
  const form = admin.locator('form.ds-compile-form');
  await form.getByRole('button', { name: 'Compile release' }).click();
  await expect(form.getByRole('alert')).toHaveText('Choose at least one campaign to compile from.');
  await form.getByRole('checkbox', { name: new RegExp(campaignName) }).check();
  await expect(form.getByRole('checkbox', { name: 'piano' })).toBeVisible();
  await form.getByLabel(/^Threshold/).fill('0.3');
  await form.getByRole('button', { name: 'Compile release' }).click();
  await expect(form.getByRole('alert')).toContainText(/threshold/i);
  await form.getByLabel(/^Threshold/).fill('0.6');
  await form.getByLabel(/^Test share/).fill('0.34');
  await form.getByLabel(/^Tolerance/).fill('1');
  await form.getByLabel('Seed').fill('7');
  await form.getByLabel(/^Release notes/).fill('First release.');

  // Record every state the release shows, however briefly, to see the progress appear.
  await admin.evaluate(() => {
    const w = window as unknown as { dsSeen: string[] };
    w.dsSeen = [];
    const look = () => {
      for (const li of document.querySelectorAll('.ds-release[data-version="1"]')) {
        const s = `${li.getAttribute('data-state')}${li.querySelector('.ds-progress progress') ? '+progress' : ''}`;
        if (w.dsSeen[w.dsSeen.length - 1] !== s) w.dsSeen.push(s);
      }
    };
    new MutationObserver(look).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
  });
  await form.getByRole('button', { name: 'Compile release' }).click();
  await expect(form.getByRole('status')).toContainText('Version 1 is compiling');
  const release = admin.locator('.ds-release[data-version="1"]');
  await expect(release).toHaveAttribute('data-state', 'compiled', { timeout: 90_000 });
  const seen = await admin.evaluate(() => (window as unknown as { dsSeen: string[] }).dsSeen);
  expect(seen, `states shown: ${seen.join(', ')}`).toContain('compiling+progress');

  // The report: what went in, what was left out, and the prevalence per split.
  const report = release.locator('details.ds-report');
  await expect(report).toHaveAttribute('open', '');
  await expect(report).toContainText(/Included \d+ clips/);
  await expect(report).toContainText('too few answers');
  const table = report.getByRole('table');
  await expect(table.getByRole('rowheader', { name: 'piano' })).toBeVisible();
  await expect(table.getByRole('rowheader', { name: 'drums' })).toBeVisible();
  await expect(release.getByRole('link', { name: 'Download test labels' })).toBeVisible();

  // Publishing asks first, and says what it means.
  let question = '';
  admin.once('dialog', (d) => {
    question = d.message();
    void d.accept();
  });
  await release.getByRole('button', { name: 'Publish version 1' }).click();
  await expect(release).toHaveAttribute('data-state', 'published');
  expect(question).toContain('never change');
  await expect(release.getByRole('button', { name: /Delete/ })).toHaveCount(0);
  await expect(admin.getByRole('heading', { name: 'Labels in version 1' })).toBeVisible();
  await expect(admin.locator('.ds-chart svg.ds-chart-wide[role="img"]')).toBeVisible();
  await expect(admin.locator('.ds-chart rect title').first()).toContainText(/(piano|drums), (train|test): \d+ /);

  // The tar's bytes are as many as the page (and the API) say.
  const rest = await (await admin.request.get(`/api/v1/datasets/${slug}/releases/1`)).json();
  const tar = admin.locator('.ds-card a.ds-download[href$="archive.tar"]');
  await expect(tar).toHaveAttribute('data-bytes', String(rest.tar_bytes));
  const [download] = await Promise.all([admin.waitForEvent('download'), tar.click()]);
  expect(download.suggestedFilename()).toBe(`${slug}-v1.tar`);
  expect(fs.statSync((await download.path())!).size).toBe(rest.tar_bytes);

  // A second release says what changed; an unpublished one may be deleted, after confirming.
  await form.getByRole('checkbox', { name: new RegExp(campaignName) }).check();
  await form.getByLabel(/^Test share/).fill('0.34');
  await form.getByLabel(/^Tolerance/).fill('1');
  await form.getByLabel('Seed').fill('8');
  await form.getByRole('button', { name: 'Compile release' }).click();
  const second = admin.locator('.ds-release[data-version="2"]');
  await expect(second).toHaveAttribute('data-state', 'compiled', { timeout: 90_000 });
  await expect(second.locator('.ds-changes')).toContainText('What changed since version 1');
  await expect(second.locator('.ds-changes')).toContainText('seed: 7 → 8');
  await expect(second.locator('.ds-changes')).toContainText(/\d+ clips in all \(\+0: train [+-]\d+, test [+-]\d+\)/);
  admin.once('dialog', (d) => {
    question = d.message();
    void d.accept();
  });
  await second.getByRole('button', { name: 'Delete version 2' }).click();
  await expect(second).toHaveCount(0);
  expect(question).toContain('Delete version 2?');

  const found: Violation[] = [];
  found.push(...(await checkPage(admin, 'admin', 'datasets', '/datasets')));
  found.push(...(await checkPage(admin, 'admin', 'dataset', `/datasets/${slug}`)));
  expect(problems, problems.join('\n')).toEqual([]);
  await adminContext.close();

  // A signed-out visitor: the catalogue and the page, with downloads and nothing of the admin's.
  const visitorContext = await browser.newContext();
  const visitor = await visitorContext.newPage();
  const visitorProblems = watchConsole(visitor);
  await visitor.goto('/datasets');
  await hydrated(visitor);
  const entry = visitor.locator(`.ds-entry[data-dataset="${slug}"]`);
  await expect(entry.getByRole('heading', { name })).toBeVisible();
  await expect(entry).toContainText('Version 1');
  await expect(entry).toContainText('Clips labelled by the crowd.');
  await expect(entry.locator('a.ds-download[href$="archive.tar"]')).toBeVisible();
  await expect(entry.locator('a.ds-download[href$="archive.zip"]')).toBeVisible();
  await expect(visitor.getByRole('heading', { name: 'New dataset' })).toHaveCount(0);
  await entry.getByRole('link', { name, exact: true }).click();
  await expect(visitor).toHaveURL(new RegExp(`/datasets/${slug}$`));
  await expect(visitor.getByRole('heading', { level: 1, name })).toBeVisible();
  await expect(visitor.locator('.ds-card a.ds-download')).toHaveCount(2);
  await expect(visitor.getByRole('heading', { name: 'Compile a new release' })).toHaveCount(0);
  await expect(visitor.getByRole('link', { name: 'Download test labels' })).toHaveCount(0);
  const head = await visitor.request.get(`/api/v1/datasets/${slug}/releases/1/archive.zip`, { headers: { Range: 'bytes=0-3' } });
  expect(head.status()).toBe(206);

  found.push(...(await checkPage(visitor, 'signed-out', 'datasets', '/datasets')));
  found.push(...(await checkPage(visitor, 'signed-out', 'dataset', `/datasets/${slug}`)));
  const missing = await visitor.goto('/datasets/no-such-dataset');
  expect(missing?.status()).toBe(404);
  await expect(visitor.getByRole('heading', { name: 'Page not found' })).toBeVisible();
  expect(visitorProblems.filter((p) => !p.includes('404')), visitorProblems.join('\n')).toEqual([]);
  await visitorContext.close();

  if (found.length) console.log(describeViolations(found));
  expect(found.filter(blocking), describeViolations(found.filter(blocking))).toEqual([]);
});
