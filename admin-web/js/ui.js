// Page-level building blocks shared by the views.

import { h, newId } from './dom.js';
import { t, has, formatNumber, formatDate, formatDateTime } from './i18n.js';
import { ApiError } from './api.js';

/** Sets the document title and returns the page header with the one h1. */
export function pageHeader(title, { intro, actions, crumbs } = {}) {
  document.title = `${title} – ${t('app.title')}`;
  return h(
    'div',
    { class: 'page-header' },
    crumbs
      ? h('nav', { class: 'crumbs', 'aria-label': t('nav.breadcrumb') },
          h('ol', {}, crumbs.map(([label, href]) => h('li', {}, href ? h('a', { href }, label) : label))))
      : null,
    h('div', { class: 'page-title-row' },
      h('h1', { id: 'page-title', tabindex: '-1' }, title),
      actions ? h('div', { class: 'page-actions' }, actions) : null),
    intro ? h('p', { class: 'intro' }, intro) : null,
  );
}

/** A horizontally scrollable, keyboard-focusable region around a table. The region
 * is named by the table's caption or by `label`; unnamed wraps are plain boxes. */
export function tableWrap(caption, table, label) {
  const id = newId('t');
  if (caption) table.prepend(h('caption', { id }, caption));
  const named = caption || label;
  return h('div', {
    class: 'table-wrap',
    role: named ? 'region' : null,
    tabindex: named ? '0' : null,
    'aria-labelledby': caption ? id : null,
    'aria-label': !caption && label ? label : null,
  }, table);
}

export function loading(text) {
  return h('p', { class: 'loading', role: 'status' }, text || t('common.loading'));
}

/** Describes an API error for people. */
export function errorText(err) {
  if (err instanceof ApiError) {
    if (err.status === 0) return t('errors.network');
    const key = `errors.${err.type}`;
    if (err.type && has(key)) return t(key);
    return `${t('errors.generic', { status: err.status })} ${err.message || ''}`.trim();
  }
  return String((err && err.message) || err);
}

export function errorBox(err) {
  return h('div', { class: 'notice error', role: 'alert' }, h('p', {}, errorText(err)));
}

export function notice(text, kind = 'info') {
  return h('div', { class: `notice ${kind}` }, h('p', {}, text));
}

export function statusBadge(status) {
  return h('span', { class: `badge status-${status}` }, t(`status.${status}`));
}

export function progressBar(value, label) {
  const v = Math.max(0, Math.min(100, Number(value) || 0));
  return h('span', { class: 'progress' },
    h('progress', { max: '100', value: String(v), 'aria-label': label || t('fields.progress') }, `${v} %`),
    h('span', { class: 'progress-num' }, formatNumber(v / 100, { style: 'percent' })));
}

/** 'user:NAME' → NAME, 'token:NAME' → 'NAME (API-Token)', 'system:sample' → localised. */
export function actorLabel(actor) {
  if (!actor) return t('history.unknownActor');
  const [kind, ...rest] = actor.split(':');
  const name = rest.join(':');
  if (kind === 'user') return name;
  if (kind === 'token') return t('history.viaToken', { name });
  if (kind === 'system') return t('history.system', { name });
  return actor;
}

/** Renders a field value for display (history, conflicts, read-only views). */
export function displayValue(v, fieldName) {
  if (v === null || v === undefined || v === '') return h('span', { class: 'muted' }, t('common.empty'));
  if (Array.isArray(v)) {
    if (!v.length) return h('span', { class: 'muted' }, t('common.empty'));
    if (v.every((x) => typeof x !== 'object')) return v.join(', ');
    return h('code', { class: 'json' }, JSON.stringify(v));
  }
  if (typeof v === 'object') return h('code', { class: 'json' }, JSON.stringify(v));
  if (fieldName === 'status') return t(`status.${v}`);
  if (fieldName === 'kind') return t(`kinds.${v}`);
  if (typeof v === 'number') return formatNumber(v);
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) return formatDate(v);
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(v)) return formatDateTime(v);
  return String(v);
}

/** A "load more" control for cursor paging. */
export function moreButton(onClick) {
  return h('button', { type: 'button', class: 'btn', onClick }, t('list.more'));
}

export function fieldLabel(name) {
  const key = `fields.${name}`;
  return has(key) ? t(key) : name;
}
