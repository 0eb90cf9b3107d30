import { test, expect } from '@playwright/test';
import { hydrated, signInDemo, signInOAuth, signOut, watchConsole } from './helpers';

test('OAuth sign-in through the provider shows the name, and sign-out ends it', async ({ page }) => {
  const problems = watchConsole(page);
  await signInOAuth(page, 'ada@example.org', 'Ada Lovelace');
  await expect(page.getByText('Welcome back')).toContainText('Ada Lovelace');
  await signOut(page);
  await page.goto('/profile');
  await expect(page.getByRole('heading', { name: 'Please sign in' })).toBeVisible();
  expect(problems).toEqual([]);
});

test('a configured admin e-mail signs in as admin', async ({ page }) => {
  await signInOAuth(page, 'grace@example.org', 'Grace Hopper');
  await page.locator('.profile-menu summary').click();
  await expect(page.locator('.profile-menu .badge')).toHaveText('Admin');
});

test('declining at the provider shows a clear error page', async ({ page }) => {
  await page.goto('/signin');
  await page.getByRole('link', { name: 'Sign in with Google' }).click();
  await page.getByRole('button', { name: 'Deny' }).click();
  await expect(page.getByRole('heading', { name: 'Sign-in was not completed' })).toBeVisible();
  await expect(page.locator('.status-code')).toHaveText('401');
  await page.goto('/');
  await expect(page.getByRole('link', { name: 'Sign in', exact: true })).toBeVisible();
});

for (const role of ['musician', 'annotator', 'admin'] as const) {
  test(`demo sign-in as ${role}`, async ({ page }) => {
    const problems = watchConsole(page);
    await signInDemo(page, role);
    await hydrated(page);
    await page.locator('.profile-menu summary').click();
    const usersLink = page.getByRole('link', { name: 'Users' });
    if (role === 'admin') {
      await usersLink.click();
      await expect(page.getByRole('heading', { name: 'Users' })).toBeVisible();
      await expect(page.getByRole('cell', { name: 'admin@demo.tutti.invalid' })).toBeVisible();
    } else {
      await expect(usersLink).toHaveCount(0);
    }
    expect(problems).toEqual([]);
  });
}
