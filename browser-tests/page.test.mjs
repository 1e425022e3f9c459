// The demo page in headless Chromium, against the reference server with
// access tokens that live two seconds. Run with `bash browser-tests/run.sh`.
//
// Every test opens its own browser context (its own cookie jar) and signs
// in afresh, so that one failure does not drag the others down. Waiting for
// a token to expire takes real time here: the browser and the server are
// separate processes on the real clock.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const serverBin = process.env.SERVER_BIN ?? path.join(root, 'target/release/examples/server');
const chromiumBin = process.env.CHROMIUM ?? '/usr/bin/chromium';
const screenshotPath = path.join(root, 'docs/screenshot.png');

let server; // the reference server, a child process
let serverLog = '';
let base; // http://127.0.0.1:PORT
let browser;
// A test that waits longer than this has hung: fail it instead.
const limit = { timeout: 45_000 };

before(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(serverBin, [], {
    env: {
      ...process.env,
      ADDR: `127.0.0.1:${port}`,
      ACCESS_TTL: '2s',
      REFRESH_TTL: '10m',
      REFRESH_GRACE: '10s',
      ACCESS_SECRET: 'browser-test access secret, 32 bytes or more',
      REFRESH_SECRET: 'browser-test refresh secret, 32 bytes or more',
      REDIS_URL: '',
      RUST_LOG: 'warn',
      NO_COLOR: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.on('error', (err) => { serverLog += `could not start ${serverBin}: ${err.message}\n`; });
  server.stdout.on('data', (chunk) => { serverLog += chunk; });
  server.stderr.on('data', (chunk) => { serverLog += chunk; });
  process.on('exit', () => server.kill('SIGTERM'));
  await untilHealthy();

  // Playwright starts Chromium with a fresh profile (--user-data-dir in a
  // new temporary folder) on every launch, and removes it on close.
  browser = await chromium.launch({
    executablePath: chromiumBin,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  if (serverLog.trim()) console.log(`# reference server said:\n${serverLog.replace(/^/gm, '#   ')}`);
});

test('signing in keeps the refresh token out of reach of scripts', limit, async () => {
  const { context, page, problems } = await openTab();

  const login = await signIn(page);

  const { refreshToken } = await login.json();
  const seen = await page.evaluate(() => ({
    cookie: document.cookie,
    stored: localStorage.length + sessionStorage.length,
  }));
  assert.ok(!seen.cookie.includes(refreshToken), 'document.cookie shows the refresh token');
  assert.ok(!seen.cookie.includes('refresh_token'), 'document.cookie names the refresh cookie');
  assert.equal(seen.stored, 0, 'the page put something in Web Storage');
  const jar = await context.cookies(base + '/api/refresh');
  const cookie = jar.find((c) => c.name === 'refresh_token');
  assert.ok(cookie, 'the browser did not keep the refresh cookie');
  assert.equal(cookie.value, refreshToken);
  assert.ok(cookie.httpOnly && cookie.secure && cookie.sameSite === 'Strict');
  assert.deepEqual(problems, []);
  await context.close();
});

test('after the access token expires, a call refreshes once, retries and succeeds', limit, async () => {
  const { context, page, problems } = await openTab({ width: 1200, height: 740 });
  const login = await signIn(page);
  const { accessToken } = await login.json();
  assert.equal(await callMe(page), 200);
  assert.equal(await count(page, 'refresh'), 0);

  await untilExpired(accessToken);
  const refreshes = watchRefreshes(page);
  const status = await callMe(page);

  assert.equal(status, 200);
  assert.equal(await count(page, '401'), 1);
  assert.equal(await count(page, 'refresh'), 1, 'the timeline should show exactly one refresh');
  assert.equal(await count(page, 'rotation'), 1);
  assert.equal(await count(page, 'retry'), 1);
  assert.deepEqual(refreshes, [200], 'the network should carry exactly one refresh');
  assert.match(await page.textContent('#remaining'), /s left/);
  assert.deepEqual(problems, []);

  mkdirSync(path.dirname(screenshotPath), { recursive: true });
  await page.screenshot({ path: screenshotPath });
  await context.close();
});

test('two expired tabs of one session, calling at once, both go on', limit, async () => {
  const context = await browser.newContext();
  const one = await openTab({ context });
  await signIn(one.page);
  const two = await openTab({ context });
  assert.equal(await two.resumed.status(), 200, 'the second tab should resume the session');
  const { accessToken: newest } = await two.resumed.json();
  assert.equal(await one.page.textContent('#sid'), await two.page.textContent('#sid'));
  await untilExpired(newest);

  // Hold both refreshes until both are on their way, and give the network
  // some latency, so that both leave with the same cookie before either
  // answer sets a new one: the second lands inside the grace window.
  await Promise.all([slowNetwork(context, one.page), slowNetwork(context, two.page)]);
  const held = [];
  let release;
  const bothHeld = new Promise((resolve) => { release = resolve; });
  await context.route('**/api/refresh', async (route) => {
    held.push(route);
    if (held.length === 2) release();
    await Promise.race([bothHeld, sleep(5000)]);
    await route.continue();
  });
  const answers = [watchRefreshes(one.page, true), watchRefreshes(two.page, true)];
  // Tab one makes two calls at once, which must share its one refresh.
  const [statusesOne, statusTwo] = await Promise.all([callsAtOnce(one.page, 2), callMe(two.page)]);
  await context.unroute('**/api/refresh');

  assert.deepEqual([...statusesOne, statusTwo], [200, 200, 200]);
  assert.equal(held.length, 2, 'each tab should have sent one refresh');
  assert.equal(await count(one.page, '401'), 2);
  assert.equal(await count(one.page, 'refresh'), 1, 'tab one should refresh once for both calls');
  assert.equal(await count(one.page, 'retry'), 2);
  assert.equal(await count(two.page, 'refresh'), 1);
  assert.equal(await count(two.page, 'retry'), 1);
  const [first, second] = answers.map((list) => list[0]);
  assert.equal(first.status, 200);
  assert.equal(second.status, 200);
  const [a, b] = await Promise.all([first.body, second.body]);
  assert.equal(a.accessToken, b.accessToken, 'the grace window should give both tabs one answer');

  // The session survived: a revoked one would fail these calls.
  assert.deepEqual(await Promise.all([callMe(one.page), callMe(two.page)]), [200, 200]);
  assert.equal(await one.page.getAttribute('body', 'data-state'), 'signed-in');
  assert.deepEqual([...one.problems, ...two.problems], []);
  await context.close();
});

test('after logging out a call ends the session, and the old token is refused', limit, async () => {
  const { context, page, problems } = await openTab();
  const sent = [];
  page.on('request', (request) => {
    const authorization = request.headers().authorization;
    if (authorization) sent.push(authorization.replace(/^Bearer /, ''));
  });
  await signIn(page);
  assert.equal(await callMe(page), 200);
  const oldToken = sent.at(-1);

  const logout = page.waitForResponse((r) => r.url() === `${base}/api/logout`);
  await page.click('#logout');
  assert.equal((await logout).status(), 204);
  await page.waitForSelector('body[data-state="signed-out"]');
  assert.equal(await callMe(page), 401);

  assert.equal(await page.getAttribute('body', 'data-state'), 'ended');
  assert.ok(await page.isVisible('#ended'), 'the "please sign in" banner is hidden');
  assert.ok(await page.isVisible('#signin'), 'the sign-in form is hidden');
  assert.equal(await count(page, 'ended'), 1);
  assert.equal(await count(page, 'logout'), 1);
  const replay = await fetch(`${base}/api/me`, { headers: { authorization: `Bearer ${oldToken}` } });
  assert.equal(replay.status, 401);
  assert.match(replay.headers.get('www-authenticate'), /has been revoked/);
  const jar = await context.cookies(base + '/api/refresh');
  assert.equal(jar.filter((c) => c.name === 'refresh_token').length, 0);
  assert.deepEqual(problems, []);
  await context.close();
});

test('a page of another origin cannot refresh with the cookie', limit, async () => {
  const { context, page, problems } = await openTab();
  await signIn(page);
  const target = `${base}/api/refresh`;
  // Another port of the same host: the same site, so the SameSite=Strict
  // cookie goes along, and the server must refuse it by its Origin. The
  // request is `no-cors` so that Chromium reports the answer it got instead
  // of a CORS failure; the foreign page cannot read it either way.
  const other = createServer((_request, response) => {
    response.setHeader('content-type', 'text/html; charset=utf-8');
    response.end(`<!doctype html><title>elsewhere</title><script>
      fetch(${JSON.stringify(target)}, { method: 'POST', mode: 'no-cors', credentials: 'include' });
    </script>`);
  });
  await new Promise((resolve) => other.listen(0, '127.0.0.1', resolve));

  try {
    const foreign = await context.newPage();
    const origin = `http://127.0.0.1:${other.address().port}`;
    const sent = await watchSentHeaders(context, foreign);
    const refused = foreign.waitForResponse((r) => r.url() === target);
    await foreign.goto(`${origin}/`);
    const response = await refused;

    assert.equal(response.status(), 403);
    const headers = await until(() => sent.find((h) => h.origin === origin));
    assert.match(headers.cookie ?? '', /refresh_token=/, 'the cookie should have gone along');
  } finally {
    other.close();
  }

  // The refused request spent nothing: the cookie still resumes the session.
  const again = await openTab({ context });
  assert.equal(again.resumed.status(), 200);
  assert.equal(await again.page.textContent('#sid'), await page.textContent('#sid'));
  assert.deepEqual([...problems, ...again.problems], []);
  await context.close();
});

// ---- helpers ----------------------------------------------------------------

/**
 * Opens the page in a new tab (of `context`, or of a new context) and waits
 * for its attempt to resume a session at load.
 */
async function openTab({ context, width = 1100, height = 760 } = {}) {
  context ??= await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (err) => problems.push(`uncaught: ${err.message}`));
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) problems.push(message.text());
  });

  const resumed = page.waitForResponse((r) => r.url() === `${base}/api/refresh`);
  await page.goto(`${base}/`);
  await page.waitForSelector('body:not([data-state="starting"])');
  return { context, page, problems, resumed: await resumed };
}

/** Signs in with the prefilled demo user; the login response. */
async function signIn(page) {
  const login = page.waitForResponse((r) => r.url() === `${base}/api/login`);
  await page.click('#signin button[type="submit"]');
  const response = await login;
  assert.equal(response.status(), 200);
  await page.waitForSelector('body[data-state="signed-in"]');
  return response;
}

/** Clicks "Call /api/me" and returns the status that the page ends with. */
async function callMe(page) {
  await page.click('#call');
  const result = await page.waitForSelector('#result[data-status]');
  return Number(await result.getAttribute('data-status'));
}

/**
 * Clicks "Call /api/me" `n` times in one go, so that the calls run side by
 * side, and waits until every one of them has answered 200.
 */
async function callsAtOnce(page, n) {
  const answered = '#timeline li[data-kind="response"]';
  const before = await page.locator(answered).count();
  await page.evaluate((times) => {
    for (let i = 0; i < times; i += 1) document.getElementById('call').click();
  }, n);
  await page
    .waitForFunction(
      ([selector, total]) => document.querySelectorAll(selector).length >= total,
      [answered, before + n],
      { timeout: 10_000 },
    )
    .catch(() => assert.fail(`the ${n} calls did not all answer 200`));
  const texts = await page.locator(answered).allTextContents();
  return texts.slice(before).map((text) => Number(/([0-9]{3}) from \/api\/me/.exec(text)?.[1]));
}

/** How many timeline entries of `kind` the page shows. */
function count(page, kind) {
  return page.locator(`#timeline li[data-kind="${kind}"]`).count();
}

/** The statuses (and bodies, with `bodies`) of the page's refreshes from now on. */
function watchRefreshes(page, bodies = false) {
  const seen = [];
  page.on('response', (response) => {
    if (response.url() !== `${base}/api/refresh`) return;
    if (!bodies) return seen.push(response.status());
    seen.push({ status: response.status(), body: response.json().catch(() => null) });
  });
  return seen;
}

/**
 * The request headers that Chromium sends from `page`, as it reports them
 * on the wire (Playwright's own view leaves out the cookie of a `no-cors`
 * request).
 */
async function watchSentHeaders(context, page) {
  const cdp = await context.newCDPSession(page);
  const sent = [];
  cdp.on('Network.requestWillBeSentExtraInfo', ({ headers }) => {
    sent.push(Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])));
  });
  await cdp.send('Network.enable');
  return sent;
}

/** Adds 300 ms of latency to every request of `page`, as a real network would. */
async function slowNetwork(context, page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 300,
    downloadThroughput: -1,
    uploadThroughput: -1,
  });
}

/** The first truthy value of `probe` within two seconds. */
async function until(probe) {
  const deadline = Date.now() + 2000;
  for (;;) {
    const value = probe();
    if (value) return value;
    assert.ok(Date.now() < deadline, 'waited in vain');
    await sleep(20);
  }
}

/**
 * Waits until the server refuses `token` as expired, asking it from outside
 * the browser: its lifetime plus the server's clock-skew leeway.
 */
async function untilExpired(token) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const response = await fetch(`${base}/api/me`, { headers: { authorization: `Bearer ${token}` } });
    if (response.status === 401) {
      assert.match(response.headers.get('www-authenticate'), /expired/);
      return;
    }
    assert.ok(Date.now() < deadline, 'the access token never expired');
    await sleep(250);
  }
}

async function untilHealthy() {
  const deadline = Date.now() + 15_000;
  for (;;) {
    assert.equal(server.exitCode, null, `the reference server exited:\n${serverLog}`);
    try {
      if ((await fetch(`${base}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    assert.ok(Date.now() < deadline, `the reference server did not start:\n${serverLog}`);
    await sleep(100);
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createTcpServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}
