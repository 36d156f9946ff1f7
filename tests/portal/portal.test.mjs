// Checks of the public portal against a running state node (SBASE) and district node
// (DBASE); started by run-portal.sh, which sets up both nodes. Part 1 uses plain HTTP
// (what curl sees), part 2 drives Debian's chromium through playwright-core.
// Prints one line per check and writes "PASSED FAILED" to $RESULT_FILE.
import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const { DBASE, SBASE, XSS, XSS_ID, RESULT_FILE } = process.env;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = process.env.SCREENSHOT_DIR || new URL('./screenshots', import.meta.url).pathname;
const LEGAL_SET = process.env.LEGAL_SET === '1';
mkdirSync(SHOTS, { recursive: true });

let passed = 0;
let failed = 0;
function record(okay, name, detail) {
  if (okay) {
    passed++;
    console.log(`ok    ${name}`);
  } else {
    failed++;
    console.log(`FAIL  ${name}${detail ? `\n      ${String(detail).split('\n').join('\n      ')}` : ''}`);
  }
}
async function test(name, fn) {
  try {
    const problems = await fn();
    if (Array.isArray(problems) && problems.length) record(false, name, problems.slice(0, 12).join('\n'));
    else record(true, name);
  } catch (e) {
    record(false, name, e && e.stack ? e.stack.split('\n').slice(0, 3).join('\n') : e);
  }
}
function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}
function finish() {
  if (RESULT_FILE) writeFileSync(RESULT_FILE, `${passed} ${failed}\n`);
  console.log(`portal.test.mjs: ${passed} passed, ${failed} failed`);
}

async function get(url, headers = {}) {
  const r = await fetch(url, { headers, redirect: 'manual' });
  return { status: r.status, headers: r.headers, text: await r.text() };
}
async function json(url) {
  const r = await fetch(url, { headers: { Accept: 'application/json' } });
  assert(r.ok, `${url}: HTTP ${r.status}`);
  return r.json();
}
const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const decode = (s) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');

// The text of each page of a PDF as Chromium writes it (Type0 fonts with ToUnicode
// maps, Identity-H), enough to find the page numbers and the measures' titles.
function pdfPages(buf) {
  const s = buf.toString('latin1');
  const objs = new Map();
  for (const m of s.matchAll(/(\d+) 0 obj([\s\S]*?)endobj/g)) objs.set(Number(m[1]), m[2]);
  const stream = (body) => {
    const m = body && body.match(/stream\r?\n([\s\S]*?)\r?\nendstream/);
    if (!m) return '';
    let data = Buffer.from(m[1], 'latin1');
    if (/FlateDecode/.test(body.slice(0, body.indexOf('stream')))) {
      try { data = inflateSync(data); } catch { return ''; }
    }
    return data.toString('latin1');
  };
  const cmapOf = new Map();
  const fontMap = (ref) => {
    if (cmapOf.has(ref)) return cmapOf.get(ref);
    const map = new Map();
    const tu = (objs.get(ref) || '').match(/\/ToUnicode (\d+) 0 R/);
    const cm = tu ? stream(objs.get(Number(tu[1]))) : '';
    const u16 = (h) => Buffer.from(h, 'hex').swap16().toString('utf16le');
    for (const blk of cm.match(/beginbfchar[\s\S]*?endbfchar/g) || [])
      for (const m of blk.matchAll(/<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>/g)) map.set(parseInt(m[1], 16), u16(m[2]));
    for (const blk of cm.match(/beginbfrange[\s\S]*?endbfrange/g) || [])
      for (const m of blk.matchAll(/<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>/g)) {
        const a = parseInt(m[1], 16), b = parseInt(m[2], 16), u = parseInt(m[3], 16);
        for (let k = a; k <= b; k++) map.set(k, String.fromCodePoint(u + k - a));
      }
    cmapOf.set(ref, map);
    return map;
  };
  const kids = (s.match(/\/Type \/Pages[\s\S]*?\/Kids \[([^\]]*)\]/) || ['', ''])[1].match(/\d+(?= 0 R)/g) || [];
  return kids.map((k) => {
    const page = objs.get(Number(k)) || '';
    const fonts = {};
    for (const m of ((page.match(/\/Font <<([^>]*)>>/) || ['', ''])[1]).matchAll(/\/(\w+) (\d+) 0 R/g)) fonts[m[1]] = Number(m[2]);
    const content = stream(objs.get(Number((page.match(/\/Contents (\d+) 0 R/) || [])[1])));
    let map = new Map(), text = '';
    for (const t of content.matchAll(/\/(\w+) [\d.]+ Tf|<([0-9A-Fa-f]*)> Tj|\[([^\]]*)\] TJ/g)) {
      if (t[1]) { map = fonts[t[1]] ? fontMap(fonts[t[1]]) : new Map(); continue; }
      const hexes = t[2] !== undefined ? [t[2]] : [...t[3].matchAll(/<([0-9A-Fa-f]*)>/g)].map((x) => x[1]);
      for (const h of hexes) for (let i = 0; i + 4 <= h.length; i += 4) text += map.get(parseInt(h.slice(i, i + 4), 16)) ?? '';
      text += ' ';
    }
    return text;
  });
}
const squash = (t) => t.normalize('NFKC').replace(/\s+/g, '');

// ---- the data the pages show ----------------------------------------------------------

const M = (await json(`${DBASE}/api/v1/measures?q=Sprachcaf&limit=1`)).items[0];
const ORG = (await json(`${DBASE}/api/v1/organisations?q=Volkshochschule&limit=1`)).items[0];
const PROG = (await json(`${DBASE}/api/v1/measures/${M.id}/progress`)).items[0];
const XSS_PROG = (await json(`${DBASE}/api/v1/measures/${XSS_ID}/progress`)).items[0];
const HF3 = (await json(`${SBASE}/api/v1/measures?field_of_action=HF3&limit=200`)).items;
const DPORT = new URL(DBASE).port;

// Every page type on both nodes, with what it must contain.
function pagesOf(base, state) {
  const p = [
    { path: '/', must: state ? [/<svg class="tilemap"/, /id="kartentabelle"/, /Neueste Fortschritte/, /action="\/suche"/]
      : [/Integrationsarbeit in Magdeburg/, /Zahlen im Überblick/, /Neueste Maßnahmen/, /action="\/suche"/] },
    { path: '/?lang=en', lang: 'en', must: [/Integration work in/, /Fields of action/] },
    { path: '/suche', must: [/Maßnahmen gefunden/] },
    { path: '/suche?q=Sprachcaf', must: [/Sprachcafé und Hausaufgabenhilfe/] },
    { path: `/suche?field=HF3&status=active${state ? '&district=15003' : ''}&to=2025-12-31`, must: [/Sprachcafé/] },
    { path: '/handlungsfelder', must: [/Handlungsfelder und Querschnittsthemen/, /href="\/handlungsfelder\/HF7"/, /href="\/querschnittsthemen\/QT3"/] },
    { path: '/handlungsfelder/HF3', must: [/<h1>Handlungsfeld HF3: Bildungsintegration und Sprachförderung<\/h1>/, /Maßnahmen nach Status/, /Sprachcafé/] },
    { path: '/handlungsfelder/HF3?status=planned', must: [/Berufssprachkurs Pflege/] },
    { path: '/querschnittsthemen/QT1', must: [/Querschnittsthema QT1/, /Sprachcafé/] },
    { path: '/kreise/15003', must: [/<h1>Magdeburg<\/h1>/, /Kreisschlüssel/, /data-key="rsa">SHA256:/, /data-key="ed25519">SHA256:/, /Volkshochschule Magdeburg/,
      ...(state ? [/Letzter Abgleich/] : LEGAL_SET ? [/href="mailto:integration@magdeburg\.example"/, /<address>Alter Markt 6<br>39104 Magdeburg<\/address>/] : [])] },
    { path: '/akteure', must: [/Volkshochschule Magdeburg/, /name="language"/, /name="kind"/] },
    { path: '/akteure?kind=welfare&language=ar', must: [/Migrationsberatung für Erwachsene Magdeburg/], mustNot: [/Jobcenter Magdeburg/] },
    { path: '/akteure?q=Volkshochschule', must: [/Volkshochschule Magdeburg/] },
    { path: '/bericht', must: [/Umsetzungsbericht/, /Sprachcafé/] },
    { path: '/bericht?field=HF3&district=15003&from=2025-01-01&to=2025-12-31', must: [/Umsetzungsbericht/, /Sprachcafé und Hausaufgabenhilfe/, /01\.01\.2025 – 31\.12\.2025/], mustNot: [/Berufssprachkurs Pflege/] },
    { path: '/impressum', must: state || !LEGAL_SET ? [/data-placeholder="impressum"/] : [/Alter Markt 6, 39104 Magdeburg/] },
    { path: '/datenschutz', must: state || !LEGAL_SET ? [/data-placeholder="datenschutz"/] : [/keine personenbezogenen Daten/] },
    { path: '/barrierefreiheit', must: state || !LEGAL_SET ? [/data-placeholder="barrierefreiheit"/, /data-placeholder="contact_email"/]
      : [/weitgehend barrierefrei/, /href="mailto:integration@magdeburg\.example"/] },
    { path: '/impressum?lang=en', lang: 'en', must: state || !LEGAL_SET ? [/data-placeholder="impressum"/] : [/City of Magdeburg, integration office/], mustNot: [/<div lang="de">/] },
    { path: '/datenschutz?lang=en', lang: 'en', must: state || !LEGAL_SET ? [/data-placeholder="datenschutz"/]
      : [/only available in German/, /<div lang="de"><div class="prose"><p>Dieser Knoten speichert/] },
    { path: `/measures/${M.id}`, must: [/<h1>Sprachcafé und Hausaufgabenhilfe<\/h1>/, /class="badge s-active">laufend/, /Fortschritt 70&nbsp;%/,
      /01\.09\.2024/, new RegExp(`href="/organisations/${M.lead_organisation}"`), /<svg class="ichart"[^>]*role="img"/, /<caption[^>]*>Werte: Teilnehmende pro Woche/,
      /Neue Ehrenamtliche für Mathematik/, /Änderungsverlauf/, /Folgen im Fediverse/, new RegExp(`@magdeburg@127\\.0\\.0\\.1:${DPORT}`),
      /id="diskussion"/, /<h2 id="diskussion-h">Diskussion<\/h2>/,
      ...(state ? [/Signiert von Kreis Magdeburg; Signatur geprüft/, new RegExp(`href="${DBASE}/measures/${M.id}"`)] : [/Veröffentlicht von diesem Knoten/])] },
    { path: `/measures/${M.id}?lang=en`, lang: 'en', must: [/Key facts/, state ? /Signed by district Magdeburg; signature verified/ : /Published by this node/] },
    { path: `/organisations/${ORG.id}`, must: [/<h1>Volkshochschule Magdeburg<\/h1>/, /Maßnahmen \(federführend oder als Partner\)/, /Sprachcafé/] },
    { path: `/progress/${PROG.id}`, must: [/Neue Ehrenamtliche für Mathematik/, new RegExp(`href="/measures/${M.id}"`)] },
    { path: `/measures/${XSS_ID}`, xss: true, must: [/Beschreibung mit &lt;script&gt;alert\(1\)&lt;\/script&gt; &amp; &quot;Anführung&quot; &lt;b&gt;fett&lt;\/b&gt;/] },
    { path: `/progress/${XSS_PROG.id}`, xss: true, must: [] },
    { path: '/suche?q=alert', xss: true, must: [] },
  ];
  if (state) {
    p.push({ path: '/kreise', must: [/Kreise und kreisfreie Städte/, /nicht angebunden/, /href="\/kreise\/15091"/] });
    p.push({ path: '/kreise/15091', must: [/<h1>Wittenberg<\/h1>/, /noch nicht an die Landesebene angebunden/] });
    p.push({ path: '/?figure=progress', must: [/data-figure="progress"/] });
    p.push({ path: '/?figure=field&field=HF3', must: [/data-figure="field"/, /data-field="HF3"/] });
    p.push({ path: '/handlungsfelder/HF3?district=15003', must: [/Sprachcafé/] });
  }
  return p.map((x) => ({ ...x, base, state, url: base + x.path }));
}
const PAGES = [...pagesOf(SBASE, true), ...pagesOf(DBASE, false)];

// ---- static HTML checks --------------------------------------------------------------

function attr(tag, name) {
  const m = tag.match(new RegExp(`\\s${name}\\s*=\\s*("([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i'));
  return m ? decode(m[2] ?? m[3] ?? m[4] ?? '') : null;
}
function tags(html, name) {
  return html.match(new RegExp(`<${name}\\b[^>]*>`, 'gi')) || [];
}
// Resources a page loads: only from its own origin. Outbound <a> links are allowed.
function thirdParty(html, pageUrl) {
  const own = new URL(pageUrl).origin;
  const out = [];
  for (const name of ['link', 'script', 'img', 'iframe', 'source', 'video', 'audio', 'embed', 'object', 'image', 'use', 'track', 'form']) {
    for (const t of tags(html, name)) {
      for (const a of ['src', 'href', 'srcset', 'data', 'action', 'xlink:href', 'poster']) {
        const v = attr(t, a.replace(':', '\\:'));
        if (!v) continue;
        for (const part of v.split(',')) {
          const u = part.trim().split(/\s+/)[0];
          if (!u) continue;
          let abs;
          try { abs = new URL(u, pageUrl); } catch { out.push(`bad URL ${u}`); continue; }
          if (/^https?:$/.test(abs.protocol) && abs.origin !== own) out.push(`<${name} ${a}="${u}">`);
          if (/^(javascript|data|blob):/i.test(u) && name !== 'img') out.push(`<${name} ${a}="${u.slice(0, 30)}">`);
        }
      }
    }
  }
  if (/url\(\s*['"]?https?:/i.test(html)) out.push('CSS url() to another origin');
  return out;
}
function staticProblems(html, page) {
  const p = [];
  const lang = page.lang || 'de';
  if (!new RegExp(`<html lang="${lang}">`).test(html)) p.push(`html lang is not ${lang}`);
  const h1 = (html.match(/<h1[\s>]/g) || []).length;
  if (h1 !== 1) p.push(`${h1} h1 elements`);
  if ((html.match(/<main[\s>]/g) || []).length !== 1) p.push('not exactly one main');
  if (!/<header[\s>]/.test(html) || !/<footer[\s>]/.test(html) || !/<nav[\s>]/.test(html)) p.push('landmarks missing');
  if (!/<a class="skip" href="#inhalt">/.test(html) || !/id="inhalt"/.test(html)) p.push('no skip link to #inhalt');
  if (!/<title>[^<]+<\/title>/.test(html)) p.push('no title');
  const canon = tags(html, 'link').find((t) => attr(t, 'rel') === 'canonical');
  if (!canon || !attr(canon, 'href').startsWith(page.base + '/')) p.push(`canonical missing or not absolute: ${canon}`);
  for (const prop of ['og:title', 'og:description', 'og:url', 'og:type']) {
    const m = tags(html, 'meta').find((t) => attr(t, 'property') === prop);
    if (!m || !attr(m, 'content')) p.push(`no ${prop}`);
  }
  if (html.includes('[[')) p.push(`missing message: ${html.match(/\[\[[^\]]*\]\]/)[0]}`);
  if (/\sstyle\s*=/.test(html) || /<style[\s>]/.test(html)) p.push('inline style (the CSP blocks it)');
  for (const s of tags(html, 'script')) if (!attr(s, 'src')) p.push('inline script (the CSP blocks it)');
  p.push(...thirdParty(html, page.url));
  // Every form control has a label.
  const labels = new Set(tags(html, 'label').map((t) => attr(t, 'for')));
  for (const name of ['input', 'select', 'textarea']) {
    for (const t of tags(html, name)) {
      if (/type="(hidden|submit|button)"/.test(t)) continue;
      const id = attr(t, 'id');
      if (!(id && labels.has(id)) && !attr(t, 'aria-label')) p.push(`control without label: ${t}`);
    }
  }
  // Tables: a caption each, header cells with scope.
  const tables = (html.match(/<table[\s>]/g) || []).length;
  const captions = (html.match(/<caption[\s>]/g) || []).length;
  if (tables !== captions) p.push(`${tables} tables but ${captions} captions`);
  for (const th of tags(html, 'th')) if (!attr(th, 'scope')) p.push(`th without scope: ${th}`);
  if (tables && !tags(html, 'th').length) p.push('tables without header cells');
  // Unique ids.
  const ids = tags(html, '[a-z0-9]+').map((t) => attr(t, 'id')).filter(Boolean);
  const dup = ids.filter((x, i) => ids.indexOf(x) !== i);
  if (dup.length) p.push(`duplicate ids: ${[...new Set(dup)].join(', ')}`);
  return p;
}

// ---- part 1: HTTP --------------------------------------------------------------------

const htmlOf = new Map();
for (const page of PAGES) {
  await test(`http: ${page.state ? 'state' : 'district'} ${page.path} answers 200 with its content`, async () => {
    const r = await get(page.url);
    assert(r.status === 200, `HTTP ${r.status}`);
    assert((r.headers.get('content-type') || '').startsWith('text/html'), `content type ${r.headers.get('content-type')}`);
    htmlOf.set(page.url, r.text);
    const p = [];
    for (const re of page.must || []) if (!re.test(r.text)) p.push(`missing ${re}`);
    for (const re of page.mustNot || []) if (re.test(r.text)) p.push(`must not contain ${re}`);
    if (!r.headers.get('content-security-policy')) p.push('no Content-Security-Policy header');
    if (r.headers.get('set-cookie')) p.push(`sets a cookie: ${r.headers.get('set-cookie')}`);
    return p;
  });
  await test(`http: ${page.state ? 'state' : 'district'} ${page.path}: lang, one h1, landmarks, labels, table headers, OpenGraph, canonical, same-origin resources`, async () => {
    const html = htmlOf.get(page.url);
    assert(html, 'page not loaded');
    return staticProblems(html, page);
  });
}

await test('http: the measure titled <script>alert(1)</script> shows as text in pages and meta', async () => {
  const p = [];
  for (const page of PAGES.filter((x) => x.xss)) {
    const html = htmlOf.get(page.url) || '';
    if (html.includes(XSS)) p.push(`${page.url}: raw ${XSS}`);
    if (!html.includes(esc(XSS))) p.push(`${page.url}: no escaped title`);
  }
  const m = htmlOf.get(`${SBASE}/measures/${XSS_ID}`) || '';
  if (!/<title>&lt;script&gt;alert\(1\)&lt;\/script&gt; – /.test(m)) p.push('title element not escaped');
  if (!/property="og:title" content="&lt;script&gt;alert\(1\)&lt;\/script&gt;"/.test(m)) p.push('og:title not escaped');
  for (const base of [SBASE, DBASE]) {
    const r = await get(`${base}/`);
    if (r.text.includes(XSS)) p.push(`${base}/: raw title`);
  }
  return p;
});

await test('http: unknown pages answer 404 as HTML in the frame', async () => {
  const p = [];
  for (const u of [`${SBASE}/handlungsfelder/HF9`, `${SBASE}/querschnittsthemen/HF1`, `${SBASE}/kreise/99999`, `${DBASE}/kreise/15001`,
    `${SBASE}/feeds/kreis/15003.rss`, `${SBASE}/feeds/massnahme/m-doesnotexist.atom`]) {
    const r = await get(u);
    if (r.status !== 404 || !/<h1>Seite nicht gefunden<\/h1>/.test(r.text)) p.push(`${u}: HTTP ${r.status}`);
  }
  const r = await get(`${DBASE}/kreise`);
  if (r.status !== 303 || r.headers.get('location') !== '/kreise/15003') p.push(`district /kreise: ${r.status} ${r.headers.get('location')}`);
  return p;
});

await test('http: a record that does not exist answers 404 (HTML in the frame when portal_not_found is wired)', async () => {
  const p = [];
  for (const base of [SBASE, DBASE]) {
    const r = await get(`${base}/measures/m-doesnotexist00`, { Accept: 'text/html' });
    if (r.status !== 404) p.push(`${base}: HTTP ${r.status}`);
    if ((r.headers.get('content-type') || '').startsWith('text/html') && !/<h1>Seite nicht gefunden<\/h1>/.test(r.text)) p.push(`${base}: HTML without the frame`);
    const a = await get(`${base}/measures/m-doesnotexist00`, { Accept: 'application/activity+json' });
    if (a.status !== 404 || (a.headers.get('content-type') || '').startsWith('text/html')) p.push(`${base}: AS2 client got ${a.status} ${a.headers.get('content-type')}`);
  }
  return p;
});

await test('http: the record URLs still answer ActivityStreams clients (content negotiation)', async () => {
  const r = await get(`${SBASE}/measures/${M.id}`, { Accept: 'application/activity+json' });
  assert(r.status === 200 && JSON.parse(r.text).type === 'Article', `HTTP ${r.status} ${r.text.slice(0, 100)}`);
  const h = await get(`${SBASE}/measures/${M.id}`, { Accept: 'text/html' });
  assert((h.headers.get('vary') || '').includes('Accept'), 'no Vary: Accept on the HTML');
});

// The map's table holds the numbers of /api/v1/stats.
const STATS = await json(`${SBASE}/api/v1/stats`);
function mapRows(html) {
  const table = (html.match(/<table id="kartentabelle"[\s\S]*?<\/table>/) || [''])[0];
  const rows = {};
  for (const tr of table.match(/<tr data-code="\d+">[\s\S]*?<\/tr>/g) || []) {
    const code = tr.match(/data-code="(\d+)"/)[1];
    rows[code] = {};
    for (const m of tr.matchAll(/data-col="(\w+)" data-value="([^"]*)"/g)) rows[code][m[1]] = m[2] === '' ? null : Number(m[2]);
  }
  const foot = (table.match(/<tfoot>[\s\S]*?<\/tfoot>/) || [''])[0];
  const total = {};
  for (const m of foot.matchAll(/data-col="(\w+)" data-value="([^"]*)"/g)) total[m[1]] = Number(m[2]);
  return { rows, total };
}
await test('http: the map table has the 14 districts with the numbers of /api/v1/stats (measures, active, mean progress)', async () => {
  const { rows, total } = mapRows(htmlOf.get(`${SBASE}/`));
  const p = [];
  if (Object.keys(rows).length !== 14) p.push(`${Object.keys(rows).length} rows`);
  for (const [code, r] of Object.entries(rows)) {
    const d = STATS.districts[code] || {};
    if (r.measures !== (d.measures || 0)) p.push(`${code} measures ${r.measures} ≠ ${d.measures || 0}`);
    if (r.active !== ((d.by_status || {}).active || 0)) p.push(`${code} active ${r.active}`);
    const mean = d.progress ? d.progress.mean : null;
    if (mean == null ? r.progress !== null : Math.abs(r.progress - mean) > 0.001) p.push(`${code} progress ${r.progress} ≠ ${mean}`);
  }
  if (total.measures !== STATS.state.measures) p.push(`total ${total.measures} ≠ ${STATS.state.measures}`);
  if (!(STATS.districts['15003'] && STATS.districts['15003'].measures > 0)) p.push('stats show no measures for 15003');
  return p;
});
await test('http: with ?figure=field&field=HF3 the table shows the HF3 counts of /api/v1/stats', async () => {
  const { rows, total } = mapRows(htmlOf.get(`${SBASE}/?figure=field&field=HF3`));
  const p = [];
  let sum = 0;
  for (const [code, r] of Object.entries(rows)) {
    const d = STATS.districts[code];
    const want = d && d.by_field && d.by_field.HF3 ? d.by_field.HF3.total : 0;
    sum += want;
    if (r.field !== want) p.push(`${code}: ${r.field} ≠ ${want}`);
  }
  if (total.field !== STATS.state.by_field.HF3.total || sum !== total.field) p.push(`total ${total.field}`);
  const html = htmlOf.get(`${SBASE}/?figure=field&field=HF3`);
  const tile = html.match(/<title>Magdeburg: (\d+)<\/title>/);
  if (!tile || Number(tile[1]) !== STATS.districts['15003'].by_field.HF3.total) p.push(`map tile shows ${tile && tile[1]}`);
  return p;
});
await test('http: the fields table on the start page matches /api/v1/stats by field and status', async () => {
  const html = htmlOf.get(`${SBASE}/`);
  const p = [];
  for (const code of ['HF1', 'HF2', 'HF3', 'HF4', 'HF5', 'HF6', 'HF7', 'QT1', 'QT2', 'QT3']) {
    const tr = (html.match(new RegExp(`<tr data-code="${code}">[\\s\\S]*?</tr>`)) || [''])[0];
    const want = STATS.state.by_field[code] || {};
    const total = Number((tr.match(/data-total="(\d+)"/) || [])[1]);
    if (total !== (want.total || 0)) p.push(`${code}: total ${total} ≠ ${want.total || 0}`);
    for (const s of ['planned', 'active', 'completed', 'paused', 'cancelled']) {
      const n = Number((tr.match(new RegExp(`data-status="${s}">(\\d+)<`)) || [])[1]);
      if (n !== (want[s] || 0)) p.push(`${code} ${s}: ${n} ≠ ${want[s] || 0}`);
    }
  }
  return p;
});
await test('http: state and district show the same key fingerprints for 15003', async () => {
  const keys = (html) => [...html.matchAll(/data-key="(\w+)">([^<]+)</g)].map((m) => `${m[1]}=${m[2]}`).join(' ');
  const s = keys(htmlOf.get(`${SBASE}/kreise/15003`)), d = keys(htmlOf.get(`${DBASE}/kreise/15003`));
  assert(s && s === d, `state: ${s}\ndistrict: ${d}`);
  assert(/data-col="last_sync">\d\d\.\d\d\.\d{4}, \d\d:\d\d UTC/.test(htmlOf.get(`${SBASE}/kreise/15003`)), 'no last sync time');
});

await test('http: every link on every page resolves', async () => {
  const seen = new Set();
  for (const [pageUrl, html] of htmlOf) {
    for (const t of tags(html, 'a')) {
      const h = attr(t, 'href');
      if (!h || /^(mailto|tel):/.test(h) || h.startsWith('#')) continue;
      const u = new URL(h, pageUrl);
      u.hash = '';
      if (u.origin === new URL(SBASE).origin || u.origin === new URL(DBASE).origin) seen.add(u.href);
      else throw new Error(`link to an unexpected origin: ${u.href}`);
    }
  }
  const p = [];
  const list = [...seen];
  for (let i = 0; i < list.length; i += 8) {
    await Promise.all(list.slice(i, i + 8).map(async (u) => {
      const r = await fetch(u, { redirect: 'follow' });
      await r.arrayBuffer();
      if (r.status !== 200) p.push(`${u}: HTTP ${r.status}`);
    }));
  }
  console.log(`      (${list.length} distinct links checked)`);
  return p;
});

await test('http: the style sheet has the print layout (A4, page numbers in @page margin boxes) and no remote URLs', async () => {
  const css = (await get(`${SBASE}/assets/portal.css`)).text;
  const p = [];
  for (const re of [/@page\s*\{[^}]*size:A4/, /@bottom-center\{content:"Seite " counter\(page\) " von " counter\(pages\)/, /@media print/, /prefers-contrast:more/, /html\.hc/])
    if (!re.test(css)) p.push(`missing ${re}`);
  if (/@import|url\(/.test(css)) p.push('the style sheet loads something');
  const js = (await get(`${SBASE}/assets/portal.js`)).text;
  if (/https?:\/\//.test(js)) p.push('the script names a URL');
  return p;
});

await test('http: robots.txt names the sitemap', async () => {
  for (const base of [SBASE, DBASE]) {
    const r = await get(`${base}/robots.txt`);
    assert(r.status === 200 && r.text.includes(`Sitemap: ${base}/sitemap.xml`) && /Disallow: \/admin\//.test(r.text), `${base}: ${r.text}`);
  }
});

// ---- part 2: the browser ----------------------------------------------------------------

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  // playwright-core gives every launch a fresh temporary user-data-dir.
});
let dialogs = 0;
const pageProblems = [];
async function newContext(opts = {}) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'de-DE', timezoneId: 'Europe/Berlin', ...opts });
  const requests = [];
  ctx.on('request', (r) => requests.push({ url: r.url(), nav: r.isNavigationRequest(), from: r.frame() ? r.frame().url() : '' }));
  ctx.on('page', (pg) => {
    pg.on('dialog', (d) => { dialogs++; d.dismiss(); });
    pg.on('pageerror', (e) => pageProblems.push(`page error: ${e.message}`));
    pg.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) pageProblems.push(`CSP: ${m.text()}`);
      else if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) pageProblems.push(`console error on ${pg.url()}: ${m.text()}`);
    });
  });
  return { ctx, requests };
}

try {
  // Feeds and the sitemap are parsed as XML by the browser's own parser.
  const { ctx: xctx } = await newContext();
  const xpage = await xctx.newPage();
  await xpage.goto(`${SBASE}/robots.txt`);
  const parseXml = (text) => xpage.evaluate((t) => {
    const d = new DOMParser().parseFromString(t, 'application/xml');
    const err = d.getElementsByTagName('parsererror')[0];
    if (err) return { error: err.textContent.slice(0, 200) };
    const root = d.documentElement;
    const ns = root.namespaceURI;
    const all = (n) => [...d.getElementsByTagNameNS(ns, n)];
    return {
      root: root.localName, ns,
      entries: all('entry').map((e) => ({
        id: (e.getElementsByTagNameNS(ns, 'id')[0] || {}).textContent,
        title: (e.getElementsByTagNameNS(ns, 'title')[0] || {}).textContent,
        updated: (e.getElementsByTagNameNS(ns, 'updated')[0] || {}).textContent,
        link: (e.getElementsByTagNameNS(ns, 'link')[0] || { getAttribute: () => null }).getAttribute('href'),
      })),
      locs: all('loc').map((e) => e.textContent),
      self: [...root.children].some((e) => e.localName === 'link' && e.getAttribute('rel') === 'self'),
    };
  }, text);

  const feeds = [];
  for (const base of [SBASE, DBASE]) {
    feeds.push(`${base}/feeds/alle.atom`, `${base}/feeds/kreis/15003.atom`, `${base}/feeds/handlungsfeld/HF3.atom`,
      `${base}/feeds/querschnittsthema/QT1.atom`, `${base}/feeds/massnahme/${M.id}.atom`, `${base}/feeds/massnahme/${XSS_ID}.atom`);
  }
  for (const u of feeds) {
    await test(`atom: ${u.replace(/^http:\/\/127\.0\.0\.1:\d+/, (o) => (o === SBASE ? 'state' : 'district'))} is well-formed Atom with entries`, async () => {
      const r = await get(u);
      assert(r.status === 200, `HTTP ${r.status}`);
      assert((r.headers.get('content-type') || '').startsWith('application/atom+xml'), r.headers.get('content-type'));
      const x = await parseXml(r.text);
      assert(!x.error, x.error);
      assert(x.root === 'feed' && x.ns === 'http://www.w3.org/2005/Atom', `root ${x.root} ${x.ns}`);
      assert(x.self, 'no rel=self link');
      assert(x.entries.length > 0, 'no entries');
      for (const e of x.entries) assert(e.id && e.title && /^\d{4}-\d\d-\d\dT/.test(e.updated) && e.link, `incomplete entry ${JSON.stringify(e)}`);
      if (u.includes(XSS_ID)) {
        assert(x.entries.some((e) => e.title.includes(XSS)), 'the XSS title is not text in the feed');
        assert(!r.text.includes(XSS), 'raw markup in the feed');
      }
      if (u.includes('/handlungsfeld/HF3')) {
        assert(x.entries.some((e) => e.title.includes('Sprachcafé')), 'HF3 feed misses Sprachcafé');
        assert(!x.entries.some((e) => /Jobcenter|Anerkennungslotsen/.test(e.title)), 'HF3 feed has an HF4 measure');
      }
    });
  }
  for (const base of [SBASE, DBASE]) {
    await test(`sitemap: ${base === SBASE ? 'state' : 'district'} /sitemap.xml is well-formed and lists every measure page`, async () => {
      const r = await get(`${base}/sitemap.xml`);
      assert(r.status === 200, `HTTP ${r.status}`);
      const x = await parseXml(r.text);
      assert(!x.error, x.error);
      assert(x.root === 'urlset', x.root);
      const locs = new Set(x.locs);
      const measures = (await json(`${base}/api/v1/measures?limit=200`)).items;
      assert(measures.length >= 14, `${measures.length} measures`);
      const missing = measures.filter((m) => !locs.has(`${base}/measures/${m.id}`)).map((m) => m.id);
      assert(!missing.length, `missing ${missing.join(', ')}`);
      assert(locs.has(`${base}/`) && locs.has(`${base}/handlungsfelder/HF3`) && locs.has(`${base}/kreise/15003`), 'pages missing');
    });
  }
  await xctx.close();

  // JavaScript off: the start page, a measure page and the directory are complete.
  {
    const { ctx } = await newContext({ javaScriptEnabled: false });
    const pg = await ctx.newPage();
    await test('no-js: the state start page shows the map, its table and the fields', async () => {
      await pg.goto(`${SBASE}/`);
      assert(await pg.locator('svg.tilemap').isVisible(), 'no map');
      assert((await pg.locator('#kartentabelle tbody tr').count()) === 14, 'table rows');
      assert((await pg.locator('table[data-kind=field] tbody tr').count()) === 7, 'fields table');
      assert(await pg.locator('.contrast-toggle').isHidden(), 'the JS-only button shows without JS');
      await pg.screenshot({ path: join(SHOTS, 'nojs-state-start.png'), fullPage: true });
    });
    await test('no-js: the figure form works as a plain GET form', async () => {
      await pg.goto(`${SBASE}/`);
      await pg.selectOption('select[name=figure]', 'field');
      await pg.selectOption('select[name=field]', 'HF3');
      await Promise.all([pg.waitForURL(/figure=field/), pg.click('.figure-form button[type=submit]')]);
      assert(/field=HF3/.test(pg.url()), pg.url());
      assert(await pg.locator('#kartentabelle[data-field=HF3]').count() === 1, 'table not for HF3');
    });
    await test('no-js: a measure page shows title, progress, indicator chart and table, timeline', async () => {
      await pg.goto(`${SBASE}/measures/${M.id}`);
      assert((await pg.locator('h1').textContent()) === M.title, 'h1');
      assert(await pg.locator('.progress-text').first().isVisible(), 'progress');
      assert(await pg.locator('svg.ichart').isVisible(), 'chart');
      assert(await pg.locator('table.values').isVisible(), 'values table');
      assert((await pg.locator('.timeline li').count()) >= 1, 'timeline');
    });
    await test('no-js: the directory lists organisations and filters with a plain GET form', async () => {
      await pg.goto(`${SBASE}/akteure`);
      assert((await pg.locator('#ergebnisse .cards li').count()) >= 9, 'cards');
      await pg.selectOption('select[name=kind]', 'education');
      await Promise.all([pg.waitForURL(/kind=education/), pg.click('form.filters button[type=submit]')]);
      const names = await pg.locator('#ergebnisse .card-title').allTextContents();
      assert(names.length >= 1 && names.every((n) => /Volkshochschule/.test(n)), names.join(' | '));
    });
    await test('no-js: the district start page shows its figures and measures', async () => {
      await pg.goto(`${DBASE}/`);
      assert(await pg.locator('.keyfigs').first().isVisible(), 'figures');
      assert((await pg.locator('.cards li').count()) >= 1, 'measures');
    });
    await ctx.close();
  }

  // With JavaScript: axe-core, own checks, the request log.
  const { ctx, requests } = await newContext();
  const pg = await ctx.newPage();
  pg.setDefaultTimeout(15000);
  const axeReport = [];
  async function audit(label, lang) {
    const own = await pg.evaluate((expectLang) => {
      const p = [];
      if (document.documentElement.lang !== expectLang) p.push(`lang ${document.documentElement.lang}`);
      const h1 = [...document.querySelectorAll('h1')].filter((e) => e.offsetParent !== null);
      if (h1.length !== 1) p.push(`${h1.length} visible h1`);
      for (const el of document.querySelectorAll('input, select, textarea')) {
        if (el.type === 'hidden') continue;
        if (!(el.labels && el.labels.length && el.labels[0].textContent.trim()) && !el.getAttribute('aria-label')) p.push(`unlabelled ${el.name}`);
      }
      for (const t of document.querySelectorAll('table')) {
        if (!t.caption || !t.caption.textContent.trim()) p.push('table without caption');
        if (!t.querySelector('th')) p.push('table without th');
      }
      for (const th of document.querySelectorAll('th')) if (!th.getAttribute('scope')) p.push('th without scope');
      let last = 0;
      for (const h of document.querySelectorAll('h1, h2, h3, h4, h5, h6')) {
        const n = Number(h.tagName[1]);
        if (last && n > last + 1) p.push(`heading jumps from h${last} to h${n}: ${h.textContent.trim().slice(0, 40)}`);
        last = n;
      }
      for (const sel of ['header', 'main', 'footer', 'nav']) if (!document.querySelector(sel)) p.push(`no ${sel}`);
      for (const svg of document.querySelectorAll('svg')) {
        if (svg.closest('[aria-hidden=true]')) continue;
        if (svg.getAttribute('role') !== 'img' || !svg.querySelector('title')) p.push('svg neither hidden nor a named image');
      }
      return p;
    }, lang);
    await pg.evaluate(AXE_SOURCE);
    const axe = await pg.evaluate(async () => {
      const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] }, resultTypes: ['violations'] });
      return r.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
    });
    axeReport.push({ label, own: own.length, axe: axe.length });
    return [...own.map((x) => `own: ${x}`), ...axe.map((x) => `axe: ${x}`)];
  }

  const auditPages = [
    ['state start', `${SBASE}/`, 'de'], ['state start (figure progress)', `${SBASE}/?figure=progress`, 'de'],
    ['state start (en)', `${SBASE}/?lang=en`, 'en'], ['state search', `${SBASE}/suche?q=Sprach`, 'de'],
    ['state fields', `${SBASE}/handlungsfelder`, 'de'], ['state field HF3', `${SBASE}/handlungsfelder/HF3`, 'de'],
    ['state theme QT1', `${SBASE}/querschnittsthemen/QT1`, 'de'], ['state districts', `${SBASE}/kreise`, 'de'],
    ['state district 15003', `${SBASE}/kreise/15003`, 'de'], ['state directory', `${SBASE}/akteure`, 'de'],
    ['state report', `${SBASE}/bericht?field=HF3&district=15003&from=2025-01-01&to=2025-12-31`, 'de'],
    ['state measure', `${SBASE}/measures/${M.id}`, 'de'], ['state measure (en)', `${SBASE}/measures/${M.id}?lang=en`, 'en'],
    ['state organisation', `${SBASE}/organisations/${ORG.id}`, 'de'], ['state progress', `${SBASE}/progress/${PROG.id}`, 'de'],
    ['state impressum', `${SBASE}/impressum`, 'de'], ['state barrierefreiheit', `${SBASE}/barrierefreiheit`, 'de'],
    ['state 404', `${SBASE}/handlungsfelder/HF9`, 'de'],
    ['district start', `${DBASE}/`, 'de'], ['district district', `${DBASE}/kreise/15003`, 'de'],
    ['district measure', `${DBASE}/measures/${M.id}`, 'de'], ['district directory (en)', `${DBASE}/akteure?lang=en`, 'en'],
    ['district impressum', `${DBASE}/impressum`, 'de'], ['district report', `${DBASE}/bericht`, 'de'],
  ];
  for (const [label, url, lang] of auditPages) {
    await test(`a11y: ${label}: axe-core (WCAG 2.1 A/AA, best practice) and own checks find nothing`, async () => {
      const r = await pg.goto(url);
      assert(r.status() === 200 || label.includes('404'), `HTTP ${r.status()}`);
      return audit(label, lang);
    });
  }
  console.log('      accessibility (own / axe violations): ' + axeReport.map((r) => `${r.label} ${r.own}/${r.axe}`).join('; '));

  await test('browser: every request of every page stays on the page\'s origin (request log)', async () => {
    const p = [];
    for (const r of requests) {
      if (r.nav || !r.from || r.from === 'about:blank') continue;
      const from = new URL(r.from).origin;
      const to = new URL(r.url);
      if (to.protocol === 'data:') continue;
      if (to.origin !== from) p.push(`${r.from} → ${r.url}`);
    }
    console.log(`      (${requests.length} requests logged)`);
    return p;
  });

  await test('browser: the first Tab reaches the skip link, which moves to the content', async () => {
    await pg.goto(`${SBASE}/`);
    await pg.keyboard.press('Tab');
    assert(await pg.evaluate(() => document.activeElement.classList.contains('skip')), 'skip link not first');
    assert(await pg.locator('a.skip').isVisible(), 'skip link invisible when focused');
    await pg.keyboard.press('Enter');
    assert(await pg.evaluate(() => location.hash === '#inhalt'), 'not moved');
  });

  await test('browser: live filter on the search page updates results and address without reloading', async () => {
    await pg.goto(`${SBASE}/suche`);
    await pg.evaluate(() => { window.__noReload = true; });
    const want = (await json(`${SBASE}/api/v1/measures?status=completed&limit=1`)).total;
    await pg.selectOption('form.filters select[name=status]', 'completed');
    await pg.waitForFunction(() => /status=completed/.test(location.search));
    await pg.waitForFunction((n) => document.querySelector('#ergebnisse h2') && document.querySelector('#ergebnisse h2').dataset.count === String(n), want);
    assert(await pg.evaluate(() => window.__noReload === true), 'the page reloaded');
    const status = await pg.locator('#live-status').textContent();
    assert(status.includes(String(want)), `live region says "${status}"`);
  });

  await test('browser: the high-contrast switch toggles and is remembered (no cookie)', async () => {
    await pg.goto(`${SBASE}/`);
    const btn = pg.locator('.contrast-toggle');
    assert(await btn.isVisible(), 'no switch');
    await btn.click();
    assert(await pg.evaluate(() => document.documentElement.classList.contains('hc')), 'no hc class');
    assert((await btn.getAttribute('aria-pressed')) === 'true', 'aria-pressed');
    await pg.screenshot({ path: join(SHOTS, 'state-start-high-contrast.png'), fullPage: false });
    await pg.reload();
    assert(await pg.evaluate(() => document.documentElement.classList.contains('hc')), 'not remembered');
    await pg.locator('.contrast-toggle').click();
    assert((await ctx.cookies()).length === 0, 'cookies set');
  });

  await test('print: the HF3 report prints to an A4 PDF with more than one page, "Seite N von M" on each, and every HF3 measure', async () => {
    await pg.goto(`${SBASE}/bericht?field=HF3`);
    const text = await pg.locator('main').textContent();
    const missing = HF3.filter((m) => !text.includes(m.title)).map((m) => m.title);
    assert(!missing.length, `missing ${missing.join(', ')}`);
    assert(HF3.length >= 3, `${HF3.length} HF3 measures`);
    const pdf = await pg.pdf({ preferCSSPageSize: true, printBackground: true });
    writeFileSync(join(SHOTS, 'report-HF3.pdf'), pdf);
    const s = pdf.toString('latin1');
    const box = s.match(/\/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]/);
    assert(box && Math.abs(Number(box[1]) - 595.28) < 2 && Math.abs(Number(box[2]) - 841.89) < 2, `page size ${box && box.slice(1)}`);
    const texts = pdfPages(pdf);
    const pages = texts.length;
    assert(pages > 1, `${pages} pages`);
    texts.forEach((t, i) => assert(squash(t).includes(squash(`Seite ${i + 1} von ${pages}`)), `page ${i + 1} has no page number: ${t.slice(0, 120)}`));
    const all = squash(texts.join(' '));
    const notPrinted = HF3.filter((m) => !all.includes(squash(m.title))).map((m) => m.title);
    assert(!notPrinted.length, `not in the PDF: ${notPrinted.join(', ')}`);
    assert(!squash(texts[0]).includes(squash('3. Maßnahmen im Einzelnen')), 'the details do not start on a new page');
    console.log(`      (${pages} A4 pages, ${pdf.length} bytes)`);
    await pg.emulateMedia({ media: 'print' });
    await pg.screenshot({ path: join(SHOTS, 'report-print-media.png'), fullPage: false });
    await pg.emulateMedia({ media: 'screen' });
  });

  await test('browser: no script ran from data (no dialogs), no CSP violations or page errors', async () => {
    for (const u of [`${SBASE}/measures/${XSS_ID}`, `${DBASE}/measures/${XSS_ID}`, `${SBASE}/suche?q=alert`, `${DBASE}/`]) {
      await pg.goto(u);
      if (u.includes(XSS_ID)) assert((await pg.locator('h1').textContent()) === XSS, 'h1 is not the literal title');
    }
    assert(dialogs === 0, `${dialogs} dialogs`);
    return pageProblems;
  });

  // Screenshots to look at.
  await test('browser: screenshots (desktop and phone)', async () => {
    const shots = [['state-start', `${SBASE}/`], ['state-start-en', `${SBASE}/?lang=en`], ['state-field-HF3', `${SBASE}/handlungsfelder/HF3`],
      ['state-district-15003', `${SBASE}/kreise/15003`], ['state-measure', `${SBASE}/measures/${M.id}`], ['state-directory', `${SBASE}/akteure`],
      ['state-report', `${SBASE}/bericht?field=HF3&district=15003&from=2025-01-01&to=2025-12-31`], ['district-start', `${DBASE}/`],
      ['district-impressum', `${DBASE}/impressum`], ['state-impressum-placeholder', `${SBASE}/impressum`]];
    for (const [name, url] of shots) {
      await pg.goto(url);
      await pg.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
    }
    await pg.setViewportSize({ width: 390, height: 844 });
    for (const [name, url] of [['phone-state-start', `${SBASE}/`], ['phone-measure', `${SBASE}/measures/${M.id}`]]) {
      await pg.goto(url);
      const wide = await pg.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
      assert(!wide, `${name}: the page scrolls sideways`);
      await pg.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
    }
  });
  await ctx.close();
} catch (e) {
  record(false, 'browser part', e.stack);
} finally {
  await browser.close();
}
finish();
