// Moderation queue (moderator+): comments waiting for approval, reported comments
// and hidden comments, each with its target, author, text and report reasons;
// approve, hide (with a reason) or restore. A handled item leaves the list and
// the result is announced in the status region.

import { h, replace, newId } from '../dom.js';
import * as api from '../api.js';
import { t, formatDateTime, formatNumber } from '../i18n.js';
import { field, showErrors, clearErrors, formDialog } from '../forms.js';
import { pageHeader, errorText } from '../ui.js';
import { announce } from '../state.js';
import { authorOf, targetOf, commentText, reportReasons, reasonLabel } from '../comments.js';

export const QUEUE_STATES = ['pending', 'reported', 'hidden'];

function itemsOf(r) {
  return Array.isArray(r) ? r : (r && r.items) || [];
}

function countOf(r) {
  if (!r) return 0;
  if (typeof r.total === 'number') return r.total;
  return itemsOf(r).length;
}

/** {pending, reported, hidden} from the queue endpoint: its counts member when it
 * has one, else the total of `first` (the answer for `firstState`) and one request
 * per other state. */
export async function queueCounts(first, firstState) {
  if (first && first.counts && typeof first.counts === 'object') {
    const out = {};
    for (const s of QUEUE_STATES) out[s] = Number(first.counts[s]) || 0;
    return out;
  }
  const others = QUEUE_STATES.filter((s) => !(first && s === firstState));
  const all = await Promise.all(others.map((s) => api.get('/moderation/queue', { state: s })));
  const out = {};
  if (first && firstState) out[firstState] = countOf(first);
  others.forEach((s, i) => {
    out[s] = countOf(all[i]);
  });
  return out;
}

export async function render(main, _params, query) {
  let current = query.get('state');
  if (!QUEUE_STATES.includes(current) && current !== 'flagged') current = 'pending';
  // Measures and progress entries flagged from the fediverse (newer nodes; read-only list).
  const flaggedRes = await api.get('/moderation/queue', { state: 'flagged' }).catch(() => null);
  if (current === 'flagged' && !flaggedRes) current = 'pending';
  const res = current === 'flagged' ? flaggedRes : await api.get('/moderation/queue', { state: current });
  const items = itemsOf(res);
  let counts = await queueCounts(current === 'flagged' ? null : res, current);
  const states = flaggedRes ? [...QUEUE_STATES, 'flagged'] : QUEUE_STATES;
  if (flaggedRes) counts.flagged = countOf(flaggedRes);

  const countEls = {};
  const tabs = h('nav', { class: 'tabs', 'aria-label': t('moderation.tabsLabel') },
    h('ul', {}, states.map((s) => {
      countEls[s] = h('span', { class: 'count', dataset: { queueCount: s } }, ` (${formatNumber(counts[s])})`);
      return h('li', {}, h('a', { href: `#/moderation?state=${s}`, 'aria-current': s === current ? 'page' : null, dataset: { tab: s } },
        t(`moderation.tabs.${s}`), countEls[s]));
    })));
  const listTitleId = 'queue-title';
  const list = h('ol', { class: 'queue plain' });
  const empty = h('p', { class: 'muted', dataset: { queueEmpty: '' } }, t(`moderation.empty.${current}`));

  const refreshCounts = async () => {
    try {
      counts = await queueCounts(null);
      for (const s of QUEUE_STATES) replace(countEls[s], ` (${formatNumber(counts[s])})`);
    } catch (_) {
      /* the counts stay as they were */
    }
  };

  const done = (li, message) => {
    const next = li.nextElementSibling || li.previousElementSibling;
    li.remove();
    announce(message, 'success');
    if (!list.children.length) list.replaceWith(empty);
    // After a dialog closes (a modal makes the page inert until then).
    setTimeout(() => {
      if (next && next.isConnected) next.querySelector('article')?.focus();
      else document.getElementById(listTitleId)?.focus();
    }, 60);
    refreshCounts();
  };

  const act = async (c, li, body, message) => {
    try {
      await api.post(`/comments/${encodeURIComponent(c.id)}/moderation`, body);
      done(li, message);
      return true;
    } catch (err) {
      if (err.status === 409 || err.status === 404) {
        // Someone else handled it meanwhile: it does not belong here any more.
        done(li, t('moderation.alreadyHandled'));
        return true;
      }
      announce(errorText(err), 'error');
      return err;
    }
  };

  for (const c of items) list.appendChild(current === 'flagged' ? renderFlagged(c) : renderItem(c, current, act));

  replace(main,
    pageHeader(t('moderation.title'), { intro: t('moderation.intro') }),
    tabs,
    h('section', { 'aria-labelledby': listTitleId },
      h('h2', { id: listTitleId, tabindex: '-1' }, t(`moderation.listTitle.${current}`)),
      items.length ? list : empty));
}

function renderItem(c, current, act) {
  const author = authorOf(c);
  const target = targetOf(c);
  const headId = newId('q');
  const reasons = reportReasons(c);
  const li = h('li', { class: 'queue-item', dataset: { queueItem: String(c.id) } });
  const about = t('moderation.itemBy', { name: author.label });
  const btn = (label, action, cls, onClick) =>
    h('button', { type: 'button', class: `btn small ${cls}`, dataset: { action }, onClick }, label, h('span', { class: 'visually-hidden' }, ` ${about}`));

  const actions = [];
  if (current !== 'hidden') {
    // Approve is for comments that wait; a reported visible comment is kept (dismiss) or hidden.
    if (c.status === 'pending' || current === 'pending') {
      actions.push(btn(t('moderation.approve'), 'approve', 'primary',
        () => act(c, li, { action: 'approve' }, t('moderation.approved', { name: author.label }))));
    } else {
      // Reported but fine: stays visible, the reports are cleared.
      actions.push(btn(t('moderation.dismiss'), 'dismiss', 'primary',
        () => act(c, li, { action: 'dismiss' }, t('moderation.dismissed', { name: author.label }))));
    }
    actions.push(btn(t('moderation.hide'), 'hide', 'danger',
      () => hideDialog(c, author.label, (body) => act(c, li, body, t('moderation.hidden', { name: author.label })))));
  } else {
    actions.push(btn(t('moderation.restore'), 'restore', 'primary',
      () => act(c, li, { action: 'restore' }, t('moderation.restored', { name: author.label }))));
  }

  const hiddenReason = c.hidden_reason || c.moderation_reason || (c.moderation && c.moderation.reason) || null;
  li.appendChild(h('article', { class: 'comment queue-card', 'aria-labelledby': headId, tabindex: '-1' },
    h('h3', { id: headId, class: 'queue-target' },
      t(`moderation.on.${target.type === 'progress' ? 'progress' : 'measure'}`), ' ',
      target.href ? h('a', { href: target.href }, target.title) : target.title),
    h('dl', { class: 'kv compact' },
      h('dt', {}, t('moderation.author')),
      h('dd', { dataset: { author: '' } }, author.remote
        ? [author.label !== author.url ? `${author.label} · ` : null,
          author.url ? h('a', { href: author.url, rel: 'noopener nofollow', class: 'break' }, author.url) : t('moderation.remote')]
        : [author.label, author.name && author.name !== author.label ? h('span', { class: 'muted' }, ` (${author.name})`) : null,
          ' ', h('span', { class: 'muted' }, `· ${t('moderation.local')}`)]),
      h('dt', {}, t('moderation.written')),
      h('dd', {}, c.created ? h('time', { datetime: c.created }, formatDateTime(c.created)) : '–'),
      reasons.length ? [h('dt', {}, t('moderation.reports')),
        h('dd', { dataset: { reasons: reasons.map(([r]) => r).join(' ') } },
          reasons.map(([r, n]) => `${reasonLabel(r)} (${formatNumber(n)})`).join(', '))] : null,
      hiddenReason ? [h('dt', {}, t('moderation.hideReason')), h('dd', {}, String(hiddenReason))] : null),
    h('div', { class: 'queue-content' }, commentText(c.content)),
    h('div', { class: 'row-actions' }, actions)));
  return li;
}

/** A measure or progress entry flagged from the fediverse: what, how often, why, by whom. */
function renderFlagged(f) {
  const target = targetOf(f);
  const headId = newId('q');
  const reasons = reportReasons(f);
  const reporters = [...new Set((f.reports || []).map((r) => r.reporter).filter(Boolean))];
  return h('li', { class: 'queue-item', dataset: { flagged: target.id || '' } },
    h('article', { class: 'comment queue-card', 'aria-labelledby': headId, tabindex: '-1' },
      h('h3', { id: headId, class: 'queue-target' },
        t(`types.${target.type === 'progress' ? 'progress' : 'measure'}`), ': ',
        target.href ? h('a', { href: target.href }, target.title) : target.title),
      h('dl', { class: 'kv compact' },
        h('dt', {}, t('moderation.reports')),
        h('dd', { dataset: { reasons: reasons.map(([r]) => r).join(' ') } },
          reasons.map(([r, n]) => `${reasonLabel(r)} (${formatNumber(n)})`).join(', ') || formatNumber(f.report_count || 0)),
        reporters.length ? [h('dt', {}, t('moderation.reporters')),
          h('dd', {}, reporters.map((u, i) => [i ? ', ' : null, /^https?:\/\//.test(u) ? h('a', { href: u, rel: 'noopener nofollow', class: 'break' }, u) : u]))] : null),
      h('p', { class: 'muted small' }, t('moderation.flaggedNote'))));
}

/** Asks for the reason and hides the comment; send(body) does the request and
 * returns true or the error. Resolves true when hidden. Used by the queue and by
 * moderators in a thread. */
export function hideDialog(c, name, send) {
  return formDialog({
    title: t('moderation.hideTitle', { name }),
    submitLabel: t('moderation.hide'),
    build: (form) => {
      form.appendChild(h('p', {}, t('moderation.hideText')));
      form.appendChild(field({ field: 'reason', label: t('moderation.reason'), type: 'textarea', rows: 3, required: true, hint: t('moderation.reasonHint') }));
    },
    onSubmit: async (form) => {
      clearErrors(form);
      const reason = form.querySelector('textarea[name=reason]').value.trim();
      if (!reason) {
        showErrors(form, [{ field: 'reason', detail: t('moderation.reasonRequired') }]);
        return false;
      }
      const r = await send({ action: 'hide', reason });
      if (r === true) return true;
      showErrors(form, r.errors && r.errors.length ? r.errors : [{ field: null, detail: errorText(r) }]);
      return false;
    },
  });
}
