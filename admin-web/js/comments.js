// Shared pieces for comments: reading the author out of the API's comment object,
// the target a comment belongs to, and the comment text (always as text nodes).

import { h } from './dom.js';
import { t } from './i18n.js';
import { state } from './state.js';

export const REPORT_REASONS = ['spam', 'offensive', 'off-topic'];

/**
 * The author of a comment as the node gives it (protocol-docs/discussion.md):
 * author: {name (display name), kind: local|remote|district, actor (remote)},
 * author_user (the local account; moderators and own data only).
 * → {label, name (local account) | null, url (remote actor) | null, remote}
 */
export function authorOf(c) {
  const a = c.author && typeof c.author === 'object' ? c.author : {};
  const kind = a.kind || (a.actor ? 'remote' : 'local');
  const remote = kind !== 'local';
  const url = remote ? (a.actor || c.home_url || c.origin || null) : null;
  const name = remote ? null : (c.author_user || null);
  const label = a.name || c.author_name || name || url || t('discuss.unknownAuthor');
  return { label, name, url, remote, kind };
}

/** Ids of the logged-in user's own comments (from GET /me/export) when the
 * thread does not mark them itself. */
export const ownIds = new Set();

/** Whether the logged-in user wrote the comment. */
export function isOwn(c) {
  if (typeof c.own === 'boolean') return c.own;
  const s = state.session;
  if (c.author_user && s) return c.author_user === s.name;
  return ownIds.has(String(c.id));
}

/** The record a comment is about → {type: 'measure'|'progress', id, title, href}. */
export function targetOf(c) {
  const tg = c.target && typeof c.target === 'object' ? c.target : {};
  let type = tg.kind || tg.type || c.target_kind || c.target_type || null;
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
