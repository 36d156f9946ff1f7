// Browser tests of the admin-web views "Austausch" (coordinators' channel) and "Termine"
// (events), run by run-web.sh after web.test.mjs against the same district node (BASE,
// district 15003, loopback allowed). It starts a state node of its own (DINET_BIN),
// registers the district there, joins HF3 in the browser and exchanges posts.
// Ends with "channel.test.mjs: N passed, M failed" (run-web.sh's last summary line
// stays the one of web.test.mjs; a failure here makes run-web.sh fail).

import { chromium } from 'playwright-core';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { a11yCheck } from './a11y-check.js';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const HERE = dirname(fileURLToPath(import.meta.url));
const BASE = process.env.BASE;
const ADMIN = `${BASE}/admin/`;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const DINET_BIN = process.env.DINET_BIN || join(HERE, '..', '..', 'build', 'dinet');
const SHOTS = process.env.SCREENSHOT_DIR || join(HERE, 'screenshots');
// Accounts of its own (web.test.mjs changes the passwords of the shared ones), added
// with the CLI to the running node's data directory (DATA from run-web.sh).
const DATA = process.env.DATA;
const PW = { admin: 'Kanal-Admin-2027!', editor: 'Kanal-Redaktion-2027!', viewer: 'Kanal-Lesen-2027!' };
const USERS = { admin: 'kanal.admin', editor: 'kanal.redaktion', viewer: 'kanal.lesen' };
if (!BASE) {
  console.error('channel.test.mjs: BASE is not set (run tests/web/run-web.sh)');
  process.exit(2);
}
mkdirSync(SHOTS, { recursive: true });

if (!DATA) {
  console.error('channel.test.mjs: DATA is not set (run tests/web/run-web.sh)');
  process.exit(2);
}
for (const role of ['admin', 'editor', 'viewer']) {
  try {
    execFileSync(DINET_BIN, ['user', 'add', '--data', DATA, '--role', role, USERS[role]], { input: `${PW[role]}\n`, stdio: ['pipe', 'ignore', 'ignore'] });
  } catch (_) {
    /* exists from an earlier run with KEEP=1 */
  }
}

const results = [];
const problems = [];
class AssertionError extends Error {}
function assert(cond, msg) {
  if (!cond) throw new AssertionError(msg);
}
let currentPage = null;
async function test(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    results.push(true);
    console.log(`ok   channel: ${name} (${Date.now() - t0} ms)`);
  } catch (err) {
    results.push(false);
    console.log(`FAIL channel: ${name}\n     ${String((err && err.stack) || err).split('\n').slice(0, 4).join('\n     ')}`);
    if (currentPage) await currentPage.screenshot({ path: join(SHOTS, `FAIL-channel-${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 50)}.png`), fullPage: true }).catch(() => {});
  }
}

async function until(fn, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    if (await fn()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 150));
  }
}

// ---- the state node ------------------------------------------------------------------

const port = await new Promise((res) => {
  const s = createServer();
  s.listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => res(p));
  });
});
const STATE = `http://127.0.0.1:${port}`;
const work = mkdtempSync(join(tmpdir(), 'dinet-chan-web-'));
const sdata = join(work, 'state');
execFileSync(DINET_BIN, ['init', '--data', sdata, '--role', 'state', '--base-url', STATE, '--listen', `127.0.0.1:${port}`, '--allow-private', '127.0.0.0/8'], { stdio: 'ignore' });
const stoken = (role) => execFileSync(DINET_BIN, ['token', 'create', '--data', sdata, '--role', role, `chan-${role}`]).toString().trim().split('\n').pop();
const SADMIN = stoken('admin');
const SEDITOR = stoken('editor');
const SVIEWER = stoken('viewer');
const server = spawn(DINET_BIN, ['serve', '--data', sdata], { stdio: ['ignore', 'ignore', 'ignore'] });
await until(async () => (await fetch(`${STATE}/healthz`).catch(() => ({ ok: false }))).ok, 10000);

// District A (15002), a second district node: it posts in HF3, and the district under
// test (B, at BASE) must show that post in its "Austausch" view.
const aport = await new Promise((res) => {
  const s = createServer();
  s.listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => res(p));
  });
});
const DIST_A = `http://127.0.0.1:${aport}`;
const adata = join(work, 'district-a');
execFileSync(DINET_BIN, ['init', '--data', adata, '--role', 'district', '--district', '15002', '--base-url', DIST_A, '--listen', `127.0.0.1:${aport}`, '--allow-private', '127.0.0.0/8'], { stdio: 'ignore' });
const atoken = (role) => execFileSync(DINET_BIN, ['token', 'create', '--data', adata, '--role', role, `chan-a-${role}`]).toString().trim().split('\n').pop();
const AADMIN = atoken('admin');
const AEDITOR = atoken('editor');
const serverA = spawn(DINET_BIN, ['serve', '--data', adata], { stdio: ['ignore', 'ignore', 'ignore'] });
await until(async () => (await fetch(`${DIST_A}/healthz`).catch(() => ({ ok: false }))).ok, 10000);

async function capi(base, method, path, token, body) {
  const r = await fetch(`${base}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}), Accept: 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  return { status: r.status, data: text ? JSON.parse(text) : null };
}

async function sapi(method, path, token, body) {
  const r = await fetch(`${STATE}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}), Accept: 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  return { status: r.status, data: text ? JSON.parse(text) : null };
}

// ---- browser ---------------------------------------------------------------------------

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--lang=de-DE'],
});

async function newPage() {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'de-DE', timezoneId: 'Europe/Berlin' });
  const page = await ctx.newPage();
  page.setDefaultTimeout(10000);
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    const text = m.text();
    if (/Content Security Policy|Refused to/i.test(text)) problems.push(`CSP: ${text}`);
    else if (m.type() === 'error' && !/Failed to load resource/.test(text)) problems.push(`console error: ${text}`);
  });
  currentPage = page;
  return page;
}

async function login(page, who) {
  await page.goto(ADMIN);
  await page.waitForSelector('form input[name=name]');
  await page.fill('input[name=name]', USERS[who]);
  await page.fill('input[name=password]', PW[who]);
  await page.click('form button[type=submit]');
  await page.waitForSelector('.user-name');
}

async function go(page, hash, waitFor) {
  if (page.url() === `${ADMIN}${hash}`) await page.reload();
  else await page.goto(`${ADMIN}${hash}`);
  await page.waitForSelector(waitFor || '#page-title');
  await page.waitForFunction(() => !document.querySelector('main .loading'));
}

let threadHash = null;
let eventId = null;

/** The project's own accessibility check and axe-core (WCAG 2.1 AA); problems as strings. */
async function audit(page, { own: withOwn = true } = {}) {
  // The own check is made for admin-web (live region, landmarks of its shell);
  // portal pages get axe-core only (tests/portal has the portal's own checks).
  const own = withOwn ? await page.evaluate(a11yCheck, 'de') : [];
  if (!(await page.evaluate(() => !!window.axe))) await page.evaluate(AXE_SOURCE);
  const axe = await page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] }, resultTypes: ['violations'] });
    return r.violations.map((v) => `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
  });
  return [...own.map((p) => `own: ${p}`), ...axe.map((p) => `axe: ${p}`)];
}

try {
  await test('the state registers the district', async () => {
    const r = await sapi('POST', '/api/v1/districts', SADMIN, { code: '15003', actor: `${BASE}/actor` });
    assert(r.status === 201, `register: ${r.status} ${JSON.stringify(r.data)}`);
  });

  let admin = null;
  let editor = null;
  await test('log in as admin', async () => {
    admin = await newPage();
    await login(admin, 'admin');
  });

  await test('an admin joins HF3 in "Austausch"', async () => {
    await go(admin, '#/channel');
    assert((await admin.textContent('[data-nav=channel]')).trim() === 'Austausch', 'navigation entry "Austausch"');
    await admin.fill('input[name=url]', `${STATE}/groups/HF3`);
    await admin.click("form[aria-labelledby=join-title] button[type=submit]");
    await admin.waitForSelector('tr[data-group=HF3]');
    const joined = await until(async () => (await (await fetch(`${STATE}/groups/HF3/followers`, { headers: { Accept: 'application/activity+json' } })).json()).totalItems === 1);
    assert(joined, 'the state counts the district as a member of HF3');
  });

  await test('a post of the state shows as unread, as text', async () => {
    const r = await sapi('POST', '/api/v1/channel/groups/HF3/posts', SEDITOR, { content: 'Landesrunde: <b>Fachtag</b> HF3 im März' });
    assert(r.status === 201, `state post: ${r.status}`);
    const arrived = await until(async () => {
      await go(admin, '#/channel', 'tr[data-group=HF3]');
      return (await admin.locator('tr[data-group=HF3] [data-unread]').count()) === 1;
    });
    assert(arrived, 'HF3 shows an unread count');
    await admin.click('tr[data-group=HF3] a');
    await admin.waitForSelector('.thread-list li');
    const text = await admin.textContent('.thread-list li');
    assert(text.includes('<b>Fachtag</b>'), `markup shown as text: ${text}`);
    assert((await admin.locator('.thread-list b').count()) === 0, 'no element from the post');
  });

  await test('a post by district A (15002) in HF3 reaches this district\'s "Austausch" view', async () => {
    let r = await sapi('POST', '/api/v1/districts', SADMIN, { code: '15002', actor: `${DIST_A}/actor` });
    assert(r.status === 201, `register A: ${r.status} ${JSON.stringify(r.data)}`);
    r = await capi(DIST_A, 'POST', '/api/v1/channel/groups', AADMIN, { url: `${STATE}/groups/HF3` });
    assert([200, 201, 202].includes(r.status), `A joins HF3: ${r.status} ${JSON.stringify(r.data)}`);
    const member = await until(async () => (await (await fetch(`${STATE}/groups/HF3/followers`, { headers: { Accept: 'application/activity+json' } })).json()).totalItems === 2);
    assert(member, 'the state counts A as the second member of HF3');
    r = await capi(DIST_A, 'POST', '/api/v1/channel/groups/HF3/posts', AEDITOR, { content: 'Aus Halle: Austausch zu Sprachkursen, <i>bitte</i> melden' });
    assert(r.status === 201, `A posts: ${r.status} ${JSON.stringify(r.data)}`);
    const arrived = await until(async () => {
      await go(admin, '#/channel/HF3', '.thread-list');
      return (await admin.textContent('.thread-list')).includes('Aus Halle: Austausch zu Sprachkursen');
    }, 30000);
    assert(arrived, 'the post of district A is listed in B\'s thread list of HF3');
    const text = await admin.textContent('.thread-list');
    assert(text.includes('<i>bitte</i>'), `markup shown as text: ${text.slice(0, 200)}`);
    assert((await admin.locator('.thread-list i').count()) === 0, 'no element from the post');
  });

  await test('log in as editor', async () => {
    editor = await newPage();
    await login(editor, 'editor');
  });

  await test('an editor starts a members-only thread and replies', async () => {
    await go(editor, '#/channel/HF3', '#post-form-new');
    await editor.fill('form[aria-labelledby=post-form-new] textarea[name=content]', 'Nur intern: Planung der Sprachkurse 2027');
    await editor.check('#members-new');
    await editor.click('form[aria-labelledby=post-form-new] button[type=submit]');
    await editor.waitForFunction(() => /#\/channel\/threads\/\d+$/.test(location.hash));
    threadHash = await editor.evaluate(() => location.hash);
    await editor.waitForSelector('.posts li');
    assert((await editor.textContent('main')).includes('nur für Mitglieder'), 'the members-only notice');
    await editor.fill('form[aria-labelledby=post-form-reply] textarea[name=content]', 'Antwort: Termin folgt.');
    await editor.click('form[aria-labelledby=post-form-reply] button[type=submit]');
    await editor.waitForFunction(() => document.querySelectorAll('.posts li').length === 2);
    const onState = await until(async () => {
      const t = await sapi('GET', '/api/v1/channel/groups/HF3/threads', SVIEWER);
      return (t.data.items || []).some((x) => x.content.includes('Planung der Sprachkurse') && x.members_only && x.replies === 1);
    });
    assert(onState, 'the state has the members-only thread with the reply');
  });

  await test('an empty post is refused next to the field', async () => {
    await go(editor, threadHash, '#post-form-reply');
    await editor.click('form[aria-labelledby=post-form-reply] button[type=submit]');
    await editor.waitForSelector('.error-summary');
  });

  await test('a viewer reads but gets no post form', async () => {
    const viewer = await newPage();
    await login(viewer, 'viewer');
    await go(viewer, threadHash, '.posts li');
    assert((await viewer.locator('textarea').count()) === 0, 'no form for viewers');
    await go(viewer, '#/channel', 'tr[data-group=HF3]');
  });

  await test('"Termine": an editor creates an event; end before start is refused', async () => {
    await go(editor, '#/events/new', 'input[name=name]');
    await editor.fill('input[name=name]', 'Netzwerktreffen HF3');
    await editor.fill('input[name=start_time]', '2027-04-01T10:00');
    await editor.fill('input[name=end_time]', '2027-04-01T09:00');
    await editor.fill('input[name="location.name"]', 'Rathaus');
    await editor.click('form button[type=submit]');
    await editor.waitForSelector('.error-summary');
    assert((await editor.textContent('.error-summary')).length > 0, 'error summary');
    await editor.fill('input[name=end_time]', '2027-04-01T16:00');
    await editor.click('form button.btn.primary[type=submit]');
    await editor.waitForFunction(() => /#\/events\/e-[a-z0-9]+$/.test(location.hash));
    const id = (await editor.evaluate(() => location.hash)).split('/').pop();
    const ev = await (await fetch(`${BASE}/api/v1/events/${id}`)).json();
    assert(ev.start_time === '2027-04-01T08:00:00Z', `Berlin local time stored in UTC: ${ev.start_time}`);
    await go(editor, '#/events', `tr[data-event="${id}"]`);
    eventId = id;
  });

  await test('portal: the events page and the event page (escaped, accessible)', async () => {
    const found = [];
    for (const path of ['/events', `/events/${eventId}`]) {
      await editor.goto(`${BASE}${path}`);
      assert((await editor.textContent('main')).includes('Netzwerktreffen HF3'), `${path} shows the event`);
      for (const p of await audit(editor, { own: false })) found.push(`${path}: ${p}`);
    }
    assert((await editor.getAttribute('a[href="/events"][aria-current=page]', 'href')) === '/events', 'navigation marks "Termine"');
    assert(!found.length, found.slice(0, 12).join('\n     '));
  });

  await test('accessibility of the channel and events views (own check and axe-core)', async () => {
    const found = [];
    for (const [hash, sel] of [['#/channel', 'tr[data-group=HF3]'], ['#/channel/HF3', '.thread-list li'], [threadHash, '.posts li'], ['#/events', '#page-title'], ['#/events/new', 'input[name=name]']]) {
      await go(editor, hash, sel);
      for (const p of await audit(editor)) found.push(`${hash}: ${p}`);
    }
    assert(!found.length, found.slice(0, 12).join('\n     '));
  });

  await test('no JavaScript errors and no CSP violations', async () => {
    assert(!problems.length, problems.slice(0, 10).join('\n     '));
  });
} finally {
  await browser.close().catch(() => {});
  server.kill('SIGTERM');
  serverA.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  rmSync(work, { recursive: true, force: true });
}

const passed = results.filter(Boolean).length;
const failed = results.length - passed;
console.log(`channel.test.mjs: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
