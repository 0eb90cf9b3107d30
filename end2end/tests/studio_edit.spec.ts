import { test, expect, Page } from '@playwright/test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hydrated, signInDemo, sine, writeWav } from './helpers';

/** A composition with one track, made over REST; returns the page's path and the track's id. */
async function compositionWithTrack(page: Page, title: string, seconds = 2): Promise<{ url: string; trackId: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tutti-edit-'));
  const wav = writeWav(path.join(dir, 'bass.wav'), 16_000, seconds, sine(110 + seconds, 0.25));
  const up = await page.request.post('/api/v1/audio', {
    multipart: { file: { name: 'bass.wav', mimeType: 'audio/wav', buffer: fs.readFileSync(wav) } },
  });
  expect(up.ok()).toBeTruthy();
  const audio = await up.json();
  const c = await (await page.request.post('/api/v1/compositions', { data: { title } })).json();
  const t = await page.request.post(`/api/v1/compositions/${c.id}/tracks`, {
    data: { audio_id: audio.id, name: 'Bass', instrument: 'bass', offset_frames: 0, is_master: false },
  });
  expect(t.ok()).toBeTruthy();
  return { url: `/studio/${c.id}`, trackId: (await t.json()).id };
}

/** Opens the composition's settings panel unless it is open already. */
async function openSettings(page: Page) {
  const details = page.locator('details.settings');
  if ((await details.getAttribute('open')) === null) await details.locator('summary').click();
  await expect(details).toHaveAttribute('open', '');
}

test('mixer values on the page stay what the server holds after each save', async ({ page }) => {
  await signInDemo(page, 'musician');
  const { url, trackId } = await compositionWithTrack(page, 'Mixer check');
  const stored = async () => (await (await page.request.get(`/api/v1/tracks/${trackId}`)).json()) as { gain_db: number; pan: number };
  await page.goto(url);
  await hydrated(page);
  const lane = page.locator('.lane[data-track="Bass"]');
  const gain = lane.getByLabel('Gain');
  const pan = lane.getByLabel('Pan');

  // Three presses of ← from 0 dB in 0.5 dB steps, each one saved and the lanes redrawn.
  await gain.focus();
  for (let i = 1; i <= 3; i++) {
    const saved = page.waitForResponse((r) => r.url().includes('/api/get_composition'));
    await page.keyboard.press('ArrowLeft');
    await saved;
    await expect.poll(async () => (await stored()).gain_db).toBe(-0.5 * i);
    await expect(lane.getByLabel('Gain')).toHaveValue(String(-0.5 * i));
    await expect(lane.getByLabel('Gain')).toBeFocused();
  }
  await expect(lane.locator('.mixer output').first()).toHaveText('−1.5 dB');

  // A value far from the middle (−24 dB, pan 0.75) is shown as such after the redraw.
  await page.request.patch(`/api/v1/tracks/${trackId}`, { data: { gain_db: -24, pan: 0.75 } });
  await page.reload();
  await hydrated(page);
  await expect(gain).toHaveValue('-24');
  await expect(pan).toHaveValue('0.75');
  await pan.focus();
  const saved = page.waitForResponse((r) => r.url().includes('/api/get_composition'));
  await page.keyboard.press('ArrowLeft');
  await saved;
  await expect.poll(async () => (await stored()).pan).toBeCloseTo(0.7, 9);
  await expect(lane.getByLabel('Pan')).toHaveValue('0.7');
  await expect(lane.getByLabel('Gain')).toHaveValue('-24');
  expect((await stored()).gain_db).toBe(-24);
});

test('a track needs a stated instrument, and a private file in a public composition is heard there, never downloaded', async ({ browser }) => {
  const page = await browser.newPage();
  await signInDemo(page, 'musician');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tutti-share-'));
  const wav = writeWav(path.join(dir, 'my-secret-demo.wav'), 16_000, 2, sine(220, 0.25));
  const up = await page.request.post('/api/v1/audio', {
    multipart: { file: { name: 'my-secret-demo.wav', mimeType: 'audio/wav', buffer: fs.readFileSync(wav) } },
  });
  const audio = await up.json();
  expect(audio.is_public).toBe(false);
  const c = await (await page.request.post('/api/v1/compositions', { data: { title: 'Open rehearsal', visibility: 'public' } })).json();
  await page.goto(`/studio/${c.id}`);
  await hydrated(page);
  // Before the track is added, the page says who will hear it.
  await expect(page.locator('#track-audience')).toContainText('Everyone will hear the tracks of this composition');
  await page.locator('#track-audio').selectOption(audio.id);
  await page.locator('#track-name').fill('Demo');
  // No instrument is preselected: adding without one asks for it.
  await expect(page.locator('#track-instrument')).toHaveValue('');
  await page.getByRole('button', { name: 'Add track' }).click();
  await expect(page.locator('.lane[data-track="Demo"]')).toHaveCount(0);
  await page.locator('#track-instrument').selectOption('unknown');
  await page.getByRole('button', { name: 'Add track' }).click();
  await expect(page.locator('.lane[data-track="Demo"]')).toContainText('unknown');

  // My audio says where the file is heard.
  await page.goto('/library');
  const card = page.locator(`.audio-card[data-audio-id="${audio.id}"]`);
  await expect(card.locator('.shared-in')).toContainText('Open rehearsal');
  await expect(card.locator('.shared-in')).toContainText('everyone hears it');
  await expect(card.locator('.shared-in')).toContainText('The file itself stays private');

  // A signed-out visitor hears the track, and gets neither the file nor its name.
  const visitor = await browser.newContext();
  const anon = visitor.request;
  expect((await anon.get(`/api/v1/audio/${audio.id}/canonical`)).status()).toBe(200);
  expect((await anon.get(`/api/v1/audio/${audio.id}/original`)).status()).toBe(404);
  const record = await (await anon.get(`/api/v1/audio/${audio.id}`)).json();
  expect(JSON.stringify(record)).not.toContain('my-secret-demo');
  expect(record.sha256).toBe('');
  await visitor.close();
});

test('following a link while a take is recorded asks first, and staying keeps the take going', async ({ page }) => {
  test.setTimeout(120_000);
  await signInDemo(page, 'musician');
  const { url } = await compositionWithTrack(page, 'Guarded take');
  await page.goto(url);
  await hydrated(page);
  await page.locator('#record-arm').click();
  await expect(page.locator('#record-device')).toBeVisible();
  await page.locator('#take-instrument').selectOption('voice');
  await page.locator('#record-limit').fill('30');
  await page.locator('#record-start').click();
  const recorder = page.locator('section.recorder');
  await expect(recorder).toHaveAttribute('data-phase', 'recording', { timeout: 20_000 });

  // Declined: the page, and the take, stay.
  let asked = '';
  page.once('dialog', (d) => { asked = d.message(); void d.dismiss(); });
  await page.locator('header').getByRole('link', { name: 'Studio', exact: true }).click();
  await expect.poll(() => asked).toContain('A take is being recorded');
  await expect(page).toHaveURL(new RegExp(`${url}$`));
  await expect(recorder).toHaveAttribute('data-phase', 'recording');

  // Accepted: the link is followed.
  page.once('dialog', (d) => void d.accept());
  await page.locator('header').getByRole('link', { name: 'Studio', exact: true }).click();
  await expect(page).toHaveURL(/\/studio$/);
});

test('the first take recorded is Take 1, whatever else the composition holds', async ({ page }) => {
  await signInDemo(page, 'musician');
  const { url } = await compositionWithTrack(page, 'Counting takes');
  await page.goto(url);
  await hydrated(page);
  await expect(page.locator('#take-name')).toHaveValue('Take 1');
});

test('Play waits for the player to load, and the timeline follows the playhead at high zoom', async ({ page }) => {
  test.setTimeout(120_000);
  await signInDemo(page, 'musician');
  const { url } = await compositionWithTrack(page, 'Long guide', 12);
  // Hold the page's WebAssembly back: until it runs, Play can do nothing and must say so.
  let release = () => {};
  const held = new Promise<void>((r) => (release = r));
  await page.route('**/*.wasm', async (route) => {
    await held;
    await route.continue();
  });
  await page.goto(url);
  const play = page.locator('.transport').getByRole('button', { name: /^Play/ });
  await expect(play).toBeDisabled();
  release();
  await hydrated(page);
  await expect(play).toBeEnabled();

  // At 200 px a second, 12 s run far past the screen: the timeline turns pages as it plays.
  await page.locator('label.zoom input').fill('200');
  await play.click();
  await expect.poll(async () => parseFloat((await page.locator('.transport .position').textContent())!), { timeout: 20_000 }).toBeGreaterThan(8);
  const timeline = (await page.locator('.timeline').boundingBox())!;
  const head = (await page.locator('.playhead').boundingBox())!;
  expect(head.x).toBeGreaterThanOrEqual(timeline.x);
  expect(head.x).toBeLessThanOrEqual(timeline.x + timeline.width);
});

test('tracks are renamed, re-labelled and removed, and the composition is set up and deleted, on its page', async ({ page }) => {
  test.setTimeout(120_000);
  await signInDemo(page, 'musician');
  const { url, trackId } = await compositionWithTrack(page, 'Settings check');
  const compositionId = url.split('/').pop();
  await page.goto(url);
  await hydrated(page);

  // The track: a new name and instrument, saved and shown.
  await page.getByRole('button', { name: 'Edit track Bass' }).click();
  await page.locator(`#track-${trackId}-name`).fill('Bass line');
  await page.locator(`#track-${trackId}-instrument`).selectOption('cello');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  const lane = page.locator('.lane[data-track="Bass line"]');
  await expect(lane).toContainText('cello');
  const track = await (await page.request.get(`/api/v1/tracks/${trackId}`)).json();
  expect([track.name, track.instrument]).toEqual(['Bass line', 'cello']);

  // The composition's settings.
  await openSettings(page);
  await page.locator('#settings-title').fill('Settings checked');
  await page.locator('#settings-tempo').fill('132');
  await page.locator('#settings-beats').fill('3');
  await page.locator('#settings-visibility').selectOption('public');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByRole('heading', { name: 'Settings checked' })).toBeVisible();
  const c = await (await page.request.get(`/api/v1/compositions/${compositionId}`)).json();
  expect([c.title, c.tempo_bpm, c.meter_beats, c.visibility]).toEqual(['Settings checked', 132, 3, 'public']);
  // A value out of range is refused with the reason, and nothing changes.
  await openSettings(page);
  await page.locator('#settings-tempo').fill('1000');
  await page.getByRole('button', { name: 'Save settings' }).click();
  // The browser holds the form back (the field says its range); the server would refuse it too.
  await expect(page.locator('#settings-tempo:invalid')).toHaveCount(1);
  expect((await (await page.request.get(`/api/v1/compositions/${compositionId}`)).json()).tempo_bpm).toBe(132);

  // Removing the track asks first; declined, it stays.
  await page.getByRole('button', { name: 'Edit track Bass line' }).click();
  page.once('dialog', (d) => void d.dismiss());
  await page.getByRole('button', { name: 'Remove track' }).click();
  await expect(lane).toBeVisible();
  page.once('dialog', (d) => void d.accept());
  await page.getByRole('button', { name: 'Remove track' }).click();
  await expect(page.locator('.lane')).toHaveCount(0);
  expect((await page.request.get(`/api/v1/tracks/${trackId}`)).status()).toBe(404);

  // Deleting the composition asks, then leads back to the studio.
  await openSettings(page);
  page.once('dialog', (d) => void d.accept());
  await page.getByRole('button', { name: 'Delete composition' }).click();
  await expect(page).toHaveURL(/\/studio$/);
  expect((await page.request.get(`/api/v1/compositions/${compositionId}`)).status()).toBe(404);
});

test('the mixdown plays on the page, and says when the tracks changed since it was rendered', async ({ page }) => {
  test.setTimeout(120_000);
  await signInDemo(page, 'musician');
  const { url, trackId } = await compositionWithTrack(page, 'Mixed song');
  const compositionId = url.split('/').pop();
  const asked = await page.request.post(`/api/v1/compositions/${compositionId}/mixdown`);
  expect(asked.status()).toBe(202);
  const job = asked.headers()['location'];
  await expect.poll(async () => (await (await page.request.get(job)).json()).state, { timeout: 60_000 }).toBe('done');
  await page.goto(url);
  await hydrated(page);
  const player = page.getByLabel('The mixdown');
  await expect(player).toBeVisible();
  await player.evaluate((a: HTMLAudioElement) => { a.preload = 'metadata'; a.load(); });
  await expect.poll(() => player.evaluate((a: HTMLAudioElement) => a.duration), { timeout: 15_000 }).toBeCloseTo(2, 1);
  await expect(page.locator('.mix-stale')).toHaveCount(0);
  // A change to the mix makes the rendered one out of date, and the page says so.
  await page.request.patch(`/api/v1/tracks/${trackId}`, { data: { gain_db: -6 } });
  await page.reload();
  await hydrated(page);
  await expect(page.locator('.mix-stale')).toContainText('out of date');
});

test('Undo takes back the latest track edits saved on the page, one at a time', async ({ page }) => {
  await signInDemo(page, 'musician');
  const { url, trackId } = await compositionWithTrack(page, 'Undo song');
  const stored = async () => (await (await page.request.get(`/api/v1/tracks/${trackId}`)).json()) as { gain_db: number; mute: boolean };
  await page.goto(url);
  await hydrated(page);
  const lane = page.locator('.lane[data-track="Bass"]');
  const undo = page.getByRole('button', { name: /^Undo/ });
  await expect(undo).toBeDisabled();
  await lane.getByLabel('Gain').focus();
  await page.keyboard.press('ArrowLeft');
  await expect.poll(async () => (await stored()).gain_db).toBe(-0.5);
  await lane.getByRole('button', { name: 'M' }).click();
  await expect.poll(async () => (await stored()).mute).toBe(true);
  await expect(undo).toHaveText('Undo mute');
  await undo.click();
  await expect.poll(async () => (await stored()).mute).toBe(false);
  await expect(undo).toHaveText('Undo gain');
  await page.locator('h1').click();
  await page.keyboard.press('Control+z');
  await expect.poll(async () => (await stored()).gain_db).toBe(0);
  await expect(lane.getByLabel('Gain')).toHaveValue('0');
  await expect(undo).toBeDisabled();
});

test('the owner changes a member\'s role and removes them on the page', async ({ browser }) => {
  test.setTimeout(120_000);
  const owner = await browser.newPage();
  await signInDemo(owner, 'musician');
  const { url } = await compositionWithTrack(owner, 'Band room');
  const compositionId = url.split('/').pop();
  const link = await (await owner.request.post(`/api/v1/compositions/${compositionId}/invitations`, { data: { role: 'viewer' } })).json();
  const guestContext = await browser.newContext();
  const guest = await guestContext.newPage();
  await signInDemo(guest, 'annotator');
  const accepted = await guest.request.post(`/api/v1/invitations/${link.path.split('/').pop()}/accept`);
  expect(accepted.ok()).toBeTruthy();
  const roleOf = async () => {
    const members = await (await owner.request.get(`/api/v1/compositions/${compositionId}/members`)).json();
    return members.find((m: { display_name: string }) => m.display_name === 'Demo Annotator')?.role ?? null;
  };
  expect(await roleOf()).toBe('viewer');

  await owner.goto(url);
  await hydrated(owner);
  await owner.getByRole('combobox', { name: 'Demo Annotator' }).selectOption('editor');
  await expect.poll(roleOf).toBe('editor');
  await expect(owner.getByRole('combobox', { name: 'Demo Annotator' })).toHaveValue('editor');
  owner.once('dialog', (d) => void d.accept());
  await owner.getByRole('button', { name: 'Remove Demo Annotator' }).click();
  await expect.poll(roleOf).toBe(null);
  await expect(owner.getByRole('button', { name: 'Remove Demo Annotator' })).toHaveCount(0);
  await guestContext.close();
});
