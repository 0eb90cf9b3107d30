import { test, expect, type Page } from '@playwright/test';
import { hydrated, signInDemo, watchConsole } from './helpers';

/** Sign in with the demo button on the sign-in page already open, so its `next` is kept. */
async function signInDemoHere(page: Page, role: 'musician' | 'annotator' | 'admin') {
  await expect(page).toHaveURL(/\/signin\?/);
  await page.getByRole('button', { name: new RegExp(`^${role}$`, 'i') }).click();
  await expect(page.locator('.profile-menu .user-name')).toHaveText(`Demo ${role[0].toUpperCase()}${role.slice(1)}`);
}

/** A private composition owned by the signed-in `page`; its id. */
async function privateComposition(page: Page, title: string): Promise<string> {
  const res = await page.request.post('/api/v1/compositions', { data: { title, visibility: 'private' } });
  expect(res.ok(), `${res.status()} ${await res.text()}`).toBeTruthy();
  return (await res.json()).id;
}

test('an invitation link is copied whole, and a signed-out recipient signs in and comes back to it', async ({ browser, baseURL }) => {
  // Several debug-build hydrations on a busy machine.
  test.setTimeout(120_000);
  const ownerContext = await browser.newContext({ permissions: ['clipboard-read', 'clipboard-write'] });
  const owner = await ownerContext.newPage();
  const problems = watchConsole(owner);
  await signInDemo(owner, 'musician');
  const id = await privateComposition(owner, 'Moonlit secret');
  await owner.goto(`/studio/${id}`);
  await hydrated(owner);

  await owner.locator('#invite-role').selectOption('contributor');
  await owner.getByRole('button', { name: 'Create invitation link' }).click();
  const field = owner.getByLabel('Invitation link');
  await expect(field).toHaveValue(new RegExp(`^${baseURL}/invite/[A-Za-z0-9_-]+$`));
  await expect(field).toHaveAttribute('readonly', '');
  const link = await field.inputValue();
  await expect(owner.locator('.invitation-created')).toContainText('contributor');
  await expect(owner.locator('.invitation-created')).toContainText('once');

  const said = owner.locator('.invitation-created [aria-live="polite"]');
  await owner.getByRole('button', { name: 'Copy link' }).click();
  await expect(said).toHaveText('Copied');
  expect(await owner.evaluate(() => navigator.clipboard.readText())).toBe(link);

  // Where the clipboard is refused, the link is selected for the person to copy by hand.
  await owner.evaluate(() => {
    Object.defineProperty(navigator.clipboard, 'writeText', {
      value: () => Promise.reject(new DOMException('refused', 'NotAllowedError')),
    });
  });
  await owner.getByRole('button', { name: 'Copy link' }).click();
  await expect(said).toContainText('the link is selected');
  expect(
    await field.evaluate((el: HTMLInputElement) => [document.activeElement === el, el.selectionStart, el.selectionEnd]),
  ).toEqual([true, 0, link.length]);
  expect(problems).toEqual([]);

  // The recipient, signed out, opens the link.
  const guestContext = await browser.newContext();
  const guest = await guestContext.newPage();
  const opened = await guest.goto(link);
  expect(opened?.status()).toBe(401);
  await hydrated(guest);
  const card = guest.locator('main .card');
  await expect(card).toContainText('You have been invited to a composition on Tutti.');
  await expect(card).toContainText('Sign in to see the invitation and accept it.');
  await expect(card).not.toContainText('Moonlit secret');
  await card.getByRole('link', { name: 'Sign in to accept' }).click();
  await signInDemoHere(guest, 'annotator');
  await expect(guest).toHaveURL(new URL(link).pathname);
  await hydrated(guest);
  await expect(guest.locator('main .card')).toContainText('“Moonlit secret” as contributor');
  await guest.getByRole('button', { name: 'Accept invitation' }).click();
  await expect(guest.getByRole('heading', { name: 'Moonlit secret' })).toBeVisible();
  await expect(guest.locator('.composition-page')).toHaveAttribute('data-role', 'contributor');
  await ownerContext.close();
  await guestContext.close();
});

test('signing in with OAuth from an invitation also comes back to it', async ({ browser }) => {
  test.setTimeout(90_000);
  const owner = await browser.newPage();
  await signInDemo(owner, 'musician');
  const id = await privateComposition(owner, 'Harbour lights');
  const inv = await owner.request.post(`/api/v1/compositions/${id}/invitations`, { data: { role: 'viewer' } });
  expect(inv.ok()).toBeTruthy();
  const path = (await inv.json()).path as string;

  const guestContext = await browser.newContext();
  const guest = await guestContext.newPage();
  await guest.goto(path);
  await guest.locator('main .card').getByRole('link', { name: 'Sign in to accept' }).click();
  await guest.getByRole('link', { name: 'Sign in with Google' }).click();
  await expect(guest.getByRole('heading', { name: 'Mock sign-in' })).toBeVisible();
  await guest.locator('#email').fill('lin@example.org');
  await guest.locator('#name').fill('Lin Invited');
  await guest.getByRole('button', { name: 'Sign in' }).click();
  await expect(guest).toHaveURL(path);
  await expect(guest.locator('main .card')).toContainText('“Harbour lights” as viewer');
  await guestContext.close();
});
