import { expect, type Browser, type Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { signInDemo, writeWav } from './helpers';

export type Role = 'signed-out' | 'musician' | 'annotator' | 'admin';

/** Screenshots go outside the clone so they never end up in a commit; each run overwrites the last. */
export const screenshotDir = process.env.TUTTI_SCREENSHOTS ?? path.join(os.homedir(), '.cache/tutti/screenshots');

export const viewports = [
  { width: 1280, height: 800 },
  { width: 390, height: 844 },
] as const;

/** The ids a page address needs, made once before the pages are visited. */
export interface Fixtures {
  compositionId: string;
  collectionId: string;
  inviteToken: string;
  /** The composition's guide: the musician's own file, heard by others as a track. */
  audioId: string;
}

/** Every page the router knows, plus the fallback, by a short name used in file names. */
export function pages(f: Fixtures): { name: string; path: string }[] {
  return [
    { name: 'home', path: '/' },
    { name: 'signin', path: '/signin' },
    { name: 'profile', path: '/profile' },
    { name: 'instruments', path: '/instruments' },
    { name: 'upload', path: '/upload' },
    { name: 'annotate', path: '/annotate' },
    { name: 'studio', path: '/studio' },
    { name: 'collection', path: `/studio/collections/${f.collectionId}` },
    { name: 'composition', path: `/studio/${f.compositionId}` },
    { name: 'invite', path: `/invite/${f.inviteToken}` },
    { name: 'library', path: '/library' },
    { name: 'audio', path: `/library/${f.audioId}` },
    { name: 'admin-users', path: '/admin/users' },
    { name: 'admin-campaigns', path: '/admin/campaigns' },
    { name: 'admin-instruments', path: '/admin/instruments' },
    { name: 'not-found', path: '/there/is/nothing/here' },
  ];
}

/** A two-tone chord, so no clip is silent. */
const chord = (t: number) => 0.18 * (Math.sin(2 * Math.PI * 220 * t) + Math.sin(2 * Math.PI * 330 * t));

async function upload(page: Page, file: string): Promise<string> {
  const res = await page.request.post('/api/v1/audio', {
    multipart: { file: { name: path.basename(file), mimeType: 'audio/wav', buffer: fs.readFileSync(file) } },
  });
  // 201 for new bytes, 200 when another spec of the run uploaded the same ones first.
  expect(res.ok(), `upload: ${res.status()}`).toBeTruthy();
  return (await res.json()).id;
}

async function post(page: Page, url: string, data: unknown) {
  const res = await page.request.post(url, { data });
  expect(res.ok(), `${url}: ${res.status()} ${await res.text()}`).toBeTruthy();
  return res.json();
}

/**
 * Fills every page with something to show: a campaign with clips to annotate (by the admin), and
 * a public collection holding a public composition with one track and an open invitation (by the
 * musician), so pages with an id in their address render their real content for every role.
 * Names differ from other specs' so a full run never picks up their private objects. What an
 * earlier worker made is reused: a failed test restarts the worker, and with it this setup.
 */
export async function makeFixtures(browser: Browser): Promise<Fixtures> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tutti-pages-'));

  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  await signInDemo(admin, 'admin');
  const campaigns = await (await admin.request.get('/api/v1/campaigns')).json();
  if (!JSON.stringify(campaigns).includes('"Page tour clips"')) await makeCampaign(admin, dir);
  await adminContext.close();

  const musicianContext = await browser.newContext();
  const musician = await musicianContext.newPage();
  await signInDemo(musician, 'musician');
  const compositions: { id: string; title: string; collection_id: string | null }[] = await (await musician.request.get('/api/v1/compositions')).json();
  const composition = compositions.find((c) => c.title === 'Page tour song') ?? (await makeComposition(musician, dir));
  const invitation = await post(musician, `/api/v1/compositions/${composition.id}/invitations`, { role: 'contributor' });
  const tracks: { audio_id: string }[] = await (await musician.request.get(`/api/v1/compositions/${composition.id}/tracks`)).json();
  await musicianContext.close();

  return { compositionId: composition.id, collectionId: composition.collection_id!, inviteToken: invitation.token, audioId: tracks[0].audio_id };
}

async function makeCampaign(admin: Page, dir: string) {
  const clipSource = await upload(admin, writeWav(path.join(dir, 'ensemble.wav'), 16_000, 40, chord));
  const campaign = await post(admin, '/api/v1/campaigns', { name: 'Page tour clips', annotations_per_task: 2 });
  const job = await post(admin, `/api/v1/campaigns/${campaign.id}/builds`, {
    sources: { kind: 'audio', ids: [clipSource] },
    strategy: 'even',
    seed: 1,
  });
  await expect
    .poll(async () => (await (await admin.request.get(`/api/v1/builds/${job.id}`)).json()).status, { timeout: 60_000 })
    .toBe('done');
}

async function makeComposition(musician: Page, dir: string) {
  const guide = await upload(musician, writeWav(path.join(dir, 'guide.wav'), 16_000, 8, chord));
  const collection = await post(musician, '/api/v1/collections', { title: 'Page tour', description: 'Sketches for the spring concert', visibility: 'public' });
  const composition = await post(musician, '/api/v1/compositions', {
    title: 'Page tour song',
    description: 'A slow song in D minor',
    collection_id: collection.id,
    tempo_bpm: 90,
    visibility: 'public',
  });
  await post(musician, `/api/v1/compositions/${composition.id}/tracks`, { audio_id: guide, name: 'Guide', instrument: 'guitar', is_master: true });
  return composition;
}

export interface Violation {
  role: Role;
  page: string;
  viewport: string;
  rule: string;
  impact: string;
  help: string;
  targets: string[];
}

/** What a user would be blocked or badly hindered by; the rest is reported but does not fail. */
export const blocking = (v: Violation) => v.impact === 'serious' || v.impact === 'critical';

/** Runs axe on the page as it stands. */
export async function axeViolations(page: Page, role: Role, name: string, viewport: string): Promise<Violation[]> {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations.map((v) => ({
    role,
    page: name,
    viewport,
    rule: v.id,
    impact: v.impact ?? 'unknown',
    help: v.help,
    targets: v.nodes.map((n) => n.target.map(String).join(' ')),
  }));
}

export function describeViolations(vs: Violation[]): string {
  return vs
    .map((v) => `[${v.impact}] ${v.rule} on ${v.page} (${v.role}, ${v.viewport}): ${v.help}\n${v.targets.map((t) => `    ${t}`).join('\n')}`)
    .join('\n');
}
