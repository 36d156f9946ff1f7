// The node's JSON API (protocol-docs/api.md). Same origin; the session cookie is
// HttpOnly, and unsafe requests carry the session's CSRF token.

const BASE = '/api/v1';
let csrf = null;
let onUnauthenticated = null;

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
    this.type = (this.problem.type || '').replace(/^\/problems\//, '');
  }
  /** errors[] as [{field, detail}] (may be empty). */
  get errors() {
    return Array.isArray(this.problem.errors) ? this.problem.errors : [];
  }
}

export function setCsrf(token) {
  csrf = token || null;
}

/** Called when a request that needed a login got 401 (session expired). */
export function setUnauthenticatedHandler(fn) {
  onUnauthenticated = fn;
}

function qs(query) {
  if (!query) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === '') continue;
    p.set(k, Array.isArray(v) ? v.join(',') : String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}

/**
 * request('GET', '/measures', {query, body, ifMatch}) → {status, data, etag, headers}.
 * Throws ApiError for any non-2xx answer (problem+json parsed when present).
 */
export async function request(method, path, opts = {}) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(opts.body);
  }
  if (method !== 'GET' && method !== 'HEAD' && csrf) headers['X-CSRF-Token'] = csrf;
  if (opts.ifMatch !== undefined && opts.ifMatch !== null) headers['If-Match'] = `"${opts.ifMatch}"`;
  let r;
  try {
    r = await fetch(BASE + path + qs(opts.query), init);
  } catch (e) {
    throw new ApiError(0, { type: '/problems/network', title: String(e && e.message) });
  }
  let data = null;
  const text = await r.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch (_) {
      data = null;
    }
  }
  if (!r.ok) {
    const err = new ApiError(r.status, data);
    if (r.status === 401 && err.type === 'unauthenticated' && onUnauthenticated) onUnauthenticated();
    if (r.status === 429) err.retryAfter = Number(r.headers.get('Retry-After')) || null;
    throw err;
  }
  const etag = r.headers.get('ETag');
  return { status: r.status, data, etag: etag ? Number(etag.replace(/\D/g, '')) : null, headers: r.headers };
}

export const get = (path, query) => request('GET', path, { query }).then((r) => r.data);
export const post = (path, body) => request('POST', path, { body }).then((r) => r.data);
export const patch = (path, body, ifMatch) => request('PATCH', path, { body, ifMatch }).then((r) => r.data);
export const del = (path, query, ifMatch) => request('DELETE', path, { query, ifMatch }).then((r) => r.data);

/** Fetches every page of a list (limit 200, following next_cursor). */
export async function listAll(path, query = {}, onPage) {
  const items = [];
  let cursor = null;
  let total = 0;
  for (let guard = 0; guard < 10000; guard++) {
    const page = await get(path, { ...query, limit: 200, cursor });
    items.push(...page.items);
    total = page.total;
    if (onPage) onPage(items.length, total);
    if (!page.next_cursor) break;
    cursor = page.next_cursor;
  }
  return { items, total };
}

/** total of a filtered list, with one cheap request. */
export async function count(path, query = {}) {
  const page = await get(path, { ...query, limit: 1 });
  return page.total;
}

// Session ------------------------------------------------------------------

export async function getSession() {
  const s = await get('/session');
  setCsrf(s.authenticated ? s.csrf_token : null);
  return s;
}

export async function login(name, password) {
  const s = await post('/session', { name, password });
  setCsrf(s.csrf_token);
  return s;
}

export async function logout() {
  try {
    await del('/session');
  } finally {
    setCsrf(null);
  }
}

// participant: registered members of the public who discuss measures; they see
// only the discussion, their account and their own data.
export const ROLE_RANK = { participant: 1, viewer: 2, moderator: 3, editor: 4, admin: 5 };

/** Minutes to wait after a 429 (from Retry-After), or null. */
export function retryMinutes(err) {
  const s = err && err.retryAfter;
  return s ? Math.max(1, Math.ceil(s / 60)) : null;
}
