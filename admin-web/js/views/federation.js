// Federation: followers (approve, remove, block), following (follow by handle or
// URL), the delivery queue (failed deliveries, retry) and blocks. On the state node
// also the district registry (proposed endpoint).

import { h, replace } from '../dom.js';
import * as api from '../api.js';
import { t, formatNumber, formatDateTime } from '../i18n.js';
import { field, showErrors, clearErrors, confirmDialog } from '../forms.js';
import { pageHeader, tableWrap, errorBox, errorText, notice } from '../ui.js';
import { can, announce, navigate, state } from '../state.js';

function stateBadge(s) {
  return h('span', { class: `badge fed-${s}` }, t(`federation.states.${s}`));
}

function actorLink(url) {
  return h('a', { href: url, class: 'break', rel: 'noopener' }, url);
}

async function act(fn, okMsg) {
  try {
    await fn();
    announce(okMsg);
    navigate(location.hash);
  } catch (err) {
    announce(errorText(err), 'error');
  }
}

export async function render(main, _params, query) {
  const dstate = query.get('deliveries') || 'failed';
  const [followers, following, deliveries, blocks] = await Promise.all([
    api.get('/federation/followers'),
    api.get('/federation/following'),
    api.get('/federation/deliveries', { state: dstate }),
    api.get('/federation/blocks'),
  ]);
  const editor = can('editor');
  const moderator = can('moderator');

  // Followers ------------------------------------------------------------------
  // Newer nodes say which of their actors is followed (the node, or a group).
  const showFollowed = followers.items.some((f) => f.followed);
  const followersTable = h('table', { class: 'data' },
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, t('federation.actor')),
      showFollowed ? h('th', { scope: 'col' }, t('federation.followed')) : null,
      h('th', { scope: 'col' }, t('federation.state')),
      h('th', { scope: 'col' }, t('federation.since')),
      editor ? h('th', { scope: 'col' }, t('common.actions')) : null)),
    h('tbody', {}, followers.items.length
      ? followers.items.map((f) => h('tr', {},
          h('td', {}, actorLink(f.actor)),
          showFollowed ? h('td', {}, f.followed || t('federation.theNode')) : null,
          h('td', {}, stateBadge(f.state)),
          h('td', {}, formatDateTime(f.created)),
          editor ? h('td', {}, h('div', { class: 'row-actions' },
            f.state === 'pending'
              ? h('button', { type: 'button', class: 'btn small primary', onClick: () => act(() => api.post('/federation/followers', { actor: f.actor, action: 'approve' }), t('federation.approved')) }, t('federation.approve'))
              : null,
            h('button', {
              type: 'button', class: 'btn small',
              onClick: async () => {
                if (await confirmDialog({ title: t('federation.removeTitle'), text: f.actor, confirmLabel: t('federation.remove') })) {
                  act(() => api.post('/federation/followers', { actor: f.actor, action: 'remove' }), t('federation.removed'));
                }
              },
            }, t('federation.remove')),
            h('button', {
              type: 'button', class: 'btn small danger',
              onClick: async () => {
                if (await confirmDialog({ title: t('federation.blockTitle'), text: t('federation.blockText', { actor: f.actor }), confirmLabel: t('federation.block'), danger: true })) {
                  act(() => api.post('/federation/followers', { actor: f.actor, action: 'block' }), t('federation.blocked'));
                }
              },
            }, t('federation.block')))) : null))
      : h('tr', {}, h('td', { colspan: String((editor ? 4 : 3) + (showFollowed ? 1 : 0)) }, t('federation.noFollowers')))));

  // Following --------------------------------------------------------------------
  let followForm = null;
  if (editor) {
    const target = field({ field: 'target', label: t('federation.target'), hint: t('federation.targetHint'), required: true, autocomplete: 'off' });
    followForm = h('form', { class: 'inline-form', novalidate: true, 'aria-label': t('federation.follow') },
      target, h('button', { type: 'submit', class: 'btn primary' }, t('federation.follow')));
    followForm.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearErrors(followForm);
      const v = target.control.value.trim().replace(/^@/, '');
      if (!v) {
        showErrors(followForm, [{ field: 'target', detail: t('form.required') }]);
        return;
      }
      const btn = followForm.querySelector('button[type=submit]');
      btn.disabled = true;
      try {
        const r = await api.post('/federation/following', { target: v });
        announce(t('federation.followSent', { actor: r.actor }));
        navigate(location.hash);
      } catch (err) {
        showErrors(followForm, err.errors.length ? err.errors : [{ field: 'target', detail: errorText(err) }]);
      } finally {
        btn.disabled = false;
      }
    });
  }
  const followingTable = h('table', { class: 'data' },
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, t('federation.actor')),
      h('th', { scope: 'col' }, t('federation.state')),
      h('th', { scope: 'col' }, t('federation.since')),
      h('th', { scope: 'col' }, t('fields.updated')))),
    h('tbody', {}, following.items.length
      ? following.items.map((f) => h('tr', {},
          h('td', {}, actorLink(f.actor)),
          h('td', {}, stateBadge(f.state)),
          h('td', {}, formatDateTime(f.created)),
          h('td', {}, formatDateTime(f.updated))))
      : h('tr', {}, h('td', { colspan: '4' }, t('federation.noFollowing')))));

  // Deliveries -------------------------------------------------------------------
  const stateSel = field({
    field: 'deliveries', label: t('federation.showDeliveries'), type: 'select', value: dstate,
    options: ['failed', 'pending', 'done', 'superseded'].map((s) => ({ value: s, label: t(`federation.dstates.${s}`) })),
  });
  const stateForm = h('form', { class: 'inline-form', 'aria-label': t('federation.showDeliveries') }, stateSel, h('button', { type: 'submit', class: 'btn' }, t('list.apply')));
  stateForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    navigate(`#/federation?deliveries=${stateSel.control.value}`);
  });
  const deliveriesTable = h('table', { class: 'data' },
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col', class: 'num' }, t('federation.id')),
      h('th', { scope: 'col' }, t('federation.inbox')),
      h('th', { scope: 'col', class: 'num' }, t('federation.attempts')),
      h('th', { scope: 'col' }, t('federation.created')),
      h('th', { scope: 'col' }, dstate === 'pending' ? t('federation.nextAttempt') : t('federation.lastResult')),
      editor && dstate === 'failed' ? h('th', { scope: 'col' }, t('common.actions')) : null)),
    h('tbody', {}, deliveries.items.length
      ? deliveries.items.map((d) => h('tr', { dataset: { delivery: String(d.id) } },
          h('td', { class: 'num' }, String(d.id)),
          h('td', {}, h('span', { class: 'break' }, d.inbox)),
          h('td', { class: 'num' }, formatNumber(d.attempts)),
          h('td', {}, formatDateTime(d.created)),
          h('td', {}, dstate === 'pending' ? formatDateTime(d.next_attempt)
            : d.last_error || (d.last_status ? `HTTP ${d.last_status}` : '–')),
          editor && dstate === 'failed'
            ? h('td', {}, h('button', {
                type: 'button', class: 'btn small primary',
                onClick: () => act(() => api.post(`/federation/deliveries/${d.id}/retry`, {}), t('federation.retried', { id: d.id })),
              }, t('federation.retry', { id: d.id })))
            : null))
      : h('tr', {}, h('td', { colspan: '6' }, t('federation.noDeliveries')))));

  // Blocks -----------------------------------------------------------------------
  let blockForm = null;
  if (moderator) {
    const kind = field({ field: 'kind', label: t('federation.blockKind'), type: 'select', value: 'domain', options: [{ value: 'domain', label: t('federation.blockDomain') }, { value: 'actor', label: t('federation.blockActor') }] });
    const pattern = field({ field: 'pattern', label: t('federation.pattern'), hint: t('federation.patternHint'), required: true });
    blockForm = h('form', { class: 'inline-form', novalidate: true, 'aria-label': t('federation.addBlock') }, kind, pattern, h('button', { type: 'submit', class: 'btn' }, t('federation.addBlock')));
    blockForm.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearErrors(blockForm);
      try {
        await api.post('/federation/blocks', { kind: kind.control.value, pattern: pattern.control.value.trim() });
        announce(t('federation.blocked'));
        navigate(location.hash);
      } catch (err) {
        showErrors(blockForm, err.errors.length ? err.errors.map((e) => ({ ...e, detail: e.detail || err.message })) : [{ field: null, detail: errorText(err) }]);
      }
    });
  }
  const blocksTable = h('table', { class: 'data' },
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, t('federation.pattern')),
      h('th', { scope: 'col' }, t('federation.blockKind')),
      h('th', { scope: 'col' }, t('federation.since')),
      moderator ? h('th', { scope: 'col' }, t('common.actions')) : null)),
    h('tbody', {}, blocks.items.length
      ? blocks.items.map((b) => h('tr', {},
          h('td', {}, h('span', { class: 'break' }, b.pattern)),
          h('td', {}, b.kind === 'domain' ? t('federation.blockDomain') : t('federation.blockActor')),
          h('td', {}, formatDateTime(b.created)),
          moderator ? h('td', {}, h('button', {
            type: 'button', class: 'btn small',
            onClick: () => act(() => api.del('/federation/blocks', { pattern: b.pattern }), t('federation.unblocked')),
          }, t('federation.unblock', { pattern: b.pattern }))) : null))
      : h('tr', {}, h('td', { colspan: moderator ? '4' : '3' }, t('federation.noBlocks')))));

  // State node: the district registry (proposed endpoint) --------------------------
  let registry = null;
  if (state.node && state.node.role === 'state') {
    registry = h('section', { class: 'panel' }, h('h2', { id: 'fed-registry' }, t('federation.registry')));
    try {
      const r = await api.get('/federation/districts');
      const rows = r.items.map((d) => h('tr', {},
        h('td', {}, d.code), h('td', {}, d.name), h('td', {}, d.actor ? actorLink(d.actor) : '–'),
        h('td', {}, d.state ? stateBadge(d.state) : t('federation.states.none')),
        h('td', {}, formatDateTime(d.last_sync) || '–'),
        h('td', { class: 'num' }, formatNumber(d.objects || 0))));
      const table = h('table', { class: 'data' },
        h('thead', {}, h('tr', {}, ['code', 'name', 'actor', 'state', 'last_sync', 'objects'].map((k) => h('th', { scope: 'col' }, t(`federation.reg.${k}`))))),
        h('tbody', {}, rows));
      registry.appendChild(tableWrap(null, table, t('federation.registry')));
    } catch (err) {
      registry.appendChild(err.status === 404 ? notice(t('federation.registryMissing')) : errorBox(err));
    }
  }

  const summary = h('ul', { class: 'stats' },
    ['pending', 'failed', 'done', 'superseded'].map((k) => h('li', { class: ['stat', k === 'failed' && deliveries.failed ? 'alert' : ''] },
      h('a', { href: `#/federation?deliveries=${k}` },
        h('span', { class: 'stat-value', dataset: { stat: k } }, formatNumber(deliveries[k] || 0)),
        h('span', { class: 'stat-label' }, t(`federation.dstates.${k}`))))));

  replace(main,
    pageHeader(t('federation.title'), { intro: state.node ? t('federation.intro', { url: `${state.node.base_url}/actor` }) : null }),
    h('section', { class: 'panel' },
      h('h2', { id: 'fed-followers' }, t('federation.followers'), ' ', h('span', { class: 'count' }, `(${formatNumber(followers.items.length)})`)),
      tableWrap(null, followersTable, t('federation.followers'))),
    h('section', { class: 'panel' },
      h('h2', { id: 'fed-following' }, t('federation.following'), ' ', h('span', { class: 'count' }, `(${formatNumber(following.items.length)})`)),
      followForm, tableWrap(null, followingTable, t('federation.following'))),
    h('section', { class: 'panel', 'aria-labelledby': 'fed-deliveries' },
      h('h2', { id: 'fed-deliveries' }, t('federation.deliveries')),
      summary,
      deliveries.next_attempt ? h('p', { class: 'muted' }, t('federation.nextRun', { at: formatDateTime(deliveries.next_attempt) })) : null,
      stateForm, tableWrap(t(`federation.dstates.${dstate}`), deliveriesTable)),
    h('section', { class: 'panel' },
      h('h2', { id: 'fed-blocks' }, t('federation.blocks')),
      blockForm, tableWrap(null, blocksTable, t('federation.blocks'))),
    registry);
}
