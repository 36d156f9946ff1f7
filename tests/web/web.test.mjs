// Browser tests of admin-web: playwright-core driving Debian's chromium against a
// real dinet node started by run-web.sh. Prints one line per test and ends with
// "N passed, M failed".

import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createHash, createSign, generateKeyPairSync } from 'node:crypto';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { a11yCheck } from './a11y-check.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const BASE = process.env.BASE;
const ADMIN = `${BASE}/admin/`;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = process.env.SCREENSHOT_DIR || join(HERE, 'screenshots');
const ADMIN_WEB = process.env.ADMIN_WEB || join(HERE, '..', '..', 'admin-web');
const PW = { admin: process.env.ADMIN_PW, editor: process.env.EDITOR_PW, viewer: process.env.VIEWER_PW, moderator: process.env.MODERATOR_PW, participant: 'Mitreden-Elbe-2025' };
const USERS = { admin: 'admin', editor: 'redaktion.schmidt', viewer: 'lesen.meier', moderator: 'moderation.lehmann', participant: 'anna.buerger' };
const TOKEN = process.env.API_TOKEN;
const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const { parseCsv } = await import(pathToFileURL(join(ADMIN_WEB, 'js', 'csv.js')).href);

if (!BASE) {
  console.error('web.test.mjs: BASE is not set (run tests/web/run-web.sh)');
  process.exit(2);
}
mkdirSync(SHOTS, { recursive: true });

// ---- tiny harness ------------------------------------------------------------------

const results = [];
const problems = []; // page errors, CSP violations
const a11yReport = [];
const T0 = Date.now();

class AssertionError extends Error {}
function assert(cond, msg) {
  if (!cond) throw new AssertionError(msg);
}
function eq(actual, expected, msg) {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new AssertionError(`${msg}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

// The whole suite must stay under 3 minutes (run-web.sh kills it at 172 s); past
// this budget the remaining tests are reported as failed instead of running.
const BUDGET_MS = Number(process.env.WEB_BUDGET_MS || 160000);
const overBudget = () => Date.now() - T0 > BUDGET_MS;

// WEB_ONLY=regex runs only the matching tests (and the first login) while developing.
const ONLY = process.env.WEB_ONLY ? new RegExp(process.env.WEB_ONLY) : null;

let currentPage = null;
async function test(name, fn, opts = {}) {
  const t0 = Date.now();
  if (ONLY && !ONLY.test(name) && !name.startsWith('login:')) return;
  if (overBudget()) {
    results.push({ name, ok: false });
    console.log(`FAIL ${name}: not run, the time budget of ${BUDGET_MS / 1000} s is used up`);
    return;
  }
  try {
    await fn();
    results.push({ name, ok: true });
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (err) {
    results.push({ name, ok: false });
    console.log(`FAIL ${name} (${Date.now() - t0} ms)\n     ${String(err && err.stack || err).split('\n').slice(0, 4).join('\n     ')}`);
    const failPage = opts.page ? opts.page() : currentPage;
    if (failPage) {
      const file = join(SHOTS, `FAIL-${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}.png`);
      await failPage.screenshot({ path: file, fullPage: true }).catch(() => {});
      console.log(`     screenshot: ${file}`);
    }
  }
}

// ---- API helpers (Node side, with the editor API token) ------------------------

async function api(method, path, body, headers = {}) {
  const r = await fetch(`${BASE}/api/v1${path}`, {
    method,
    headers: { Authorization: `Bearer ${TOKEN}`, ...(body ? { 'Content-Type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  return { status: r.status, data: text ? JSON.parse(text) : null, etag: r.headers.get('etag') };
}
const total = async (path, query = '') => (await api('GET', `${path}?limit=1${query}`)).data.total;

// ---- browser helpers -----------------------------------------------------------------

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync', '--lang=de-DE'],
  // playwright-core gives every launch a fresh, temporary --user-data-dir itself
  // (it refuses one passed in args) and removes it on close.
});
const contexts = [];

async function newPage({ width = 1280, height = 900, current = true } = {}) {
  const ctx = await browser.newContext({ viewport: { width, height }, locale: 'de-DE', timezoneId: 'Europe/Berlin', acceptDownloads: true });
  contexts.push(ctx);
  const page = await ctx.newPage();
  page.setDefaultTimeout(10000);
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    const text = m.text();
    if (/Content Security Policy|Refused to/i.test(text)) problems.push(`CSP: ${text}`);
    else if (m.type() === 'error' && !/Failed to load resource/.test(text)) problems.push(`console error: ${text}`);
  });
  if (current) currentPage = page;
  return page;
}

async function go(page, hash, waitFor) {
  // A full load each time: going to the URL the page is on would not re-render.
  if (page.url() === `${ADMIN}${hash}`) await page.reload();
  else await page.goto(`${ADMIN}${hash}`);
  await page.waitForSelector(waitFor || '#page-title');
  await page.waitForFunction(() => !document.querySelector('main .loading'));
}

async function login(page, who) {
  await page.goto(ADMIN);
  await page.waitForSelector('form input[name=name]');
  await page.fill('input[name=name]', USERS[who]);
  await page.fill('input[name=password]', PW[who]);
  await page.click('form button[type=submit]');
  await page.waitForSelector('.user-name');
}

async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

async function text(page, sel) {
  return (await page.locator(sel).first().textContent()).trim();
}

async function waitHash(page, re) {
  await page.waitForFunction((src) => new RegExp(src).test(location.hash), re.source);
  return page.evaluate(() => location.hash);
}

/** Presses Tab until the focused element matches `selector` (keyboard only). */
async function tabTo(page, selector, max = 200) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((s) => document.activeElement && document.activeElement.matches(s), selector)) return;
  }
  throw new AssertionError(`could not reach ${selector} with Tab`);
}

async function audit(page, label, lang) {
  const own = await page.evaluate(a11yCheck, lang);
  // Hash navigation keeps the document: inject axe once per page load.
  if (!(await page.evaluate(() => !!window.axe))) await page.evaluate(AXE_SOURCE);
  const axe = await page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] }, resultTypes: ['violations'] });
    return r.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
  });
  a11yReport.push({ page: label, lang, own: own.length, axe: axe.length });
  return [...own.map((p) => `own: ${p}`), ...axe.map((p) => `axe: ${p}`)];
}

// ---- a fake fediverse server: two actors whose inboxes refuse everything (403) ----

const fediKeys = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
const fedi = createServer((req, res) => {
  const m = /^\/actors\/(\w+)$/.exec(req.url);
  if (req.method === 'GET' && m) {
    const id = `${fediBase}/actors/${m[1]}`;
    res.writeHead(200, { 'Content-Type': 'application/activity+json' });
    res.end(JSON.stringify({
      '@context': ['https://www.w3.org/ns/activitystreams', 'https://w3id.org/security/v1'],
      id, type: 'Person', preferredUsername: m[1], inbox: `${fediBase}/actors/${m[1]}/inbox`,
      publicKey: { id: `${id}#main-key`, owner: id, publicKeyPem: fediKeys.publicKey },
    }));
    return;
  }
  req.resume();
  res.writeHead(req.method === 'POST' ? 403 : 404, { 'Content-Type': 'text/plain' });
  res.end('refused by the test server\n');
});
await new Promise((r) => fedi.listen(0, '127.0.0.1', r));
const fediBase = `http://127.0.0.1:${fedi.address().port}`;

/** Sends a signed (draft-cavage, rsa-sha256) activity from a fake actor to the node's inbox. */
async function sendActivity(name, make) {
  const actor = `${fediBase}/actors/${name}`;
  const nodeActor = (await (await fetch(`${BASE}/actor`, { headers: { Accept: 'application/activity+json' } })).json());
  const body = JSON.stringify({ '@context': 'https://www.w3.org/ns/activitystreams', ...make(actor, nodeActor) });
  const url = new URL(nodeActor.inbox);
  const date = new Date().toUTCString();
  const digest = `SHA-256=${createHash('sha256').update(body).digest('base64')}`;
  const tbs = `(request-target): post ${url.pathname}\nhost: ${url.host}\ndate: ${date}\ndigest: ${digest}`;
  const signature = createSign('sha256').update(tbs).sign(fediKeys.privateKey, 'base64');
  const r = await fetch(url, {
    method: 'POST', body,
    headers: {
      'Content-Type': 'application/activity+json', Date: date, Digest: digest,
      Signature: `keyId="${actor}#main-key",algorithm="rsa-sha256",headers="(request-target) host date digest",signature="${signature}"`,
    },
  });
  return { status: r.status, text: await r.text(), actor };
}

/** Sends a signed (draft-cavage, rsa-sha256) Follow from a fake actor to the node. */
function sendFollow(name) {
  return sendActivity(name, (actor, nodeActor) => ({ id: `${actor}/follows/${Date.now()}`, type: 'Follow', actor, object: nodeActor.id }));
}

async function until(fn, what, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new AssertionError(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// ---- the tests ---------------------------------------------------------------------------

// ---- discussion (issue #8): registration, thread, moderation, Meine Daten ---------------

const disc = {};
const XSS = 'Test <script>window.__xss = 1</script> und <img src=x onerror="window.__xss = 2"> Ende';
const FIRST = 'Mein erster Beitrag: Gibt es das Sprachcafé auch am Wochenende?';

async function statusText(p) {
  return p.evaluate(() => document.getElementById('status').textContent);
}
async function waitStatus(p, re) {
  await p.waitForFunction((src) => new RegExp(src).test(document.getElementById('status').textContent), re.source);
}
/** The <li> of the first comment whose own text contains `text`. */
function commentLi(p, text) {
  return p.locator('li.comment-item', { has: p.locator(':scope > article .comment-text', { hasText: text }) }).first();
}

// The discussion tests use their own browser contexts and data (a new participant,
// a sample measure), so they run beside the record tests: started after the first
// login, awaited before the federation test (whose delivery counts their federated
// comments would change). `disc.cur` is the page a failure screenshot shows.
const DISC = { page: () => disc.cur };
async function discussionTests() {
  disc.ap = await newPage({ current: false });
  const r = await disc.ap.context().request.post(`${BASE}/api/v1/session`, { data: { name: USERS.admin, password: PW.admin } });
  assert(r.status() === 200, 'admin login for the discussion tests');
  await test('discussion: register from the login page; before approval login says the account waits', async () => {
    assert(disc.measure, 'a sample measure');
    const pp = await newPage({ current: false });
    disc.pp = pp;
    disc.cur = pp;
    await pp.goto(ADMIN);
    await pp.waitForSelector('form input[name=name]');
    await pp.click('[data-action=register]');
    await pp.waitForSelector('input[name=display_name]');
    eq(await pp.evaluate(() => document.activeElement.id), 'page-title', 'focus on the new page\'s title');
    assert(await pp.locator('a[href="/netiquette"]').count(), 'link to the netiquette');
    await pp.fill('input[name=name]', USERS.participant);
    await pp.fill('input[name=display_name]', 'Anna B.');
    await pp.fill('input[name=password]', PW.participant);
    await pp.fill('input[name=repeat]', PW.participant);
    await pp.click('form button[type=submit]');
    await pp.waitForSelector('[data-field-wrap=accept] .field-error');
    await pp.check('input[name=accept]');
    await pp.click('form button[type=submit]');
    await pp.waitForSelector('[data-registered]');
    assert((await text(pp, '[data-registered]')).includes('Ihr Konto wartet auf Freischaltung'), 'waiting message');
    await shot(pp, '20-registered');
    await pp.click('a[href="#/login"]');
    await pp.fill('input[name=name]', USERS.participant);
    await pp.fill('input[name=password]', PW.participant);
    await pp.click('form button[type=submit]');
    await pp.waitForSelector('.error-summary');
    assert(/wartet auf Freischaltung/.test(await text(pp, '.error-summary')), `login before approval: ${await text(pp, '.error-summary')}`);
  }, DISC);

  await test('discussion: a moderator approves the registration', async () => {
    const mp = await newPage({ current: false });
    disc.mp = mp;
    disc.cur = mp;
    // Logged in through the API (the login form is tested above); the context keeps the cookie.
    const r = await mp.context().request.post(`${BASE}/api/v1/session`, { data: { name: USERS.moderator, password: PW.moderator } });
    eq(r.status(), 200, 'moderator login');
    await go(mp, '#/registrations', `tr[data-registration="${USERS.participant}"]`);
    assert(await mp.locator('[data-nav=moderation]').count(), 'moderation in the navigation');
    eq(await mp.locator('[data-nav=users]').count(), 0, 'no user administration for moderators');
    await mp.click(`tr[data-registration="${USERS.participant}"] [data-action=approve]`);
    await mp.waitForSelector(`tr[data-registration="${USERS.participant}"]`, { state: 'detached' });
    await waitStatus(mp, new RegExp(USERS.participant.replace('.', '\\.')));
    await go(mp, '#/registrations', `tr[data-participant="${USERS.participant}"] [data-trusted]`);
  }, DISC);

  await test('discussion: the participant sees no admin areas, writes a comment; it waits for approval', async () => {
    const pp = disc.pp;
    disc.cur = pp;
    // As from the public portal's "Mitdiskutieren": the link leads through the login back to the thread.
    await pp.goto(`${ADMIN}#/discuss/measure/${disc.measure.id}`);
    await pp.waitForSelector('form input[name=name]');
    await pp.fill('input[name=name]', USERS.participant);
    await pp.fill('input[name=password]', PW.participant);
    await pp.click('form button[type=submit]');
    await pp.waitForSelector('.write-box textarea[name=content]');
    eq(await text(pp, '#page-title'), disc.measure.title, 'measure title');
    const navs = await pp.$$eval('[data-nav]', (els) => els.map((e) => e.dataset.nav));
    eq(navs, ['dashboard', 'mydata'], 'navigation of a participant');
    eq(await pp.locator('main .tabs').count(), 0, 'no record tabs for participants');
    await go(pp, '#/', '#home-how');
    const homeA11y = await audit(pp, 'participant-home', 'de');
    assert(!homeA11y.length, `accessibility of the participant's start page:\n     ${homeA11y.join('\n     ')}`);
    await go(pp, '#/measures', '#page-title');
    eq(await text(pp, '#page-title'), 'Keine Berechtigung', 'measures refused');
    await go(pp, `#/discuss/measure/${disc.measure.id}`, '.write-box textarea[name=content]');
    await pp.click('.write-box button[type=submit]');
    await pp.waitForSelector('.write-box [data-field-wrap=content] .field-error');
    await pp.fill('.write-box textarea[name=content]', FIRST);
    await pp.click('.write-box button[type=submit]');
    await waitStatus(pp, /wartet auf Freigabe/);
    const li = commentLi(pp, FIRST);
    await li.waitFor();
    eq(await li.getAttribute('data-status'), 'pending', 'pending');
    assert((await li.locator(':scope > article').textContent()).includes('wartet auf Freigabe'), 'marked as waiting');
    eq(await pp.evaluate(() => document.activeElement.closest('li.comment-item') !== null), true, 'focus on the new comment');
    // Markup in a comment is text.
    await pp.fill('.write-box textarea[name=content]', XSS);
    await pp.click('.write-box button[type=submit]');
    const x = commentLi(pp, 'window.__xss = 1');
    await x.waitFor();
    eq(await x.locator('.comment-text').textContent(), XSS, 'shown as typed');
    eq(await pp.locator('main .thread img, main .thread script').count(), 0, 'no element created');
    eq(await pp.evaluate(() => window.__xss), undefined, 'nothing ran');
    const items = (await (await fetch(`${BASE}/api/v1/me/export`, { headers: { Cookie: await cookieHeader(pp) } })).json()).comments;
    disc.first = items.find((c) => c.content === FIRST);
    disc.xss = items.find((c) => c.content === XSS);
    assert(disc.first && disc.xss, 'both comments stored');
    const anon = await (await fetch(`${BASE}/api/v1/measures/${disc.measure.id}/comments`)).json();
    assert(!JSON.stringify(anon).includes(FIRST), 'pending comment not public');
    await shot(pp, '21-discussion-pending');
  }, DISC);

  await test('discussion: the dashboard counts the queue; the moderator approves in the queue; visible, also publicly', async () => {
    const mp = disc.mp;
    disc.cur = mp;
    await go(mp, '#/', '[data-count="status:active"]');
    assert(/2 Beiträge warten auf Moderation/.test(await text(mp, '#dash-waiting + ul')), `dashboard: ${await text(mp, '#dash-waiting + ul')}`);
    await go(mp, '#/moderation', `[data-queue-item="${disc.first.id}"]`);
    eq(await text(mp, '[data-queue-count=pending]'), '(2)', 'pending count');
    const item = mp.locator(`[data-queue-item="${disc.first.id}"]`);
    assert((await item.textContent()).includes(disc.measure.title), 'target shown');
    eq(await item.locator('a', { hasText: disc.measure.title }).getAttribute('href'), `#/discuss/measure/${disc.measure.id}`, 'target linked');
    assert((await item.locator('[data-author]').textContent()).includes('Anna B.'), 'author shown');
    eq(await mp.locator(`[data-queue-item="${disc.xss.id}"] .queue-content img`).count(), 0, 'markup is text in the queue');
    await shot(mp, '22-moderation-queue');
    const a11y = await audit(mp, 'moderation-items', 'de');
    assert(!a11y.length, `accessibility of the queue with items:\n     ${a11y.join('\n     ')}`);
    await item.locator('[data-action=approve]').click();
    await mp.waitForSelector(`[data-queue-item="${disc.first.id}"]`, { state: 'detached' });
    await waitStatus(mp, /freigegeben/);
    await mp.waitForFunction((id) => document.activeElement?.closest('[data-queue-item]')?.dataset.queueItem === id, disc.xss.id);
    await mp.waitForFunction(() => document.querySelector('[data-queue-count=pending]').textContent === ' (1)');
    const anon = await (await fetch(`${BASE}/api/v1/measures/${disc.measure.id}/comments`)).json();
    assert(JSON.stringify(anon).includes('Gibt es das Sprachcaf'), 'approved comment is public');
    const html = await (await fetch(`${BASE}/measures/${disc.measure.id}`, { headers: { Accept: 'text/html' } })).text();
    assert(html.includes(`/admin/#/discuss/measure/${disc.measure.id}`), 'public page links to the discussion (Mitdiskutieren)');
    assert(html.includes('Gibt es das Sprachcaf'), 'public portal page shows the approved comment');
    await go(disc.pp, `#/discuss/measure/${disc.measure.id}`, '.thread');
    eq(await commentLi(disc.pp, FIRST).getAttribute('data-status'), 'approved', 'approved for the author');
  }, DISC);

  await test('discussion: reply, edit own comment, report another one with a reason', async () => {
    const mp = disc.mp;
    const pp = disc.pp;
    disc.cur = mp;
    await go(mp, `#/discuss/measure/${disc.measure.id}`, '.write-box textarea[name=content]');
    await mp.fill('.write-box textarea[name=content]', 'Antwort der Moderation: Samstags ab 10 Uhr.');
    await mp.click('.write-box button[type=submit]');
    await commentLi(mp, 'Samstags ab 10 Uhr').waitFor();
    disc.cur = pp;
    await go(pp, `#/discuss/measure/${disc.measure.id}`, '.thread');
    const mod = commentLi(pp, 'Samstags ab 10 Uhr');
    await mod.locator(':scope > article [data-action=reply]').click();
    eq(await pp.evaluate(() => document.activeElement.name), 'content', 'focus in the reply field');
    await pp.keyboard.type('Danke für die Auskunft!');
    await pp.keyboard.press('Tab');
    await pp.keyboard.press('Enter');
    const reply = commentLi(pp, 'Danke für die Auskunft');
    await reply.waitFor();
    eq(await reply.getAttribute('data-depth'), '1', 'reply indented under the comment');
    eq(await mod.locator('.replies li.comment-item').count(), 1, 'reply nested in the thread');
    // Edit own.
    await commentLi(pp, FIRST).locator(':scope > article [data-action=edit]').click();
    await pp.fill('.comment-slot textarea[name=content]', `${FIRST} (ergänzt)`);
    await pp.click('.comment-slot button[type=submit]');
    await commentLi(pp, '(ergänzt)').waitFor();
    // Delete own (the reply): asked first, then gone from the thread.
    await reply.locator(':scope > article [data-action=delete]').click();
    await pp.click('dialog button.btn.danger');
    await waitStatus(pp, /gelöscht/);
    await reply.waitFor({ state: 'detached' });
    // Report the moderator's comment.
    await mod.locator(':scope > article [data-action=report]').click();
    await pp.waitForSelector('dialog input[name=reason]');
    await pp.click('dialog button[type=submit]');
    await pp.waitForSelector('dialog .field-error');
    const a11y = [...await audit(pp, 'report-dialog', 'de')];
    assert(!a11y.length, `accessibility of the thread with the report dialog:\n     ${a11y.join('\n     ')}`);
    await pp.check('dialog input[name=reason][value=off-topic]');
    await pp.click('dialog button[type=submit]');
    await pp.waitForFunction(() => !document.querySelector('dialog'));
    await waitStatus(pp, /gemeldet/);
    disc.cur = mp;
    await go(mp, '#/moderation?state=reported', '[data-queue-item]');
    const item = mp.locator('[data-queue-item]', { hasText: 'Samstags ab 10 Uhr' });
    assert((await item.locator('[data-reasons]').textContent()).includes('Gehört nicht zum Thema'), 'report reason shown');
    eq(await item.locator('[data-action=approve]').count(), 0, 'a visible comment is not approved again');
    eq(await text(mp, '[data-queue-count=reported]'), '(1)', 'reported count');
    await item.locator('[data-action=dismiss]').click();
    await waitStatus(mp, /verworfen/);
    await item.waitFor({ state: 'detached' });
    await mp.waitForFunction(() => document.querySelector('[data-queue-count=reported]').textContent === ' (0)');
  }, DISC);

  await test('discussion: a progress entry has its own thread, linked from the timeline', async () => {
    const mp = disc.mp;
    disc.cur = mp;
    const r = await api('POST', `/measures/${disc.measure.id}/progress`, { date: '2025-09-01', title: 'Beratung jetzt auch online', text: 'Termine per Video.' });
    eq(r.status, 201, 'progress entry created');
    await go(mp, `#/measures/${disc.measure.id}/progress`, `[data-discuss="${r.data.id}"]`);
    await mp.click(`[data-discuss="${r.data.id}"]`);
    await mp.waitForSelector('.write-box textarea[name=content]');
    eq(await text(mp, '#page-title'), 'Beratung jetzt auch online', 'entry title');
    eq(await mp.getAttribute('.crumbs a', 'href'), `#/discuss/measure/${disc.measure.id}`, 'crumb to the measure\'s discussion');
    await mp.fill('.write-box textarea[name=content]', 'Gibt es die Video-Termine auch auf Arabisch?');
    await mp.click('.write-box button[type=submit]');
    await commentLi(mp, 'auch auf Arabisch').waitFor();
    const list = await (await fetch(`${BASE}/api/v1/progress/${r.data.id}/comments`, { headers: { Cookie: await cookieHeader(mp) } })).json();
    assert(JSON.stringify(list).includes('auch auf Arabisch'), 'a moderator\'s comment on the progress entry is public at once');
    // Moderators can hide a visible comment right in the thread (it is in no queue).
    const li = commentLi(mp, 'auch auf Arabisch');
    const cid = await li.getAttribute('data-comment');
    await li.locator(':scope > article [data-action=hide]').click();
    await mp.fill('dialog textarea[name=reason]', 'Test: in der Diskussion ausgeblendet');
    await mp.click('dialog button[type=submit]');
    await mp.waitForSelector(`li[data-comment="${cid}"][data-status=hidden]`);
    assert((await text(mp, `li[data-comment="${cid}"]`)).includes('Von der Moderation ausgeblendet'), 'placeholder in the thread');
  }, DISC);

  await test('discussion: hiding needs a reason and leaves a placeholder; restore', async () => {
    const mp = disc.mp;
    disc.cur = mp;
    await go(mp, '#/moderation?state=pending', `[data-queue-item="${disc.xss.id}"]`);
    await mp.click(`[data-queue-item="${disc.xss.id}"] [data-action=hide]`);
    await mp.waitForSelector('dialog textarea[name=reason]');
    await mp.click('dialog button[type=submit]');
    await mp.waitForSelector('dialog [data-field-wrap=reason] .field-error');
    await mp.fill('dialog textarea[name=reason]', 'Enthält Code statt eines Beitrags');
    await mp.click('dialog button[type=submit]');
    await mp.waitForSelector(`[data-queue-item="${disc.xss.id}"]`, { state: 'detached' });
    await waitStatus(mp, /ausgeblendet/);
    const hiddenHtml = await (await fetch(`${BASE}/measures/${disc.measure.id}`, { headers: { Accept: 'text/html' } })).text();
    assert(hiddenHtml.includes('Von der Moderation ausgeblendet'), 'public page shows the placeholder');
    await go(disc.pp, `#/discuss/measure/${disc.measure.id}`, '.thread');
    const ph = disc.pp.locator(`li[data-comment="${disc.xss.id}"]`);
    eq(await ph.getAttribute('data-status'), 'hidden', 'hidden');
    assert((await ph.textContent()).includes('Von der Moderation ausgeblendet'), 'placeholder');
    await shot(disc.pp, '23-discussion-thread');
    await go(mp, '#/moderation?state=hidden', `[data-queue-item="${disc.xss.id}"]`);
    assert((await text(mp, `[data-queue-item="${disc.xss.id}"]`)).includes('Enthält Code'), 'reason shown in the hidden list');
    await mp.click(`[data-queue-item="${disc.xss.id}"] [data-action=restore]`);
    await mp.waitForSelector(`[data-queue-item="${disc.xss.id}"]`, { state: 'detached' });
    await waitStatus(mp, /wieder sichtbar/);
    // Restored, the comment is public: the portal shows its markup as text too.
    const html = await (await fetch(`${BASE}/measures/${disc.measure.id}`, { headers: { Accept: 'text/html' } })).text();
    assert(html.includes('window.__xss = 1') && !html.includes('<script>window.__xss') && !/<img[^>]*onerror/.test(html), 'public page escapes the comment');
  }, DISC);

  await test('discussion: a reply from the fediverse waits in the queue with its actor URL', async () => {
    const mp = disc.mp;
    disc.cur = mp;
    const text0 = 'Eine Antwort aus dem Fediverse <b>mit Markup</b>';
    const sent = await sendActivity('carla', (actor) => ({
      id: `${actor}/create/${Date.now()}`, type: 'Create', actor, to: ['https://www.w3.org/ns/activitystreams#Public'],
      object: { id: `${actor}/notes/${Date.now()}`, type: 'Note', attributedTo: actor, inReplyTo: `${BASE}/measures/${disc.measure.id}`, content: `<p>${text0.replace(/</g, '&lt;')}</p>`, to: ['https://www.w3.org/ns/activitystreams#Public'] },
    }));
    assert(sent.status >= 200 && sent.status < 300, `reply accepted: ${sent.status} ${sent.text}`);
    const item = await until(async () => (await api('GET', '/moderation/queue?state=pending')).data.items.find((c) => c.author && c.author.actor === sent.actor), 'the remote reply in the queue');
    await go(mp, '#/moderation', `[data-queue-item="${item.id}"]`);
    eq(await mp.getAttribute(`[data-queue-item="${item.id}"] [data-author] a`, 'href'), sent.actor, 'actor URL linked');
    assert((await text(mp, `[data-queue-item="${item.id}"] .queue-content`)).includes('<b>mit Markup</b>'), 'its text shown as text');
    await mp.click(`[data-queue-item="${item.id}"] [data-action=approve]`);
    await mp.waitForSelector(`[data-queue-item="${item.id}"]`, { state: 'detached' });
  }, DISC);

  await test('discussion: a measure flagged from the fediverse is listed for the moderators', async () => {
    const mp = disc.mp;
    disc.cur = mp;
    const sent = await sendActivity('dora', (actor) => ({ id: `${actor}/flag/${Date.now()}`, type: 'Flag', actor, object: `${BASE}/measures/${disc.measure.id}`, content: 'spam' }));
    assert(sent.status >= 200 && sent.status < 300, `Flag accepted: ${sent.status} ${sent.text}`);
    await go(mp, '#/moderation?state=flagged', `[data-flagged="${disc.measure.id}"]`);
    const item = mp.locator(`[data-flagged="${disc.measure.id}"]`);
    assert((await item.textContent()).includes(disc.measure.title), 'measure named');
    eq(await item.locator('a', { hasText: disc.measure.title }).getAttribute('href'), `#/discuss/measure/${disc.measure.id}`, 'linked');
    eq(await item.locator(`a[href="${sent.actor}"]`).count(), 1, 'reporter named');
  }, DISC);

  await test('discussion: settings for moderation and a trusted participant (admin)', async () => {
      await go(disc.ap, '#/settings', 'form.record-form');
    const perHour = disc.ap.locator('input[name="moderation.rate_per_hour"]');
    assert(await perHour.count(), 'moderation settings shown');
    await perHour.fill('7');
    await disc.ap.fill('textarea[name="texts.netiquette.de"]', 'Bitte sachlich bleiben.');
    await disc.ap.click('form.record-form button[type=submit]');
    await waitStatus(disc.ap, /Gespeichert/);
    const st = (await api('GET', '/settings')).data;
    eq([st.moderation.rate_per_hour, st.texts.netiquette.de], [7, 'Bitte sachlich bleiben.'], 'stored settings');
    await go(disc.ap, '#/users', `[data-trusted="${USERS.participant}"]`);
    await disc.ap.check(`[data-trusted="${USERS.participant}"]`);
    await waitStatus(disc.ap, /vertrauenswürdig/);
    const u = (await fetch(`${BASE}/api/v1/users`, { headers: { Cookie: await cookieHeader(disc.ap) } }).then((r) => r.json())).items.find((x) => x.name === USERS.participant);
    eq(u.trusted, true, 'trusted stored');
  }, DISC);

  await test('discussion: too many comments: the wait is shown at the field (429 with Retry-After)', async () => {
    const pp = disc.pp;
    disc.cur = pp;
    const cur = await api('GET', '/settings');
    // Settings are the admin's: changed through the admin's browser session (CSRF, If-Match).
    const setRate = async (n) => {
      const now = await api('GET', '/settings');
      return disc.ap.evaluate(async ([etag, body]) => {
        const s = await (await fetch('/api/v1/session')).json();
        const r = await fetch('/api/v1/settings', { method: 'PATCH', headers: { 'Content-Type': 'application/json', 'If-Match': etag, 'X-CSRF-Token': s.csrf_token }, body: JSON.stringify(body) });
        return r.status;
      }, [now.etag, { moderation: { rate_per_hour: n } }]);
    };
    eq(await setRate(1), 200, 'rate limit set to 1 per hour');
    try {
      await go(pp, `#/discuss/measure/${disc.measure.id}`, '.write-box textarea[name=content]');
      await pp.fill('.write-box textarea[name=content]', 'Noch eine Frage …');
      await pp.click('.write-box button[type=submit]');
      await pp.waitForSelector('.write-box [data-field-wrap=content] .field-error');
      assert(/Bitte warten Sie \d+ Minute/.test(await text(pp, '.write-box [data-field-wrap=content] .field-error')), 'wait time at the field');
      eq(await pp.inputValue('.write-box textarea[name=content]'), 'Noch eine Frage …', 'the text is kept');
    } finally {
      await setRate((cur.data.moderation && cur.data.moderation.rate_per_hour) || 10);
    }
  }, DISC);

  await test('discussion: Meine Daten downloads JSON with the comment; the account can be deleted', async () => {
    const pp = disc.pp;
    disc.cur = pp;
    await go(pp, '#/mydata', '[data-action=export]');
    const [dl] = await Promise.all([pp.waitForEvent('download'), pp.click('[data-action=export]')]);
    assert(/\.json$/.test(dl.suggestedFilename()), `file name ${dl.suggestedFilename()}`);
    const data = JSON.parse(readFileSync(await dl.path(), 'utf8'));
    assert(JSON.stringify(data).includes('Gibt es das Sprachcaf'), 'export contains the comment');
    await pp.fill('input[name=password]', 'falsches-passwort-1');
    await pp.click('form button[type=submit].danger');
    await pp.click('dialog button.btn.danger');
    await pp.waitForSelector('[data-field-wrap=password] .field-error');
    await pp.fill('input[name=password]', PW.participant);
    await pp.click('form button[type=submit].danger');
    await pp.click('dialog button.btn.danger');
    await pp.waitForSelector('form input[name=name]');
    await waitStatus(pp, /gelöscht/);
    const r = await fetch(`${BASE}/api/v1/session`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: USERS.participant, password: PW.participant }) });
    assert(r.status >= 400, `login after deletion refused: ${r.status}`);
    for (const p of [disc.pp, disc.mp]) await p.context().close();
    });
}

const state = {};
const page = await newPage();

await test('login: wrong password shows an error, login shows name and role', async () => {
  await page.goto(ADMIN);
  await page.waitForSelector('input[name=name]');
  eq(await page.evaluate(() => document.documentElement.lang), 'de', 'default language');
  await page.fill('input[name=name]', 'admin');
  await page.fill('input[name=password]', 'falsches-passwort');
  await page.click('form button[type=submit]');
  await page.waitForSelector('.error-summary');
  assert((await text(page, '.error-summary')).includes('Benutzername oder Passwort ist falsch'), 'login error text');
  eq(await page.getAttribute('input[name=password]', 'aria-invalid'), 'true', 'password marked invalid');
  await shot(page, '01-login');
  await page.fill('input[name=password]', PW.admin);
  await page.click('form button[type=submit]');
  await page.waitForSelector('.user-name');
  eq(await text(page, '.user-name'), 'admin', 'user name in header');
  eq(await text(page, '.user-role'), 'Administration', 'role in header');
  await page.waitForSelector('[data-count="status:active"]');
});

// A sample measure, chosen before the record tests add their own.
disc.measure = (await api('GET', '/measures?limit=1&status=active')).data.items[0];
const discussionRun = discussionTests().catch((err) => {
  results.push({ name: 'discussion tests', ok: false });
  console.log(`FAIL discussion tests: ${err && err.stack}`);
});

await test('dashboard: numbers match the API', async () => {
  await go(page, '#/', '[data-count="status:active"]');
  const statuses = ['planned', 'active', 'completed', 'paused', 'cancelled'];
  for (const s of statuses) eq(await text(page, `[data-count="status:${s}"]`), String(await total('/measures', `&status=${s}`)), `status ${s}`);
  const tax = (await api('GET', '/taxonomy')).data;
  for (const f of tax.fields_of_action) eq(await text(page, `[data-count="field:${f.code}"]`), String(await total('/measures', `&field_of_action=${f.code}`)), `field ${f.code}`);
  eq(await text(page, '[data-stat=measures]'), String(await total('/measures')), 'measures total');
  eq(await text(page, '[data-stat=organisations]'), String(await total('/organisations')), 'organisations total');
  const d = (await api('GET', '/federation/deliveries')).data;
  eq(await text(page, '[data-stat=pending]'), String(d.pending), 'pending deliveries');
  eq(await text(page, '[data-stat=failed]'), String(d.failed), 'failed deliveries');
  const followers = (await api('GET', '/federation/followers')).data.items.filter((f) => f.state !== 'pending').length;
  eq(await text(page, '[data-stat=followers]'), String(followers), 'followers');
  await page.waitForSelector('.change-list li');
  assert((await text(page, '.change-list')).includes('System'), 'recent changes name who made them');
  await shot(page, '02-dashboard');
});

await test('organisation: API validation error shown at the field, then fixed and saved', async () => {
  const before = await total('/organisations');
  await go(page, '#/organisations/new', 'input[name=name]');
  await page.fill('input[name=name]', 'Sprachbrücke Magdeburg e. V. (Test)');
  await page.selectOption('select[name=kind]', 'migrant_organisation');
  await page.check('input[name=fields_of_action][value=HF3]');
  await page.check('input[name=fields_of_action][value=HF5]');
  await page.fill('input[name=languages]', 'de, ar, uk');
  await page.fill('input[name="contact.email"]', 'kontakt@sprachbruecke.example');
  await page.fill('input[name="address.street"]', 'Breiter Weg 1');
  await page.fill('input[name="address.postal_code"]', '391');
  await page.fill('input[name="address.city"]', 'Magdeburg');
  await page.click('form.record-form button[type=submit]');
  await page.waitForSelector('.error-summary');
  const err = page.locator('[data-field-wrap="address.postal_code"] .field-error');
  assert(await err.isVisible(), 'error next to the postal code field');
  assert((await err.textContent()).includes('fünfstellige Postleitzahl'), `error text: ${await err.textContent()}`);
  eq(await page.getAttribute('input[name="address.postal_code"]', 'aria-invalid'), 'true', 'aria-invalid');
  const describedBy = await page.getAttribute('input[name="address.postal_code"]', 'aria-describedby');
  assert(describedBy && describedBy.includes(await err.getAttribute('id')), 'error linked by aria-describedby');
  await page.click('.error-summary a');
  eq(await page.evaluate(() => document.activeElement.name), 'address.postal_code', 'summary link focuses the field');
  eq(await total('/organisations'), before, 'nothing stored');
  await shot(page, '03-organisation-error');
  await page.fill('input[name="address.postal_code"]', '39104');
  await page.click('form.record-form button[type=submit]');
  const hash = await waitHash(page, /^#\/organisations\/o-/);
  state.orgId = hash.split('/')[2];
  const o = (await api('GET', `/organisations/${state.orgId}`)).data;
  eq(o.address, { street: 'Breiter Weg 1', postal_code: '39104', city: 'Magdeburg' }, 'stored address');
  eq(o.languages, ['de', 'ar', 'uk'], 'stored languages');
  eq(o.fields_of_action, ['HF3', 'HF5'], 'stored fields');
  eq(await total('/organisations'), before + 1, 'one more organisation');
});

await test('measure: create with taxonomy and organisation pickers, dates, status, indicator', async () => {
  await go(page, '#/measures/new', 'input[name=title]');
  await page.fill('input[name=title]', 'Sprachcafé für Neuzugewanderte (Test)');
  await page.fill('textarea[name=description]', 'Wöchentliches Sprachcafé mit Ehrenamtlichen.');
  await page.fill('textarea[name=target_groups]', 'Neuzugewanderte\nEhrenamtliche');
  await page.check('input[name=fields_of_action][value=HF3]');
  await page.check('input[name=fields_of_action][value=HF5]');
  await page.check('input[name=themes][value=QT2]');
  await page.selectOption('select[name=status]', 'active');
  await page.fill('input[name=progress]', '15');
  await page.fill('input[name=start_date]', '2025-01-15');
  await page.fill('input[name=end_date]', '2026-12-31');
  await page.selectOption('select[name=lead_organisation]', state.orgId);
  await page.getByLabel('Volkshochschule Magdeburg').check();
  await page.click('[data-action=add-indicator]');
  await page.fill('input[name="indicators[0].name"]', 'Teilnehmende');
  await page.fill('input[name="indicators[0].unit"]', 'Personen');
  await page.fill('input[name="indicators[0].baseline"]', '0');
  await page.fill('input[name="indicators[0].target"]', '200');
  await page.click('[data-indicator="0"] [data-action=add-value]');
  await page.fill('[data-field-wrap="indicators[0].values[0]"] input', '2025-03-31');
  await page.getByLabel('Wert 1', { exact: true }).fill('40');
  await shot(page, '04-measure-new');
  await page.click('form.record-form button[type=submit]');
  const hash = await waitHash(page, /^#\/measures\/m-/);
  state.measureId = hash.split('/')[2];
  await page.waitForSelector('input[name=title]');
  const m = (await api('GET', `/measures/${state.measureId}`)).data;
  eq(m.fields_of_action, ['HF3', 'HF5'], 'fields');
  eq(m.themes, ['QT2'], 'themes');
  eq([m.status, m.progress, m.start_date, m.end_date], ['active', 15, '2025-01-15', '2026-12-31'], 'status, progress, dates');
  eq(m.lead_organisation, state.orgId, 'lead organisation');
  eq(m.partner_organisations.length, 1, 'one partner');
  eq(m.target_groups, ['Neuzugewanderte', 'Ehrenamtliche'], 'target groups');
  eq(m.indicators, [{ name: 'Teilnehmende', unit: 'Personen', baseline: 0, target: 200, values: [{ date: '2025-03-31', value: 40 }] }], 'indicator');
});

await test('measure: add an indicator value; the chart shows it', async () => {
  await go(page, `#/measures/${state.measureId}`, 'input[name=title]');
  await page.click('[data-indicator="0"] [data-action=add-value]');
  await page.fill('[data-field-wrap="indicators[0].values[1]"] input', '2025-06-30');
  await page.getByLabel('Wert 2', { exact: true }).fill('85');
  eq(await page.locator('[data-indicator="0"] svg.chart circle').count(), 2, 'two points in the chart');
  const label = await page.getAttribute('[data-indicator="0"] svg.chart', 'aria-label');
  assert(label.includes('2 Werte') && label.includes('85'), `chart text alternative: ${label}`);
  await page.click('form.record-form button[type=submit]');
  await page.waitForFunction(() => /Version 2/.test(document.querySelector('.intro')?.textContent || ''));
  const m = (await api('GET', `/measures/${state.measureId}`)).data;
  eq(m.indicators[0].values, [{ date: '2025-03-31', value: 40 }, { date: '2025-06-30', value: 85 }], 'stored values');
  await shot(page, '05-measure-edit');
});

await test('measure: add a progress entry (Sachstand) to the timeline', async () => {
  await go(page, `#/measures/${state.measureId}/progress`, 'form input[name=title]');
  await page.fill('input[name=date]', '2025-06-01');
  await page.fill('input[name=progress]', '40');
  await page.fill('input[name=title]', 'Zweiter Standort eröffnet');
  await page.fill('textarea[name=text]', 'Das Sprachcafé findet nun auch in Neu Olvenstedt statt.');
  await page.click('form.record-form button[type=submit]');
  await page.waitForSelector('.timeline li h3:text("Zweiter Standort eröffnet")');
  const list = (await api('GET', `/measures/${state.measureId}/progress`)).data;
  eq(list.total, 1, 'one progress entry');
  eq([list.items[0].title, list.items[0].progress, list.items[0].date], ['Zweiter Standort eröffnet', 40, '2025-06-01'], 'entry');
  await shot(page, '06-progress');
});

await test('measure: change history shows who changed which field from what to what', async () => {
  await go(page, `#/measures/${state.measureId}/history`, '.history');
  const first = page.locator('.history-entry').first();
  const t = await first.textContent();
  assert(t.includes('Geändert') && t.includes('Version 2') && t.includes('von admin'), `newest entry: ${t.slice(0, 120)}`);
  assert(t.includes('Indikatoren'), 'field name');
  assert((await first.locator('td.from').textContent()).includes('2025-03-31') && (await first.locator('td.to').textContent()).includes('2025-06-30'), 'from → to');
  await shot(page, '07-history');
});

await test('measure: an edit that breaks a rule shows the error at the field; nothing stored', async () => {
  const before = (await api('GET', `/measures/${state.measureId}`)).data;
  await go(page, `#/measures/${state.measureId}`, 'input[name=end_date]');
  await page.fill('input[name=end_date]', '2024-12-31');
  await page.click('form.record-form button[type=submit]');
  await page.waitForSelector('[data-field-wrap="end_date"] .field-error');
  assert((await text(page, '[data-field-wrap="end_date"] .field-error')).includes('Beginn'), 'error text at end date');
  const after = (await api('GET', `/measures/${state.measureId}`)).data;
  eq([after.version, after.end_date], [before.version, before.end_date], 'nothing stored');
});

await test('measure: 412 conflict shows both versions; "keep mine" merges and saves', async () => {
  await go(page, `#/measures/${state.measureId}`, 'input[name=title]');
  await page.fill('input[name=title]', 'Sprachcafé – meine Fassung');
  const cur = await api('GET', `/measures/${state.measureId}`);
  const r = await api('PATCH', `/measures/${state.measureId}`, { title: 'Sprachcafé – fremde Fassung', description: 'Von anderer Stelle geändert.' }, { 'If-Match': cur.etag });
  eq(r.status, 200, 'concurrent API change');
  await page.click('form.record-form button[type=submit]');
  await page.waitForSelector('.conflict [data-conflict-field=title]');
  eq(await text(page, '.conflict [data-conflict-field=title] td.mine'), 'Sprachcafé – meine Fassung', 'mine');
  eq(await text(page, '.conflict [data-conflict-field=title] td.theirs'), 'Sprachcafé – fremde Fassung', 'theirs');
  assert((await text(page, '.conflict')).includes('Beschreibung'), 'their other change is listed');
  await page.waitForFunction(() => /web-tests/.test(document.querySelector('.conflict .who')?.textContent || ''));
  await shot(page, '08-conflict');
  await page.click('.conflict [data-action=resolve]');
  await page.waitForFunction(() => !document.querySelector('.conflict') && document.querySelector('input[name=title]')?.value === 'Sprachcafé – meine Fassung');
  const m = (await api('GET', `/measures/${state.measureId}`)).data;
  eq([m.title, m.description], ['Sprachcafé – meine Fassung', 'Von anderer Stelle geändert.'], 'merged result');
});

await test('measure: 412 conflict; "discard mine" takes the stored version', async () => {
  await go(page, `#/measures/${state.measureId}`, 'input[name=progress]');
  await page.fill('input[name=progress]', '55');
  const cur = await api('GET', `/measures/${state.measureId}`);
  await api('PATCH', `/measures/${state.measureId}`, { progress: 60 }, { 'If-Match': cur.etag });
  await page.click('form.record-form button[type=submit]');
  await page.waitForSelector('.conflict [data-conflict-field=progress]');
  await page.click('.conflict [data-action=take-theirs]');
  await page.waitForFunction(() => !document.querySelector('.conflict') && document.querySelector('input[name=progress]')?.value === '60');
  const m = await api('GET', `/measures/${state.measureId}`);
  eq([m.data.progress, m.etag], [60, cur.etag.replace(/\d+/, (v) => String(Number(v) + 1))], 'stored version unchanged by the browser');
});

await test('measure: visible in the public JSON and on its public page', async () => {
  const j = await (await fetch(`${BASE}/api/v1/measures/${state.measureId}`)).json();
  eq(j.title, 'Sprachcafé – meine Fassung', 'public JSON');
  const html = await (await fetch(`${BASE}/measures/${state.measureId}`, { headers: { Accept: 'text/html' } })).text();
  assert(html.includes('Sprachcafé – meine Fassung'), 'public page shows the title');
  const list = await (await fetch(`${BASE}/api/v1/measures?q=Sprachcaf`)).json();
  assert(list.items.some((m) => m.id === state.measureId), 'found by search');
});

await test('lists: search and filters give the same totals as the API', async () => {
  const cases = [
    ['#/organisations?kind=migrant_organisation&language=ar', '/organisations', '&kind=migrant_organisation&language=ar'],
    ['#/organisations?q=sprach&field_of_action=HF3', '/organisations', '&q=sprach&field_of_action=HF3'],
    [`#/measures?organisation=${state.orgId}`, '/measures', `&organisation=${state.orgId}`],
    ['#/measures?theme=QT2&status=active', '/measures', '&theme=QT2&status=active'],
    ['#/measures?field_of_action=HF3,HF4&q=lotsen', '/measures', '&field_of_action=HF3,HF4&q=lotsen'],
  ];
  for (const [hash, path, q] of cases) {
    await go(page, hash, '.result-count[data-total]');
    eq(await page.getAttribute('.result-count', 'data-total'), String(await total(path, q)), hash);
    eq(await page.locator('table.data tbody tr[data-id]').count(), Math.min(50, await total(path, q)), `${hash}: rows`);
  }
  // Through the filter form: status and organisation pickers.
  await go(page, '#/measures', 'select[name=status]');
  await page.selectOption('select[name=status]', 'active');
  await page.selectOption('select[name=organisation]', state.orgId);
  await page.click('form.filters button[type=submit]');
  await waitHash(page, /status=active/);
  await page.waitForSelector('.result-count[data-total]');
  eq(await page.getAttribute('.result-count', 'data-total'), String(await total('/measures', `&status=active&organisation=${state.orgId}`)), 'filter form');
  assert((await page.locator('tr[data-id]').count()) >= 1, 'the new measure is listed');
});

await test('keyboard only: create a measure without the mouse', async () => {
  await go(page, '#/measures', '[data-action=new]');
  await page.reload();
  await page.waitForSelector('[data-action=new]');
  await page.keyboard.press('Tab');
  eq(await page.evaluate(() => document.activeElement.id), 'skip-link', 'first Tab reaches the skip link');
  await page.keyboard.press('Enter');
  eq(await page.evaluate(() => document.activeElement.id), 'main', 'skip link moves focus to the content');
  await tabTo(page, 'a[data-action=new]');
  await page.keyboard.press('Enter');
  await page.waitForSelector('input[name=title]');
  await tabTo(page, 'input[name=title]');
  const outline = await page.evaluate(() => {
    const s = getComputedStyle(document.activeElement);
    return { style: s.outlineStyle, width: parseFloat(s.outlineWidth) };
  });
  assert(outline.style !== 'none' && outline.width >= 2, `visible focus on the title input: ${JSON.stringify(outline)}`);
  await page.keyboard.type('Tastatur-Maßnahme Elterncafé');
  await tabTo(page, 'input[name=fields_of_action][value=HF2]');
  await page.keyboard.press('Space');
  await tabTo(page, 'select[name=status]');
  await page.keyboard.press('ArrowDown'); // planned → active
  await tabTo(page, 'form.record-form button[type=submit]');
  await page.keyboard.press('Enter');
  const hash = await waitHash(page, /^#\/measures\/m-/);
  const m = (await api('GET', `/measures/${hash.split('/')[2]}`)).data;
  eq([m.title, m.fields_of_action, m.status], ['Tastatur-Maßnahme Elterncafé', ['HF2'], 'active'], 'created by keyboard');
  state.keyboardMeasure = m.id;
});

await test('viewer: no editing controls, editing screens refused, API refuses writes', async () => {
  const vp = await newPage();
  await login(vp, 'viewer');
  eq(await text(vp, '.user-role'), 'Lesen', 'viewer role shown');
  await go(vp, '#/measures', 'table.data tbody tr');
  eq(await vp.locator('[data-action=new]').count(), 0, 'no "new measure" button');
  await go(vp, `#/measures/${state.measureId}`, '.kv');
  eq(await vp.locator('form.record-form, [data-action=delete], main input, main textarea').count(), 0, 'no form, no delete');
  await shot(vp, '09-viewer-measure');
  await go(vp, '#/organisations', 'table.data tbody tr');
  eq(await vp.locator('[data-action=new]').count(), 0, 'no "new organisation" button');
  await go(vp, `#/measures/${state.measureId}/progress`, '.timeline');
  eq(await vp.locator('main form, .timeline button').count(), 0, 'no progress form or delete buttons');
  await go(vp, '#/measures/new');
  eq(await text(vp, '#page-title'), 'Keine Berechtigung', 'new-measure screen refused');
  await go(vp, '#/users');
  eq(await text(vp, '#page-title'), 'Keine Berechtigung', 'users screen refused');
  eq(await vp.locator('[data-nav=users], [data-nav=tokens], [data-nav=settings]').count(), 0, 'no admin navigation');
  await go(vp, '#/transfer', '#export-title');
  eq(await vp.locator('#import-title').count(), 0, 'no import for viewers');
  const statuses = await vp.evaluate(async (mid) => {
    const s = await (await fetch('/api/v1/session')).json();
    const h = { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf_token };
    const a = await fetch('/api/v1/measures', { method: 'POST', headers: h, body: JSON.stringify({ title: 'x', fields_of_action: ['HF1'] }) });
    const b = await fetch(`/api/v1/measures/${mid}`, { method: 'PATCH', headers: { ...h, 'If-Match': '"1"' }, body: JSON.stringify({ title: 'x' }) });
    const c = await fetch(`/api/v1/measures/${mid}`, { method: 'DELETE', headers: h });
    return [a.status, b.status, c.status];
  }, state.measureId);
  eq(statuses, [403, 403, 403], 'viewer writes refused');
  await vp.context().close();
  currentPage = page;
});

await test('language: switch to English changes the UI, is persisted; Arabic is right-to-left', async () => {
  await go(page, '#/', '[data-count="status:active"]');
  await page.selectOption('#lang-select', 'en');
  await page.waitForFunction(() => document.documentElement.lang === 'en' && document.querySelector('#page-title')?.textContent === 'Overview');
  eq(await text(page, '[data-nav=measures]'), 'Measures', 'navigation in English');
  eq(await text(page, '.user-role'), 'Administrator', 'role in English');
  await page.reload();
  await page.waitForSelector('[data-count="status:active"]');
  eq(await page.evaluate(() => document.documentElement.lang), 'en', 'persisted over reload');
  await go(page, '#/organisations/new', 'input[name=name]');
  assert((await page.locator('label', { hasText: 'Postal code' }).count()) === 1, 'form labels in English');
  await shot(page, '10-english-organisation');
  await page.selectOption('#lang-select', 'ar');
  await page.waitForFunction(() => document.documentElement.dir === 'rtl' && document.documentElement.lang === 'ar');
  await go(page, '#/', '[data-count="status:active"]');
  eq(await text(page, '#page-title'), 'نظرة عامة', 'Arabic title');
  await shot(page, '11-arabic-dashboard');
  await page.selectOption('#lang-select', 'de');
  await page.waitForFunction(() => document.documentElement.lang === 'de' && document.documentElement.dir === 'ltr');
});

await test('CSV export: all organisations, paged from the list API', async () => {
  await go(page, '#/transfer', '[data-action=export]');
  await page.selectOption('select[name=export_kind]', 'organisations');
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('[data-action=export]')]);
  const file = await dl.path();
  const csv = readFileSync(file, 'utf8');
  assert(csv.charCodeAt(0) === 0xfeff, 'UTF-8 BOM for spreadsheets');
  const rows = parseCsv(csv);
  eq(rows[0].slice(0, 3), ['id', 'name', 'kind'], 'header');
  eq(rows.length - 1, await total('/organisations'), 'one row per organisation');
  assert(rows.some((r) => r[1] === 'Sprachbrücke Magdeburg e. V. (Test)' && r[11] === '39104'), 'the new organisation is in the file');
  assert(/\.csv$/.test(dl.suggestedFilename()), `file name ${dl.suggestedFilename()}`);
  state.exportCsv = csv;
  const [dl2] = await Promise.all([page.waitForEvent('download'), page.selectOption('select[name=export_kind]', 'measures').then(() => page.click('[data-action=export]'))]);
  const mrows = parseCsv(readFileSync(await dl2.path(), 'utf8'));
  eq(mrows.length - 1, await total('/measures'), 'one row per measure');
});

await test('CSV import: preview with the bad row\'s error; only valid rows written on confirmation', async () => {
  const before = await total('/organisations');
  const csv = [
    'name;kind;fields_of_action;languages;postal_code;city',
    'Import-Test Verein A;civil_society;HF5;de|ar;39104;Magdeburg',
    'Import-Test Verein B;Bildung;HF3|HF4;de;;Magdeburg',
    'Import-Test Verein C;keine-art;HF9;de;3910;Magdeburg',
  ].join('\n');
  await go(page, '#/transfer', '#import-title');
  await page.setInputFiles('input[type=file]', { name: 'akteure.csv', mimeType: 'text/csv', buffer: Buffer.from(csv, 'utf8') });
  await page.click('[data-action=preview]');
  await page.waitForSelector('.preview-summary');
  eq([await page.getAttribute('.preview-summary', 'data-valid'), await page.getAttribute('.preview-summary', 'data-invalid')], ['2', '1'], 'valid/invalid counts');
  const bad = page.locator('tr[data-line="4"]');
  eq(await bad.getAttribute('class'), 'row-invalid', 'line 4 marked invalid');
  const errs = await bad.locator('.row-errors').textContent();
  assert(errs.includes('kind') && errs.includes('HF9') && errs.includes('postal_code'), `row errors: ${errs}`);
  eq(await page.getAttribute('tr[data-line="2"]', 'class'), 'row-valid', 'line 2 valid');
  eq(await total('/organisations'), before, 'nothing written before confirmation');
  assert((await text(page, '[data-action=confirm-import]')).includes('2'), 'confirm names 2 rows');
  await shot(page, '12-import-preview');
  await page.click('[data-action=confirm-import]');
  await page.waitForSelector('.import-progress[data-ok]');
  eq([await page.getAttribute('.import-progress', 'data-ok'), await page.getAttribute('.import-progress', 'data-failed')], ['2', '0'], 'import result');
  eq(await total('/organisations'), before + 2, 'two organisations written');
  const b = (await api('GET', `/organisations?q=${encodeURIComponent('Import-Test Verein B')}`)).data.items[0];
  eq([b.kind, b.fields_of_action], ['education', ['HF3', 'HF4']], 'label "Bildung" mapped to its code');
  eq((await api('GET', `/organisations?q=${encodeURIComponent('Import-Test Verein C')}`)).data.total, 0, 'invalid row not written');
});

await test('administration: create user, set role, disable, reset password', async () => {
  await go(page, '#/users', 'form input[name=name]');
  await page.fill('form input[name=name]', 'test.neu');
  await page.selectOption('form select[name=role]', 'viewer');
  await page.fill('form input[name=password]', 'kurz');
  await page.click('form.record-form button[type=submit]');
  await page.waitForSelector('[data-field-wrap=password] .field-error');
  await page.fill('form input[name=password]', 'Anfangs-Passwort-1');
  await page.click('form.record-form button[type=submit]');
  await page.waitForSelector('tr[data-user="test.neu"]');
  await page.selectOption('tr[data-user="test.neu"] select', 'editor');
  await page.waitForFunction(() => /test\.neu/.test(document.getElementById('status').textContent));
  await page.click('tr[data-user="test.neu"] button:text("test.neu sperren")');
  await page.click('dialog button.btn.primary, dialog button.btn.danger');
  await page.waitForSelector('tr[data-user="test.neu"] .status-cancelled');
  await page.click('tr[data-user="test.neu"] button:text("Passwort von test.neu zurücksetzen")');
  await page.fill('dialog input[name=password]', 'Neues-Passwort-22');
  await page.click('dialog button[type=submit]');
  await page.waitForFunction(() => !document.querySelector('dialog'));
  const u = (await fetch(`${BASE}/api/v1/users`, { headers: { Cookie: await cookieHeader(page) } }).then((r) => r.json())).items.find((x) => x.name === 'test.neu');
  eq([u.role, u.disabled], ['editor', true], 'role and disabled stored');
  await shot(page, '13-users');
});

async function cookieHeader(p) {
  return (await p.context().cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
}

await test('administration: API token shown once, then revoked', async () => {
  await go(page, '#/tokens', 'form input[name=name]');
  await page.fill('form input[name=name]', 'import-test');
  await page.click('form.record-form button[type=submit]');
  await page.waitForSelector('input[data-token]');
  const tok = await page.inputValue('input[data-token]');
  assert(/^dnt_[0-9a-f]{32,}$/.test(tok), 'token shown');
  eq((await fetch(`${BASE}/api/v1/session`, { headers: { Authorization: `Bearer ${tok}` } })).status, 200, 'token works');
  await go(page, '#/tokens', 'tr[data-token="import-test"]');
  eq(await page.locator('input[data-token]').count(), 0, 'shown only once');
  await page.click('tr[data-token="import-test"] button');
  await page.click('dialog button.btn.danger');
  // The row's own button reads "Token import-test widerrufen": wait for the
  // date of the revocation and for the button to be gone, i.e. for the
  // DELETE to have been answered.
  await page.waitForFunction(() => {
    const row = document.querySelector('tr[data-token="import-test"]');
    return row && /widerrufen am/.test(row.textContent) && !row.querySelector('button');
  });
  eq((await fetch(`${BASE}/api/v1/measures`, { method: 'POST', headers: { Authorization: `Bearer ${tok}`, 'Content-Type': 'application/json' }, body: '{}' })).status, 401, 'revoked token refused');
});

await discussionRun;

// The accessibility pass reads the records made above and has its own contexts: it runs
// beside the remaining tests (federation, account, phone), which change nothing it shows
// in a way that matters (each page is audited as rendered in its own context).
const a11yRun = test('accessibility: own checks and axe-core, every page, German and English', async () => {
  const pages = [
    ['dashboard', '#/', '[data-count="status:active"]'],
    ['organisations', '#/organisations', 'table.data tbody tr'],
    ['organisation-edit', `#/organisations/${state.orgId}`, 'input[name=name]'],
    ['organisation-history', `#/organisations/${state.orgId}/history`, '.history'],
    ['measures', '#/measures', 'table.data tbody tr'],
    ['measure-edit', `#/measures/${state.measureId}`, 'input[name=title]'],
    ['measure-new', '#/measures/new', 'input[name=title]'],
    ['measure-progress', `#/measures/${state.measureId}/progress`, '.timeline'],
    ['measure-history', `#/measures/${state.measureId}/history`, '.history'],
    ['transfer', '#/transfer', '#import-title'],
    ['federation', '#/federation', '#fed-blocks'],
    ['users', '#/users', 'tr[data-user]'],
    ['tokens', '#/tokens', 'form input[name=name]'],
    ['settings', '#/settings', 'form.record-form'],
    ['account', '#/account', 'input[name=old_password]'],
    ['discussion', `#/discuss/measure/${disc.measure ? disc.measure.id : state.measureId}`, '.thread-box > :not(.loading)'],
    ['moderation', '#/moderation', '[data-queue-count=hidden]'],
    ['moderation-flagged', '#/moderation?state=flagged', '[data-flagged]'],
    ['registrations', '#/registrations', 'table.data tbody tr'],
    ['mydata', '#/mydata', '[data-action=export]'],
  ];
  // The discussion tests above take screenshots of these pages already.
  const NO_A11Y_SHOT = new Set(['discussion', 'moderation', 'moderation-flagged', 'registrations', 'mydata']);
  // German and English run side by side, each in its own browser context.
  const auditAll = async (lang) => {
    const failures = [];
    const ap = await newPage({ current: false });
    const add = (name, list) => list.forEach((p) => failures.push(`[${lang}] ${name}: ${p}`));
    await ap.goto(ADMIN);
    await ap.evaluate((l) => localStorage.setItem('dinet.admin.lang', l), lang);
    await ap.reload();
    await ap.waitForSelector('input[name=name]');
    add('login', await audit(ap, 'login', lang));
    await go(ap, '#/register', 'input[name=display_name]');
    await ap.click('form button[type=submit]');
    await ap.waitForSelector('.error-summary');
    add('register-errors', await audit(ap, 'register-errors', lang));
    await login(ap, 'admin');
    for (const [name, hash, sel] of pages) {
      if (overBudget()) throw new AssertionError(`time budget used up before ${lang}/${name}`);
      await go(ap, hash, sel);
      add(name, await audit(ap, name, lang));
      if (lang === 'de' && !NO_A11Y_SHOT.has(name)) await shot(ap, `a11y-${name}`);
    }
    // States that only exist after an action: form errors and the import preview.
    await go(ap, '#/organisations/new', 'input[name=name]');
    await ap.click('form.record-form button[type=submit]');
    await ap.waitForSelector('.error-summary');
    add('organisation-errors', await audit(ap, 'organisation-errors', lang));
    await go(ap, '#/transfer', '#import-title');
    await ap.check('input[type=radio][value=measures]');
    await ap.fill('textarea[name=paste]', 'title;fields_of_action\nGut;HF1\n;HF99\n');
    await ap.click('[data-action=preview]');
    await ap.waitForSelector('.preview-summary');
    add('import-preview', await audit(ap, 'import-preview', lang));
    await ap.context().close();
    return failures;
  };
  const failures = (await Promise.all([auditAll('de'), auditAll('en')])).flat();
  assert(!failures.length, `${failures.length} accessibility problems:\n     ${failures.slice(0, 25).join('\n     ')}`);
}, { page: () => null });

await test('federation: approve a follower, retry a failed delivery, block a follower, follow by URL', async () => {
  const a = await sendFollow('anna');
  assert(a.status >= 200 && a.status < 300, `signed Follow accepted by the inbox: ${a.status} ${a.text}`);
  const b = await sendFollow('bert');
  assert(b.status >= 200 && b.status < 300, `second Follow: ${b.status} ${b.text}`);
  await until(async () => (await api('GET', '/federation/followers')).data.items.filter((f) => f.state === 'pending').length === 2, 'two pending followers');
  await go(page, '#/', '[data-count="status:active"]');
  assert((await text(page, '#dash-waiting + ul')).includes('2 Folge-Anfragen'), 'dashboard: waiting for approval');
  await go(page, '#/federation', '#fed-followers');
  const rowA = page.locator('tr', { hasText: a.actor });
  await rowA.locator('button', { hasText: 'Freigeben' }).click();
  await page.waitForFunction((u) => [...document.querySelectorAll('tr')].some((tr) => tr.textContent.includes(u) && tr.textContent.includes('bestätigt')), a.actor);
  // The Accept goes to anna's inbox, which answers 403: a failed delivery.
  const failed = await until(async () => (await api('GET', '/federation/deliveries?state=failed')).data.items.find((d) => d.inbox.startsWith(a.actor)), 'a failed delivery');
  await go(page, '#/federation', `tr[data-delivery="${failed.id}"]`);
  eq(await text(page, '[data-stat=failed]'), String((await api('GET', '/federation/deliveries')).data.failed), 'failed count');
  assert((await text(page, `tr[data-delivery="${failed.id}"]`)).includes('403'), 'last result shows the HTTP status');
  await shot(page, '14-federation-failed');
  await page.click(`tr[data-delivery="${failed.id}"] button`);
  await until(async () => {
    const all = [...(await api('GET', '/federation/deliveries?state=pending')).data.items, ...(await api('GET', '/federation/deliveries?state=failed')).data.items];
    const d = all.find((x) => x.id === failed.id);
    return d && (d.state === 'pending' || d.attempts > failed.attempts);
  }, 'the retried delivery');
  // Block bert: he is removed and his actor is on the block list.
  await go(page, '#/federation', '#fed-followers');
  await page.locator('tr', { hasText: b.actor }).locator('button', { hasText: 'Sperren' }).click();
  await page.click('dialog button.btn.danger');
  await until(async () => (await api('GET', '/federation/blocks')).data.items.some((x) => x.pattern === b.actor), 'bert on the block list');
  await page.waitForFunction((u) => [...document.querySelectorAll('tr')].some((tr) => tr.textContent.includes(u) && tr.textContent.includes('Einzelner Akteur')), b.actor);
  const followers = (await api('GET', '/federation/followers')).data.items.map((f) => f.actor);
  eq([followers.includes(a.actor), followers.includes(b.actor)], [true, false], 'bert removed');
  assert((await api('GET', '/federation/blocks')).data.items.some((x) => x.pattern === b.actor), 'bert blocked');
  // Follow by URL, and a handle that cannot work shows its error at the field.
  await page.fill('input[name=target]', a.actor);
  await page.click('form.inline-form button[type=submit]:text("Folgen")');
  // The following table (not any row: anna's inbox also shows in the deliveries table).
  await page.waitForFunction((u) => [...(document.getElementById('fed-following')?.parentElement.querySelectorAll('tbody tr') || [])].some((tr) => tr.textContent.includes(u)), a.actor);
  eq((await api('GET', '/federation/following')).data.items.map((f) => f.actor), [a.actor], 'following anna');
  await page.fill('input[name=target]', 'niemand@localhost.invalid');
  await page.click('form.inline-form button[type=submit]:text("Folgen")');
  await page.waitForSelector('[data-field-wrap=target] .field-error', { timeout: 20000 });
  await shot(page, '14-federation');
});

await test('account: change own password, then log in with the new one', async () => {
  const ep = await newPage();
  await login(ep, 'editor');
  await go(ep, '#/account', 'input[name=old_password]');
  eq(await text(ep, '[data-me=role]'), 'Redaktion', 'own role shown');
  await ep.fill('input[name=old_password]', 'falsch-falsch');
  await ep.fill('input[name=new_password]', 'Neu-Redaktion-2025');
  await ep.fill('input[name=repeat]', 'Neu-Redaktion-2025');
  await ep.click('form.record-form button[type=submit]');
  await ep.waitForSelector('[data-field-wrap=old_password] .field-error');
  await ep.fill('input[name=old_password]', PW.editor);
  await ep.click('form.record-form button[type=submit]');
  await ep.waitForSelector('form input[name=name]');
  PW.editor = 'Neu-Redaktion-2025';
  await login(ep, 'editor');
  eq(await text(ep, '.user-name'), USERS.editor, 'logged in with the new password');
  await ep.click('.user-box button');
  await ep.waitForSelector('form input[name=name]');
  eq((await ep.evaluate(() => fetch('/api/v1/session').then((r) => r.json()))).authenticated, false, 'logged out');
  await ep.context().close();
  currentPage = page;
});

await test('phone-sized screen: no horizontal scrolling, menu opens', async () => {
  const mp = await newPage({ width: 390, height: 844 });
  await login(mp, 'admin');
  for (const hash of ['#/', `#/measures/${state.measureId}`, '#/organisations', '#/transfer']) {
    await go(mp, hash);
    const over = await mp.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert(over <= 1, `${hash}: page is ${over}px wider than the screen`);
  }
  // 200 % zoom on a 1280 px wide window is a 640 px wide layout.
  await mp.setViewportSize({ width: 640, height: 720 });
  for (const hash of [`#/measures/${state.measureId}`, '#/federation', '#/users']) {
    await go(mp, hash);
    const over = await mp.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert(over <= 1, `200 %: ${hash}: page is ${over}px wider than the window`);
  }
  await mp.setViewportSize({ width: 390, height: 844 });
  await go(mp, '#/');
  assert(await mp.locator('.nav-toggle').isVisible(), 'menu button');
  assert(!(await mp.locator('[data-nav=measures]').isVisible()), 'menu closed');
  await mp.click('.nav-toggle');
  assert(await mp.locator('[data-nav=measures]').isVisible(), 'menu open');
  eq(await mp.getAttribute('.nav-toggle', 'aria-expanded'), 'true', 'aria-expanded');
  await go(mp, '#/');
  await shot(mp, '15-phone-dashboard');
  await mp.context().close();
  currentPage = page;
});

await a11yRun;

await test('i18n: de and en catalogues have the same keys; every key used in the code exists', async () => {
  const flat = (o, pre = '') => Object.entries(o).flatMap(([k, v]) => (v && typeof v === 'object' && !('other' in v) ? flat(v, `${pre}${k}.`) : [`${pre}${k}`]));
  const de = JSON.parse(readFileSync(join(ADMIN_WEB, 'i18n', 'de.json'), 'utf8'));
  const en = JSON.parse(readFileSync(join(ADMIN_WEB, 'i18n', 'en.json'), 'utf8'));
  const dk = new Set(flat(de));
  const ek = new Set(flat(en));
  const onlyDe = [...dk].filter((k) => !ek.has(k));
  const onlyEn = [...ek].filter((k) => !dk.has(k));
  eq([onlyDe, onlyEn], [[], []], 'same keys');
  const { execSync } = await import('node:child_process');
  const src = execSync(`cat ${join(ADMIN_WEB, 'js')}/*.js ${join(ADMIN_WEB, 'js', 'views')}/*.js`).toString();
  const used = [...src.matchAll(/\bt\('([a-zA-Z0-9_.-]+)'/g)].map((m) => m[1]);
  const missing = [...new Set(used)].filter((k) => !dk.has(k) && !flat(de).some((x) => x.startsWith(`${k}.`)));
  eq(missing, [], 'keys used in code but missing from de.json');
});

await test('no JavaScript errors and no CSP violations in any page', async () => {
  assert(!problems.length, problems.slice(0, 10).join('\n     '));
});

// ---- report -------------------------------------------------------------------------------

for (const c of contexts) await c.close().catch(() => {});
await browser.close();
fedi.close();

console.log('\naccessibility results (violations: own check / axe-core):');
a11yReport.sort((a, b) => (a.lang + a.page).localeCompare(b.lang + b.page));
for (const r of a11yReport) console.log(`  ${r.lang}  ${r.page.padEnd(22)} ${r.own} / ${r.axe}`);
console.log(`screenshots: ${SHOTS}`);
const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
console.log(`web: ${((Date.now() - T0) / 1000).toFixed(1)} s`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
