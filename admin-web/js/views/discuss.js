// Discussion of a measure or a progress entry (#/discuss/measure/ID,
// #/discuss/progress/ID): the thread with indented replies, a form to write and
// to reply, edit and delete own comments, report others' comments.
// Comment text is only ever set as text (textContent), never as HTML.

import { h, replace, newId } from '../dom.js';
import * as api from '../api.js';
import { t, formatDateTime } from '../i18n.js';
import { field, showErrors, clearErrors, confirmDialog, formDialog } from '../forms.js';
import { pageHeader, errorBox, errorText, notice } from '../ui.js';
import { measureTabs } from './measures.js';
import { hideDialog } from './moderation.js';
import { can, announce, state } from '../state.js';
import { authorOf, isOwn, ownIds, commentText, REPORT_REASONS } from '../comments.js';

const PLURAL = { measure: 'measures', progress: 'progress' };

async function loadComments(kind, id, all) {
  const items = [];
  let cursor = null;
  for (let guard = 0; guard < 100; guard++) {
    const page = await api.get(`/${PLURAL[kind]}/${id}/comments`, { all: all ? 1 : null, cursor, limit: cursor ? 200 : null });
    const list = Array.isArray(page) ? page : page.items || [];
    items.push(...list);
    if (Array.isArray(page) || !page.next_cursor) break;
    cursor = page.next_cursor;
  }
  return items;
}

/** The user's own comments on this target (GET /me/export has them with their
 * status, so own comments that wait for approval show in the thread too). */
async function loadOwn(kind, id) {
  try {
    const ex = await api.get('/me/export');
    const all = Array.isArray(ex && ex.comments) ? ex.comments : [];
    ownIds.clear();
    for (const c of all) ownIds.add(String(c.id));
    return all.filter((c) => c.target_kind === kind && c.target_id === id && c.status !== 'deleted');
  } catch (_) {
    return []; // API tokens and older nodes: the thread alone
  }
}

/** Error list for a comment form from an API error (429 with the wait time). */
function commentErrors(err) {
  if (err.status === 429) {
    const minutes = api.retryMinutes(err);
    return [{ field: 'content', detail: minutes ? t('discuss.rateLimited', { count: minutes }) : t('discuss.rateLimitedNow') }];
  }
  if (err.errors.length) return err.errors.map((e) => ({ field: e.field || 'content', detail: e.detail || err.message }));
  return [{ field: null, detail: errorText(err) }];
}

export async function render(main, [kind, id], query) {
  const moderator = can('moderator');
  const showAll = moderator && query.get('all') === '1';
  const target = await api.get(`/${PLURAL[kind]}/${id}`);
  let measure = null;
  if (kind === 'progress' && target.measure) {
    try {
      measure = await api.get(`/measures/${target.measure}`);
    } catch (_) {
      measure = null;
    }
  }
  const title = target.title || target.name || id;
  const threadBox = h('div', { class: 'thread-box' }, h('p', { class: 'loading' }, t('common.loading')));
  const countLine = h('p', { class: 'muted', dataset: { commentCount: '' } });
  const threadTitleId = 'thread-title';
  // On the state node the threads are the districts': people discuss on the district's node.
  const readOnly = !!(state.node && state.node.role === 'state');
  const ctx = { kind, id, showAll, moderator, threadBox, countLine, readOnly };

  const writeForm = readOnly ? notice(t('discuss.stateReadOnly')) : buildWriteForm(ctx);
  const crumbs = kind === 'progress' && measure
    ? [[measure.title, `#/discuss/measure/${measure.id}`], [title, null]]
    : null;
  const links = h('ul', { class: 'plain inline-links' },
    h('li', {}, h('a', { href: `/${PLURAL[kind]}/${id}#diskussion` }, kind === 'measure' ? t('discuss.publicPage') : t('discuss.publicPageProgress'))),
    moderator
      ? h('li', {}, h('a', { href: `#/discuss/${kind}/${id}${showAll ? '' : '?all=1'}`, dataset: { action: 'toggle-all' } },
          showAll ? t('discuss.hideHiddenContent') : t('discuss.showHiddenContent')))
      : null,
    moderator ? h('li', {}, h('a', { href: '#/moderation' }, t('discuss.toQueue'))) : null);

  replace(main,
    pageHeader(title, { intro: kind === 'measure' ? t('discuss.introMeasure') : t('discuss.introProgress'), crumbs }),
    kind === 'measure' && can('viewer') ? measureTabs(id, 'discussion') : null,
    links,
    showAll ? notice(t('discuss.allNotice'), 'warn') : null,
    h('section', { class: 'discussion', 'aria-labelledby': threadTitleId },
      h('h2', { id: threadTitleId, tabindex: '-1' }, t('discuss.thread')),
      countLine,
      threadBox),
    writeForm);
  await reload(ctx);
}

async function reload(ctx, focusId) {
  let items;
  try {
    const thread = await loadComments(ctx.kind, ctx.id, ctx.showAll);
    // Newer nodes mark own comments and include own pending ones; older ones need the export.
    const marked = thread.length > 0 && thread.every((c) => typeof c.own === 'boolean');
    const own = marked ? [] : await loadOwn(ctx.kind, ctx.id);
    const mine = new Map(own.map((c) => [String(c.id), c]));
    // A placeholder of one's own hidden comment keeps its author and shows why.
    const merged = thread.map((c) => {
      const o = mine.get(String(c.id));
      return o && c.status === 'hidden' ? { ...c, author: o.author, author_user: o.author_user, moderation_reason: o.moderation_reason } : c;
    });
    const seen = new Set(thread.map((c) => String(c.id)));
    items = [...merged, ...own.filter((c) => !seen.has(String(c.id)))];
  } catch (err) {
    replace(ctx.threadBox, errorBox(err));
    return;
  }
  const visible = items.filter((c) => c.status !== 'deleted');
  replace(ctx.countLine, t('discuss.count', { count: visible.length }));
  replace(ctx.threadBox, visible.length ? renderThread(ctx, visible) : h('p', { class: 'muted' }, t('discuss.empty')));
  if (focusId) {
    const el = ctx.threadBox.querySelector(`[data-comment="${CSS.escape(String(focusId))}"] > article`);
    if (el) el.focus();
    else document.getElementById('thread-title')?.focus();
  }
}

function renderThread(ctx, items) {
  const ids = new Set(items.map((c) => String(c.id)));
  const children = new Map();
  const roots = [];
  for (const c of items) {
    const p = c.parent == null ? null : String(c.parent);
    if (p && ids.has(p)) {
      if (!children.has(p)) children.set(p, []);
      children.get(p).push(c);
    } else {
      roots.push(c);
    }
  }
  const byTime = (a, b) => (a.created < b.created ? -1 : a.created > b.created ? 1 : 0);
  const node = (c, depth) => {
    const kids = (children.get(String(c.id)) || []).sort(byTime);
    return h('li', { class: 'comment-item', dataset: { comment: String(c.id), status: c.status || 'approved', depth: String(depth) } },
      renderComment(ctx, c),
      kids.length ? h('ol', { class: 'thread replies', 'aria-label': t('discuss.repliesTo', { name: authorOf(c).label }) }, kids.map((k) => node(k, depth + 1))) : null);
  };
  return h('ol', { class: 'thread' }, roots.sort(byTime).map((c) => node(c, 0)));
}

function renderComment(ctx, c) {
  const author = authorOf(c);
  const own = isOwn(c);
  const hidden = c.status === 'hidden';
  const pending = c.status === 'pending';
  const headId = newId('c');
  const slot = h('div', { class: 'comment-slot' });
  const who = author.remote
    ? h('a', { href: author.url, rel: 'noopener nofollow', class: 'break' }, author.label)
    : author.label;
  const edited = !!c.edited;
  const placeholder = hidden && !c.author && !c.author_name;
  const about = t('discuss.byAuthor', { name: author.label });
  const btn = (label, action, onClick, cls = 'btn small') =>
    h('button', { type: 'button', class: cls, dataset: { action }, onClick }, label, h('span', { class: 'visually-hidden' }, ` ${about}`));

  const actions = [];
  if (!hidden && !pending && !ctx.readOnly) actions.push(btn(t('discuss.reply'), 'reply', () => openReply(ctx, c, slot)));
  if (own && !hidden) {
    actions.push(btn(t('discuss.edit'), 'edit', () => openEdit(ctx, c, slot)));
  }
  if ((own || ctx.moderator) && !hidden) {
    actions.push(btn(t('discuss.delete'), 'delete', () => doDelete(ctx, c), 'btn small danger-link'));
  }
  if (!own && !hidden && !pending) actions.push(btn(t('discuss.report'), 'report', () => doReport(c)));
  // Moderators act in the thread too: comments that appeared at once (post-moderation)
  // are in no queue until someone reports them.
  if (ctx.moderator && !ctx.readOnly) {
    const moderate = (body, message) => api.post(`/comments/${encodeURIComponent(c.id)}/moderation`, body)
      .then(() => {
        announce(message, 'success');
        // After a dialog has closed (the page is inert while it is open).
        setTimeout(() => reload(ctx, c.id), 60);
        return true;
      }, (err) => err);
    if (pending) actions.push(btn(t('moderation.approve'), 'approve', () => moderate({ action: 'approve' }, t('moderation.approved', { name: author.label })).then((r) => r === true || announce(errorText(r), 'error'))));
    if (!hidden) actions.push(btn(t('moderation.hide'), 'hide', () => hideDialog(c, author.label, (body) => moderate(body, t('moderation.hidden', { name: author.label })))));
    if (hidden && ctx.showAll) actions.push(btn(t('moderation.restore'), 'restore', () => moderate({ action: 'restore' }, t('moderation.restored', { name: author.label })).then((r) => r === true || announce(errorText(r), 'error'))));
  }

  let body;
  if (hidden && (c.content == null || c.content === '' || !ctx.showAll)) {
    body = [h('p', { class: 'comment-placeholder' }, t('discuss.hiddenPlaceholder')),
      own && c.moderation_reason ? h('p', { class: 'muted small' }, t('discuss.hiddenReason', { reason: c.moderation_reason })) : null];
  } else {
    body = [hidden ? h('p', { class: 'comment-placeholder' }, t('discuss.hiddenPlaceholder')) : null, commentText(c.content)];
  }
  return h('article', { class: ['comment', hidden ? 'is-hidden' : '', pending ? 'is-pending' : '', own ? 'is-own' : ''], 'aria-labelledby': headId, tabindex: '-1' },
    h('header', { class: 'comment-head' },
      h('h3', { id: headId, class: 'comment-author' }, placeholder ? t('discuss.placeholderAuthor') : who,
        own ? h('span', { class: 'muted' }, ` (${t('discuss.you')})`) : null),
      h('span', { class: 'comment-meta' },
        c.created ? h('time', { datetime: c.created }, formatDateTime(c.created)) : null,
        edited ? h('span', { class: 'muted' }, ` · ${t('discuss.edited')}`) : null),
      pending ? h('span', { class: 'badge fed-pending', dataset: { badge: 'pending' } }, t('discuss.pendingBadge')) : null,
      hidden ? h('span', { class: 'badge fed-rejected', dataset: { badge: 'hidden' } }, t('discuss.hiddenBadge')) : null),
    body,
    actions.length ? h('div', { class: 'row-actions comment-actions' }, actions) : null,
    slot);
}

function commentForm({ label, hint, submitLabel, value, onSubmit, onCancel }) {
  const f = field({ field: 'content', label, type: 'textarea', rows: 4, value: value || '', required: true, hint, attrs: { maxlength: 5000 } });
  const submit = h('button', { type: 'submit', class: 'btn primary' }, submitLabel);
  const form = h('form', { class: 'stack comment-form', novalidate: true },
    f,
    h('div', { class: 'actions' }, submit,
      onCancel ? h('button', { type: 'button', class: 'btn', onClick: onCancel }, t('common.cancel')) : null));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const content = f.control.value;
    if (!content.trim()) {
      showErrors(form, [{ field: 'content', detail: t('form.required') }]);
      return;
    }
    submit.disabled = true;
    try {
      await onSubmit(content, form, f);
    } catch (err) {
      showErrors(form, commentErrors(err), { title: t('discuss.notSent') });
    } finally {
      submit.disabled = false;
    }
  });
  form.control = f.control;
  return form;
}

function netiquetteHint() {
  return h('p', { class: 'hint' }, t('discuss.netiquetteBefore'), ' ',
    h('a', { href: '/netiquette', target: '_blank', rel: 'noopener' }, t('register.netiquette'),
      h('span', { class: 'visually-hidden' }, ` ${t('common.newWindow')}`)), '.');
}

function announceCreated(c) {
  if (c && c.status === 'pending') announce(t('discuss.sentPending'), 'success');
  else announce(t('discuss.sentPublished'), 'success');
}

function buildWriteForm(ctx) {
  const form = commentForm({
    label: t('discuss.yourComment'),
    submitLabel: t('discuss.send'),
    onSubmit: async (content, frm, f) => {
      const c = await api.post(`/${PLURAL[ctx.kind]}/${ctx.id}/comments`, { content });
      f.control.value = '';
      announceCreated(c);
      await reload(ctx, c && c.id);
    },
  });
  return h('section', { class: 'panel write-box', 'aria-labelledby': 'write-title' },
    h('h2', { id: 'write-title' }, t('discuss.write')),
    netiquetteHint(),
    form);
}

function openReply(ctx, c, slot) {
  const author = authorOf(c);
  const close = () => {
    replace(slot);
    slot.closest('article')?.querySelector('[data-action=reply]')?.focus();
  };
  const form = commentForm({
    label: t('discuss.replyTo', { name: author.label }),
    submitLabel: t('discuss.sendReply'),
    onCancel: close,
    onSubmit: async (content) => {
      const r = await api.post(`/${PLURAL[ctx.kind]}/${ctx.id}/comments`, { content, parent: c.id });
      announceCreated(r);
      await reload(ctx, r && r.id);
    },
  });
  form.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') close();
  });
  replace(slot, form);
  form.control.focus();
}

function openEdit(ctx, c, slot) {
  const close = () => {
    replace(slot);
    slot.closest('article')?.querySelector('[data-action=edit]')?.focus();
  };
  const form = commentForm({
    label: t('discuss.editLabel'),
    submitLabel: t('discuss.saveEdit'),
    value: c.content,
    onCancel: close,
    onSubmit: async (content) => {
      const r = await api.patch(`/comments/${encodeURIComponent(c.id)}`, { content });
      announce(r && r.status === 'pending' ? t('discuss.editedPending') : t('discuss.editedDone'), 'success');
      await reload(ctx, c.id);
    },
  });
  form.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') close();
  });
  replace(slot, form);
  form.control.focus();
}

async function doDelete(ctx, c) {
  const own = isOwn(c);
  const ok = await confirmDialog({
    title: t('discuss.deleteTitle'),
    text: own ? t('discuss.deleteOwnText') : t('discuss.deleteOtherText', { name: authorOf(c).label }),
    confirmLabel: t('discuss.delete'),
    danger: true,
  });
  if (!ok) return;
  try {
    await api.del(`/comments/${encodeURIComponent(c.id)}`);
    announce(t('discuss.deleted'), 'success');
    await reload(ctx);
    document.getElementById('thread-title')?.focus();
  } catch (err) {
    announce(errorText(err), 'error');
  }
}

async function doReport(c) {
  await formDialog({
    title: t('discuss.reportTitle', { name: authorOf(c).label }),
    submitLabel: t('discuss.reportSubmit'),
    build: (form) => {
      const gid = newId('g');
      form.appendChild(h('p', {}, t('discuss.reportText')));
      form.appendChild(h('fieldset', { class: 'field checks', dataset: { fieldWrap: 'reason', label: t('discuss.reason') } },
        h('legend', {}, t('discuss.reason'), h('span', { class: 'req', 'aria-hidden': 'true' }, ' *')),
        h('div', { class: 'check-list' }, REPORT_REASONS.map((r) => {
          const rid = `${gid}-${r}`;
          return h('div', { class: 'check' },
            h('input', { type: 'radio', name: 'reason', id: rid, value: r }),
            h('label', { for: rid }, t(`discuss.reasons.${r}`)));
        }))));
    },
    onSubmit: async (form) => {
      clearErrors(form);
      const picked = form.querySelector('input[name=reason]:checked');
      if (!picked) {
        showErrors(form, [{ field: 'reason', detail: t('discuss.reasonRequired') }]);
        return false;
      }
      try {
        await api.post(`/comments/${encodeURIComponent(c.id)}/reports`, { reason: picked.value });
        announce(t('discuss.reported'), 'success');
        return true;
      } catch (err) {
        if (err.status === 409) {
          announce(t('discuss.alreadyReported'));
          return true;
        }
        showErrors(form, err.errors.length ? err.errors : [{ field: null, detail: errorText(err) }]);
        return false;
      }
    },
  });
}

export { PLURAL };
