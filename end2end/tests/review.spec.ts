import { test, expect, type Page } from '@playwright/test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hydrated, signInDemo, watchConsole, writeWav } from './helpers';

/** A two-tone chord at a random pitch, so no clip is silent and no upload repeats an earlier one. */
function chord(): (t: number) => number {
  const f = 200 + Math.random() * 200;
  return (t) => 0.18 * (Math.sin(2 * Math.PI * f * t) + Math.sin(2 * Math.PI * 1.5 * f * t));
}

/** Answer the next task of `campaign` through the REST API, skipping other campaigns' tasks. */
async function answer(page: Page, campaign: string, answers: Record<string, string>): Promise<string> {
  for (let i = 0; i < 40; i++) {
    const next = await page.request.post('/api/v1/annotate/next');
    expect(next.status()).toBe(200);
    const a = await next.json();
    if (a.campaign_id !== campaign) {
      expect((await page.request.delete(`/api/v1/tasks/${a.task_id}/lease`)).status()).toBe(204);
      continue;
    }
    const res = await page.request.post(`/api/v1/tasks/${a.task_id}/annotations`, {
      data: { client_id: `review-${a.task_id}`, answers, play_count: 1, listening_ms: 9000, time_to_submit_ms: 12000 },
    });
    expect(res.status()).toBe(201);
    return a.task_id;
  }
  throw new Error('no task of the campaign was served');
}

test('an admin reviews disputed answers, edits a campaign and closes it after confirming', async ({ browser }) => {
  test.setTimeout(120_000);
  const tag = Date.now().toString(36);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tutti-review-'));
  const admin = await browser.newPage();
  const problems = watchConsole(admin);
  await signInDemo(admin, 'admin');
  for (const [name, seconds] of [[`keep-${tag}.wav`, 20], [`other-${tag}.wav`, 12]] as const) {
    const up = await admin.request.post('/api/v1/audio', {
      multipart: { file: { name, mimeType: 'audio/wav', buffer: fs.readFileSync(writeWav(path.join(dir, name), 16_000, seconds, chord())) } },
    });
    expect(up.status()).toBe(201);
  }
  const name = `Review ${tag}`;
  const created = await admin.request.post('/api/v1/campaigns', {
    data: { name, annotations_per_task: 2, instruments: ['piano', 'drums'] },
  });
  expect(created.status()).toBe(201);
  const campaign = (await created.json()).id as string;

  // The source picker: the search narrows the list; "select all (shown)" ticks what is left.
  await admin.goto('/admin/campaigns');
  await hydrated(admin);
  let card = admin.locator(`section.campaign[data-campaign="${name}"]`);
  await expect(card).toBeVisible();
  await expect(card.locator('.source-item', { hasText: `other-${tag}.wav` })).toBeVisible();
  await card.getByLabel('Search sources by name').fill(`keep-${tag}`);
  await expect(card.locator('.source-item:visible')).toHaveCount(1);
  await expect(card.locator('.source-item:visible')).toContainText(`keep-${tag}.wav`);
  await expect(card.locator('.source-item:visible audio')).toHaveCount(1);
  await card.getByRole('button', { name: 'Select all (shown)' }).click();
  await expect(card.locator('.source-picker [role="status"]')).toHaveText('1 ticked · 1 shown');
  await card.getByRole('button', { name: 'Build tasks' }).click();
  await expect(card.locator('.job')).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
  await expect(card.locator('.job')).toContainText('2 clips made');

  // Two annotators answer the same clip differently (most-answered tasks are served first).
  const first = await (await browser.newContext()).newPage();
  await signInDemo(first, 'annotator');
  const second = await (await browser.newContext()).newPage();
  await signInDemo(second, 'musician');
  const task = await answer(first, campaign, { piano: 'present', drums: 'absent' });
  expect(await answer(second, campaign, { piano: 'absent', drums: 'absent' })).toBe(task);

  // "Disputed" shows that task alone, with A1's and A2's answers and the split consensus.
  await admin.reload();
  await hydrated(admin);
  await card.getByRole('button', { name: 'Tasks and gold answers' }).click();
  const table = card.getByRole('table', { name: 'Answers per task' });
  await expect(table.locator('tbody tr')).toHaveCount(2);
  await card.locator('select.review-filter').selectOption('disputed');
  await expect(card.locator('.task-list')).toContainText('Tasks 1–1 of 1');
  const row = table.locator('tbody tr');
  await expect(row).toHaveCount(1);
  await expect(row).toHaveAttribute('data-task', task);
  await expect(table.locator('thead')).toContainText('A1');
  await expect(table.locator('thead')).toContainText('A2');
  await expect(row.locator('[data-annotator="A1"][data-instrument="piano"]')).toHaveText('present');
  await expect(row.locator('[data-annotator="A2"][data-instrument="piano"]')).toHaveText('absent');
  await expect(row.locator('[data-consensus="piano"]')).toHaveText('tie 50%');
  await expect(row.locator('[data-consensus="drums"]')).toHaveText('absent 100%');
  await expect(table).not.toContainText('Demo Annotator');
  await card.locator('select.review-filter').selectOption('gold');
  await expect(card.locator('.task-list')).toContainText('No tasks here.');

  // Settings: a mistake is explained in an alert; a new name is saved.
  await card.getByRole('button', { name: 'Settings' }).click();
  const settings = card.locator('form.settings-form');
  await settings.getByLabel('Name').fill('');
  await settings.getByRole('button', { name: 'Save settings' }).click();
  await expect(settings.getByRole('alert')).toHaveText('Give the campaign a name.');
  await settings.getByLabel('Name').fill(`${name} (renamed)`);
  await settings.getByLabel('Gold rate').fill('0.9');
  await settings.getByRole('button', { name: 'Save settings' }).click();
  await expect(settings.getByRole('alert')).toBeVisible();
  await settings.getByLabel('Gold rate').fill('0.1');
  await settings.getByRole('button', { name: 'Save settings' }).click();
  card = admin.locator(`section.campaign[data-campaign="${name} (renamed)"]`);
  await expect(card).toBeVisible();
  await expect(card).toContainText('gold rate 0.1');

  // Closing asks first: declining leaves it open; accepting closes it.
  let asked = '';
  admin.once('dialog', (d) => { asked = d.message(); void d.dismiss(); });
  await card.getByRole('button', { name: 'Close campaign' }).click();
  await expect.poll(() => asked).toContain('Annotators will stop getting its tasks');
  await expect(card.locator('.badge').first()).toHaveText('Open');
  expect((await (await admin.request.get(`/api/v1/campaigns/${campaign}`)).json()).is_open).toBe(true);
  admin.once('dialog', (d) => void d.accept());
  await card.getByRole('button', { name: 'Close campaign' }).click();
  await expect(card.locator('.badge').first()).toHaveText('Closed');
  await expect(card.getByRole('button', { name: 'Reopen campaign' })).toBeVisible();
  expect(problems).toEqual([]);
});
