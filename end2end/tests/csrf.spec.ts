import { test, expect } from '@playwright/test';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { baseURL } from '../playwright.config';
import { hydrated, signInOAuth } from './helpers';

/**
 * A page on another origin of the same site (another port of 127.0.0.1: the browser sends the
 * SameSite=Lax cookie along) submits forms to Tutti with the signed-in person's cookie.
 */
function attackerPage(): Promise<{ url: string; close: () => void }> {
  const page = `<!DOCTYPE html><html lang="en"><head><title>Win a prize</title></head><body>
    <form id="form" method="post" action="${baseURL}/api/create_api_token">
      <input name="name" value="stolen-by-form"></form>
    <form id="plain" method="post" enctype="text/plain" action="${baseURL}/api/create_api_token">
      <input name="name" value="stolen-by-text"></form>
    </body></html>`;
  return new Promise((resolve) => {
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(page);
    });
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ url: `http://127.0.0.1:${port}/`, close: () => server.close() });
    });
  });
}

test('a form on another origin cannot act with the signed-in cookie; Tutti’s own page can', async ({ page }) => {
  // A user of its own: the demo users' tokens belong to other tests.
  await signInOAuth(page, 'csrf-victim@example.org', 'Victoria Victim');
  const attacker = await attackerPage();
  try {
    for (const form of ['#form', '#plain']) {
      await page.goto(attacker.url);
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/api/create_api_token')),
        page.evaluate((sel) => (document.querySelector(sel) as HTMLFormElement).submit(), form),
      ]);
      expect(response.status(), form).toBe(403);
      await page.waitForURL(`${baseURL}/api/create_api_token`);
    }
  } finally {
    attacker.close();
  }
  const tokens = await (await page.request.get('/api/v1/tokens')).json();
  expect(tokens).toEqual([]);

  // The profile page makes a token from Tutti's own origin.
  await page.goto('/profile');
  await hydrated(page);
  await page.locator('#token-name').fill('laptop script');
  await page.getByRole('button', { name: 'Create token' }).click();
  await expect(page.getByText('Copy this token now')).toBeVisible();
  const after = await (await page.request.get('/api/v1/tokens')).json();
  expect(after.map((t: { name: string }) => t.name)).toEqual(['laptop script']);
});
