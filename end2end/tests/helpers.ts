import { expect, type Page } from '@playwright/test';

/**
 * Collects console errors, CSP violations and uncaught exceptions. HTTP error statuses are left out:
 * tests assert those themselves.
 */
export function watchConsole(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  return problems;
}

/** Waits until the WebAssembly bundle has hydrated the server-rendered page. */
export async function hydrated(page: Page) {
  await expect(page.locator('html[data-hydrated]')).toHaveCount(1);
}

export async function signInDemo(page: Page, role: 'musician' | 'annotator' | 'admin') {
  await page.goto('/signin');
  await page.getByRole('button', { name: new RegExp(`^${role}$`, 'i') }).click();
  await expect(page.locator('.profile-menu .user-name')).toHaveText(`Demo ${role[0].toUpperCase()}${role.slice(1)}`);
}

/** The full OAuth redirect flow through the local mock provider's sign-in form. */
export async function signInOAuth(page: Page, email: string, name: string) {
  await page.goto('/signin');
  await page.getByRole('link', { name: 'Sign in with Google' }).click();
  await expect(page.getByRole('heading', { name: 'Mock sign-in' })).toBeVisible();
  await page.locator('#email').fill(email);
  await page.locator('#name').fill(name);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('.profile-menu .user-name')).toHaveText(name);
}

export async function signOut(page: Page) {
  await page.locator('.profile-menu summary').click();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('link', { name: 'Sign in', exact: true })).toBeVisible();
}
