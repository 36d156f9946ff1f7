// The coordinators' channel ("Austausch"): the state's groups per field of action,
// their threads and posts. Posts are plain text: always rendered as text nodes.

import { h, replace } from '../dom.js';
import * as api from '../api.js';
import { t, formatDateTime } from '../i18n.js';
import { field, showErrors, clearErrors } from '../forms.js';
import { pageHeader, tableWrap, errorText, notice } from '../ui.js';
import { announce, navigate, can } from '../state.js';

/** Plain text with its line breaks, as text nodes. */
function textBlock(text) {
  return h('div', { class: 'post-text' },
    String(text || '').split(/\n{2,}/).map((para) => h('p', {}, para.split('\n').flatMap((line, i) => (i ? [h('br'), line] : [line])))));
}

function membersBadge(on) {
  return on ? h('span', { class: 'badge status-paused' }, t('channel.membersOnly')) : null;
}

function unreadBadge(n) {
  return n ? h('span', { class: 'badge status-active', dataset: { unread: String(n) } }, t('channel.unreadN', { count: n })) : null;
}

/** A form to write a post; onDone(answer) after it was stored. */
function postForm({ code, replyTo, title, onDone }) {
  const content = field({ field: 'content', label: t('channel.content'), type: 'textarea', rows: 5, required: true, hint: t('channel.contentHint') });
  const mid = `members-${replyTo ? 'reply' : 'new'}`;
  const members = replyTo ? null : h('div', { class: 'check', dataset: { fieldWrap: 'members_only', label: t('channel.membersOnly') } },
    h('input', { type: 'checkbox', id: mid, name: 'members_only' }),
    h('label', { for: mid }, t('channel.membersOnlyLabel')));
  const titleId = `post-form-${replyTo ? 'reply' : 'new'}`;
  const form = h('form', { class: 'record-form card', novalidate: true, 'aria-labelledby': titleId },
    h('h2', { id: titleId }, title),
    content,
    members,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn primary' }, replyTo ? t('channel.sendReply') : t('channel.send'))));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const body = { content: content.control.value };
    if (!body.content.trim()) {
      showErrors(form, [{ field: 'content', detail: t('form.required') }]);
      return;
    }
    if (replyTo) body.in_reply_to = replyTo;
    if (members) body.members_only = form.querySelector(`#${mid}`).checked;
    try {
      const r = await api.post(`/channel/groups/${encodeURIComponent(code)}/posts`, body);
      announce(t('channel.sent'));
      onDone(r);
    } catch (err) {
      showErrors(form, err.errors.length ? err.errors : [{ field: 'content', detail: errorText(err) }]);
    }
  });
  return form;
}

export async function renderGroups(main) {
  const data = await api.get('/channel/groups');
  const groups = data.items || [];
  replace(main,
    pageHeader(t('channel.title'), { intro: data.host ? t('channel.introState') : t('channel.intro') }),
    groups.length
      ? tableWrap(t('channel.groupsCaption'), h('table', { class: 'data' },
          h('thead', {}, h('tr', {},
            h('th', { scope: 'col' }, t('channel.group')),
            h('th', { scope: 'col' }, t('channel.threads')),
            h('th', { scope: 'col' }, t('channel.unread')))),
          h('tbody', {}, groups.map((g) => h('tr', { dataset: { group: g.code } },
            h('th', { scope: 'row' }, h('a', { href: `#/channel/${encodeURIComponent(g.code)}` }, g.name || g.code)),
            h('td', {}, String(g.threads)),
            h('td', {}, g.unread ? unreadBadge(g.unread) : t('channel.noneUnread')))))))
      : notice(t('channel.noGroups')),
    !data.host && can('admin') ? joinForm() : null);
}

function joinForm() {
  const url = field({ field: 'url', label: t('channel.groupUrl'), type: 'url', required: true, hint: t('channel.groupUrlHint') });
  const form = h('form', { class: 'record-form card', novalidate: true, 'aria-labelledby': 'join-title' },
    h('h2', { id: 'join-title' }, t('channel.join')),
    url,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn primary' }, t('channel.joinButton'))));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    try {
      const r = await api.post('/channel/groups', { url: url.control.value.trim() });
      announce(t('channel.joined', { code: r.code }));
      navigate('#/channel');
    } catch (err) {
      showErrors(form, err.errors.length ? err.errors : [{ field: 'url', detail: errorText(err) }]);
    }
  });
  return form;
}

export async function renderThreads(main, [code]) {
  const data = await api.get(`/channel/groups/${encodeURIComponent(code)}/threads`);
  const items = data.items || [];
  replace(main,
    pageHeader(data.name || code, {
      crumbs: [[t('channel.title'), '#/channel'], [code, null]],
      intro: t('channel.threadsIntro'),
    }),
    items.length
      ? h('ul', { class: 'thread-list' }, items.map((th) => h('li', { class: ['card', th.unread ? 'unread' : null], dataset: { thread: String(th.id) } },
          h('h2', {}, h('a', { href: `#/channel/threads/${th.id}` }, String(th.content || '').slice(0, 140))),
          h('p', { class: 'meta' },
            th.author_name, ' · ', formatDateTime(th.last_activity), ' · ', t('channel.repliesN', { count: th.replies }), ' ',
            membersBadge(th.members_only), ' ', th.unread ? unreadBadge(th.unread_posts) : null))))
      : notice(t('channel.noThreads')),
    can('editor') ? postForm({ code, title: t('channel.newThread'), onDone: (r) => navigate(`#/channel/threads/${r.thread}`) }) : null);
}

export async function renderThread(main, [id]) {
  const data = await api.get(`/channel/threads/${encodeURIComponent(id)}`);
  const posts = data.posts || [];
  const root = posts[0] || {};
  replace(main,
    pageHeader(t('channel.thread'), {
      crumbs: [[t('channel.title'), '#/channel'], [data.group_name || data.group, `#/channel/${encodeURIComponent(data.group)}`], [t('channel.thread'), null]],
    }),
    root.members_only ? notice(t('channel.membersOnlyThread')) : null,
    h('ol', { class: 'posts' }, posts.map((p) => h('li', { class: ['card', 'post', p.unread ? 'unread' : null], dataset: { post: String(p.seq) } },
      h('p', { class: 'meta' },
        h('strong', {}, p.author_name || p.author), ' · ', formatDateTime(p.published), ' ',
        p.unread ? h('span', { class: 'badge status-active' }, t('channel.new')) : null, ' ', membersBadge(p.members_only && p === root)),
      textBlock(p.content)))),
    can('editor') ? postForm({ code: data.group, replyTo: root.id, title: t('channel.reply'), onDone: () => navigate(`#/channel/threads/${id}`) }) : null);
  try {
    await api.post(`/channel/threads/${encodeURIComponent(id)}/read`);
  } catch (_) {
    /* marking read is best effort */
  }
}
