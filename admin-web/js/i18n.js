// Message catalogues: admin-web/i18n/<lang>.json, listed in i18n/languages.json.
// A new language is data: add its catalogue and list it. Missing keys fall back to
// the language's "fallback" (default: de), so a partial catalogue works.

const STORE_KEY = 'dinet.admin.lang';
const DEFAULT_LANG = 'de';

let languages = {}; // code -> {name, dir, locale, fallback}
let current = DEFAULT_LANG;
let chain = []; // catalogues in lookup order
const cache = new Map();
const listeners = new Set();

async function loadCatalogue(code) {
  if (cache.has(code)) return cache.get(code);
  const r = await fetch(`i18n/${code}.json`, { headers: { Accept: 'application/json' } });
  if (!r.ok) throw new Error(`catalogue ${code}: HTTP ${r.status}`);
  const cat = await r.json();
  cache.set(code, cat);
  return cat;
}

export async function initI18n() {
  const r = await fetch('i18n/languages.json');
  languages = await r.json();
  let wanted = null;
  try {
    wanted = localStorage.getItem(STORE_KEY);
  } catch (_) {
    /* storage disabled */
  }
  if (!wanted || !languages[wanted]) wanted = DEFAULT_LANG;
  await setLanguage(wanted, false);
}

export function availableLanguages() {
  return Object.entries(languages).map(([code, l]) => ({ code, ...l }));
}

export function language() {
  return current;
}

export function locale() {
  return (languages[current] && languages[current].locale) || current;
}

export async function setLanguage(code, persist = true) {
  if (!languages[code]) code = DEFAULT_LANG;
  const cats = [];
  const seen = new Set();
  let c = code;
  while (c && !seen.has(c)) {
    seen.add(c);
    cats.push(await loadCatalogue(c));
    c = (languages[c] && languages[c].fallback) || (c === DEFAULT_LANG ? null : DEFAULT_LANG);
  }
  chain = cats;
  current = code;
  document.documentElement.lang = code;
  document.documentElement.dir = (languages[code] && languages[code].dir) || 'ltr';
  if (persist) {
    try {
      localStorage.setItem(STORE_KEY, code);
    } catch (_) {
      /* storage disabled */
    }
  }
  for (const fn of listeners) fn(code);
}

export function onLanguageChange(fn) {
  listeners.add(fn);
}

// Keys are dotted paths; a member whose name itself contains dots
// ("contact.email" inside "fields") is found as well.
function resolve(obj, parts) {
  if (!parts.length) return obj;
  if (!obj || typeof obj !== 'object') return undefined;
  const whole = parts.join('.');
  if (Object.prototype.hasOwnProperty.call(obj, whole)) return obj[whole];
  if (Object.prototype.hasOwnProperty.call(obj, parts[0])) return resolve(obj[parts[0]], parts.slice(1));
  return undefined;
}

function lookup(key) {
  const parts = key.split('.');
  for (const cat of chain) {
    const v = resolve(cat, parts);
    if (v !== undefined) return v;
  }
  return undefined;
}

export function has(key) {
  return lookup(key) !== undefined;
}

/**
 * t('nav.dashboard'), or t('orgs.found', {count: 3}) for a plural message.
 * A message that is an object is chosen by plural category of params.count
 * ({"one": "…", "other": "…"}). {name} placeholders are replaced; numbers are
 * formatted for the locale.
 */
export function t(key, params = {}) {
  let m = lookup(key);
  if (m === undefined) {
    console.warn('i18n: missing key', key);
    return key;
  }
  if (m && typeof m === 'object') {
    const cat = new Intl.PluralRules(locale()).select(Number(params.count) || 0);
    m = m[cat] !== undefined ? m[cat] : m.other;
  }
  return String(m).replace(/\{(\w+)\}/g, (_, n) => {
    const v = params[n];
    if (v === undefined || v === null) return '';
    return typeof v === 'number' ? formatNumber(v) : String(v);
  });
}

export function formatNumber(n, opts) {
  if (n === null || n === undefined || n === '') return '';
  return new Intl.NumberFormat(locale(), opts).format(n);
}

/** A date YYYY-MM-DD, shown as a calendar date without time zone shifts. */
export function formatDate(d) {
  if (!d) return '';
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(d);
  if (!m) return d;
  const dt = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeZone: 'UTC' }).format(dt);
}

/** A UTC timestamp, shown in the browser's time zone. */
export function formatDateTime(ts) {
  if (!ts) return '';
  const dt = new Date(ts);
  if (Number.isNaN(dt.getTime())) return ts;
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'short' }).format(dt);
}

/** A label for a taxonomy entry in the current language ({de, en} names). */
export function localName(names) {
  if (!names) return '';
  if (typeof names === 'string') return names;
  return names[current] || names[(languages[current] || {}).fallback] || names.de || names.en || '';
}

/** Translates the API's English validation details where the catalogue knows them. */
export function serverDetail(detail) {
  if (!detail) return '';
  const table = lookup('serverErrors') || {};
  // Longest matching prefix wins: "must not be before start_date (2025-01-01)".
  let best = null;
  for (const k of Object.keys(table)) {
    if (detail.startsWith(k) && (!best || k.length > best.length)) best = k;
  }
  if (!best) return detail;
  const rest = detail.slice(best.length).trim().replace(/^\((.*)\)$/, '$1').replace(/^:\s*/, '');
  return table[best].replace('{rest}', rest);
}
