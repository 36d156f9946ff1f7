// Shared pieces for comments: reading the author out of the API's comment object,
// the target a comment belongs to, and the comment text (always as text nodes).

import { h } from './dom.js';
import { t } from './i18n.js';
import { state } from './state.js';

export const REPORT_REASONS = ['spam', 'offensive', 'off-topic'];

/**
 * The author of a comment, whatever shape the node gives it:
 * {author: {name, display_name} | {actor: URL, name?}} or author: "user:NAME" | URL,
 * with author_name / display_name / actor beside it.
 * → {label, name (local account) | null, url (remote actor) | null, remote}
 */
export function authorOf(c) {
  const a = c.author;
  let name = null;
  let url = null;
  let display = c.display_name || c.author_name || null;
  if (a && typeof a === 'object') {
    name = a.name || a.user || null;
    url = a.actor || a.url || a.id || null;
    display = a.display_name || a.displayName || a.preferredUsername || display;
    if (a.local === false && !url) url = a.name;
  } else if (typeof a === 'string') {
    if (/^https?:\/\//.test(a)) url = a;
    else name = a.replace(/^user:/, '');
  }
  if (!url && c.actor && /^https?:\/\//.test(c.actor)) url = c.actor;
  if (url && name && /^https?:\/\//.test(name)) name = null;
  const remote = !!url && !name;
  return { name, url: remote ? url : null, remote, label: display || name || url || t('discuss.unknownAuthor') };
}

/** Whether the logged-in user wrote the comment. */
export function isOwn(c) {
  if (typeof c.own === 'boolean') return c.own;
  const s = state.session;
  const { name } = authorOf(c);
  return !!(s && name && name === s.name);
}

/** The record a comment is about → {type: 'measure'|'progress', id, title, href}. */
export function targetOf(c) {
  const tg = c.target && typeof c.target === 'object' ? c.target : {};
  let type = tg.type || c.target_type || null;
  let id = tg.id || c.target_id || (typeof c.target === 'string' ? c.target : null) || c.measure || c.progress || null;
  if (id && !type) type = id.startsWith('p-') ? 'progress' : 'measure';
  if (type === 'measures') type = 'measure';
  const title = tg.title || c.target_title || c.title || id || '';
  return { type, id, title, href: id ? `#/discuss/${type}/${id}` : null };
}

/** The comment's text: line breaks kept by CSS, never parsed as HTML. */
export function commentText(content) {
  const p = h('div', { class: 'comment-text' });
  p.textContent = content == null ? '' : String(content);
  return p;
}

/** Report reasons from the API: [{reason, count}] | {spam: 2} | ['spam', …]. */
export function reportReasons(c) {
  const r = c.reports ?? c.report_reasons ?? null;
  const counts = new Map();
  const add = (reason, n = 1) => counts.set(reason, (counts.get(reason) || 0) + n);
  if (Array.isArray(r)) {
    for (const x of r) {
      if (typeof x === 'string') add(x);
      else if (x && x.reason) add(x.reason, Number(x.count) || 1);
    }
  } else if (r && typeof r === 'object') {
    for (const [k, v] of Object.entries(r)) if (typeof v === 'number') add(k, v);
  }
  return [...counts.entries()];
}

export function reasonLabel(reason) {
  return REPORT_REASONS.includes(reason) ? t(`discuss.reasons.${reason}`) : reason;
}
