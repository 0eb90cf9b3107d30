import { test, expect } from '@playwright/test';
import { hydrated, signInDemo, watchConsole } from './helpers';

test('the start page hydrates without console errors or CSP violations', async ({ page }) => {
  const problems = watchConsole(page);
  await page.goto('/');
  await hydrated(page);
  await expect(page.getByRole('heading', { name: 'Make music data together' })).toBeVisible();
  await page.getByRole('link', { name: 'Instruments' }).first().click();
  await expect(page.getByRole('heading', { name: 'Instrument taxonomy' })).toBeVisible();
  await expect(page.locator('.family li')).toHaveCount(20);
  expect(problems).toEqual([]);
});

test('an unknown address shows the 404 page', async ({ page }) => {
  const res = await page.goto('/there/is/nothing/here');
  expect(res?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
});

test('API tokens are created and revoked from the profile page in place', async ({ page }) => {
  const problems = watchConsole(page);
  await signInDemo(page, 'musician');
  await page.goto('/profile');
  await hydrated(page);
  await page.getByLabel('Name').fill('e2e script');
  await page.getByRole('button', { name: 'Create token' }).click();
  const secret = page.locator('code.secret');
  await expect(secret).toHaveText(/^tutti_/);
  const token = (await secret.textContent())!;
  await expect(page.getByRole('cell', { name: 'e2e script' })).toBeVisible();

  // The token works for a script, with no cookie.
  const me = await page.request.get('/api/v1/me', { headers: { Authorization: `Bearer ${token}`, Cookie: '' } });
  expect(me.status()).toBe(200);

  await page.getByRole('button', { name: 'Revoke' }).click();
  await expect(page.getByText('No tokens yet.')).toBeVisible();
  expect(problems).toEqual([]);
});

test('the profile menu closes once a link in it has been followed', async ({ page }) => {
  await signInDemo(page, 'admin');
  await hydrated(page);
  const menu = page.locator('details.profile-menu');
  await menu.locator('summary').click();
  await expect(menu).toHaveAttribute('open', '');
  await menu.getByRole('link', { name: 'Users' }).click();
  await expect(page).toHaveURL(/\/admin\/users$/);
  await expect(menu).not.toHaveAttribute('open', /.*/);
  // On a phone only the initial shows; the menu button is still named for screen readers.
  await page.setViewportSize({ width: 390, height: 844 });
  await expect(menu.locator('summary')).toHaveAccessibleName('Demo Admin');
});
