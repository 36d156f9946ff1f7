// Dashboard: measures by status and by field of action (list totals with filters),
// recent changes with who made them, federation and delivery-queue health, and what
// waits for this user.

import { h, replace } from '../dom.js';
import * as api from '../api.js';
import { t, formatNumber, formatDateTime } from '../i18n.js';
import { pageHeader, tableWrap, errorBox, actorLabel, fieldLabel } from '../ui.js';
import { can, taxonomy, taxonomyOptions, STATUSES } from '../state.js';
import { queueCounts } from './moderation.js';

/** What waits for moderators: comments (pending, reported) and registrations.
 * null when the node has no discussions (404) or the user may not moderate. */
async function moderationWaiting() {
  if (!can('moderator')) return null;
  try {
    const [first, regs] = await Promise.all([
      api.get('/moderation/queue', { state: 'pending' }),
      api.get('/registrations').catch(() => null),
    ]);
    const counts = await queueCounts(first, 'pending');
    const regItems = regs ? (Array.isArray(regs) ? regs : regs.items || []) : [];
    return { ...counts, registrations: regs ? (typeof regs.total === 'number' ? regs.total : regItems.length) : 0 };
  } catch (err) {
    if (err.status === 404 || err.status === 403) return null;
    throw err;
  }
}

function bar(value, max) {
  const span = h('span', { class: 'bar', 'aria-hidden': 'true' }, h('span', { class: 'bar-fill' }));
  const pct = max > 0 ? Math.round((value / max) * 100) : 0;
  span.firstChild.style.width = `${pct}%`; // CSSOM, allowed by the CSP
  return span;
}

function statCard(label, value, href, key, extra) {
  return h('li', { class: 'stat' },
    h('a', { href },
      h('span', { class: 'stat-value', dataset: { stat: key } }, formatNumber(value)),
      h('span', { class: 'stat-label' }, label)),
    extra || null);
}

/** Recent changes: GET /api/v1/changes when the node has it (proposed), else the
 * histories of the most recently updated organisations and measures. */
let changesEndpoint = true;
async function recentChanges(limit = 8) {
  if (changesEndpoint) {
    try {
      const r = await api.get('/changes', { limit });
      return r.items.map((e) => ({ ...e, fields: e.fields || Object.keys(e.changes || {}) }));
    } catch (err) {
      if (err.status !== 404) throw err;
      changesEndpoint = false; // not on this node (yet): ask once per page load
    }
  }
  const [ms, os] = await Promise.all([
    api.get('/measures', { limit: 200 }),
    api.get('/organisations', { limit: 200 }),
  ]);
  const recent = [...ms.items, ...os.items]
    .sort((a, b) => (a.updated < b.updated ? 1 : a.updated > b.updated ? -1 : 0))
    .slice(0, limit);
  const out = await Promise.all(
    recent.map(async (rec) => {
      const kind = rec.type === 'measure' ? 'measures' : 'organisations';
      const hist = await api.get(`/${kind}/${rec.id}/history`);
      const last = hist.history[hist.history.length - 1] || {};
      return {
        id: rec.id, type: rec.type, title: rec.title || rec.name, version: last.version,
        at: last.at || rec.updated, actor: last.actor, op: last.op || 'update', fields: Object.keys(last.changes || {}),
      };
    }),
  );
  return out;
}

export async function render(main) {
  await taxonomy();
  const hfs = taxonomyOptions('fields_of_action');
  const [total, orgTotal, byStatus, byField] = await Promise.all([
    api.count('/measures'),
    api.count('/organisations'),
    Promise.all(STATUSES.map((s) => api.count('/measures', { status: s }))),
    Promise.all(hfs.map((f) => api.count('/measures', { field_of_action: f.value }))),
  ]);
  let fed = null;
  let fedError = null;
  try {
    const [followers, following, deliveries] = await Promise.all([
      api.get('/federation/followers'),
      api.get('/federation/following'),
      api.get('/federation/deliveries', { state: 'failed' }),
    ]);
    fed = { followers: followers.items, following: following.items, deliveries };
  } catch (err) {
    fedError = err;
  }

  let mod = null;
  try {
    mod = await moderationWaiting();
  } catch (_) {
    mod = null;
  }

  const maxStatus = Math.max(1, ...byStatus);
  const maxField = Math.max(1, ...byField);

  const statusTable = h('table', { class: 'data compact' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('fields.status')), h('th', { scope: 'col', class: 'num' }, t('dashboard.count')), h('th', { scope: 'col', class: 'bar-cell' }, h('span', { class: 'visually-hidden' }, t('dashboard.share'))))),
    h('tbody', {}, STATUSES.map((s, i) => h('tr', {},
      h('th', { scope: 'row' }, h('a', { href: `#/measures?status=${s}` }, t(`status.${s}`))),
      h('td', { class: 'num', dataset: { count: `status:${s}` } }, formatNumber(byStatus[i])),
      h('td', { class: 'bar-cell' }, bar(byStatus[i], maxStatus))))));

  const fieldTable = h('table', { class: 'data compact' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('fields.fields_of_action')), h('th', { scope: 'col', class: 'num' }, t('dashboard.count')), h('th', { scope: 'col', class: 'bar-cell' }, h('span', { class: 'visually-hidden' }, t('dashboard.share'))))),
    h('tbody', {}, hfs.map((f, i) => h('tr', {},
      h('th', { scope: 'row' }, h('a', { href: `#/measures?field_of_action=${f.value}` }, h('span', { class: 'code' }, f.code), f.label)),
      h('td', { class: 'num', dataset: { count: `field:${f.value}` } }, formatNumber(byField[i])),
      h('td', { class: 'bar-cell' }, bar(byField[i], maxField))))));

  const changesBox = h('div', { class: 'changes' }, h('p', { class: 'loading' }, t('common.loading')));

  const waiting = [];
  if (fed) {
    const pendingFollowers = fed.followers.filter((f) => f.state === 'pending').length;
    if (pendingFollowers && can('editor')) waiting.push(h('li', {}, h('a', { href: '#/federation' }, t('dashboard.pendingFollowers', { count: pendingFollowers }))));
    if (fed.deliveries.failed && can('editor')) waiting.push(h('li', {}, h('a', { href: '#/federation' }, t('dashboard.failedDeliveries', { count: fed.deliveries.failed }))));
  }

  if (mod) {
    waiting.push(h('li', {}, h('a', { href: '#/moderation?state=pending', dataset: { waiting: 'comments' } },
      mod.pending ? t('dashboard.pendingComments', { count: mod.pending }) : t('dashboard.noPendingComments'))));
    if (mod.reported) waiting.push(h('li', {}, h('a', { href: '#/moderation?state=reported', dataset: { waiting: 'reported' } }, t('dashboard.reportedComments', { count: mod.reported }))));
    if (mod.registrations) waiting.push(h('li', {}, h('a', { href: '#/registrations', dataset: { waiting: 'registrations' } }, t('dashboard.pendingRegistrations', { count: mod.registrations }))));
  }

  const fedStats = fed
    ? h('ul', { class: 'stats' },
        statCard(t('dashboard.followers'), fed.followers.filter((f) => f.state !== 'pending').length, '#/federation', 'followers'),
        statCard(t('dashboard.following'), fed.following.length, '#/federation', 'following'),
        statCard(t('dashboard.pending'), fed.deliveries.pending || 0, '#/federation', 'pending'),
        h('li', { class: ['stat', fed.deliveries.failed ? 'alert' : ''] },
          h('a', { href: '#/federation' },
            h('span', { class: 'stat-value', dataset: { stat: 'failed' } }, formatNumber(fed.deliveries.failed || 0)),
            h('span', { class: 'stat-label' }, t('dashboard.failed')))))
    : errorBox(fedError);

  replace(
    main,
    pageHeader(t('dashboard.title'), { intro: t('dashboard.intro') }),
    h('ul', { class: 'stats' },
      statCard(t('dashboard.measuresTotal'), total, '#/measures', 'measures'),
      statCard(t('dashboard.organisationsTotal'), orgTotal, '#/organisations', 'organisations'),
      statCard(t('status.active'), byStatus[STATUSES.indexOf('active')], '#/measures?status=active', 'active')),
    h('section', { class: 'panel', 'aria-labelledby': 'dash-waiting' },
      h('h2', { id: 'dash-waiting' }, t('dashboard.waiting')),
      waiting.length ? h('ul', { class: 'plain' }, waiting) : h('p', { class: 'muted' }, t('dashboard.nothingWaiting'))),
    h('div', { class: 'grid-2' },
      h('section', { class: 'panel' },
        h('h2', { id: 'dash-status' }, t('dashboard.byStatus')), tableWrap(null, statusTable, t('dashboard.byStatus'))),
      h('section', { class: 'panel' },
        h('h2', { id: 'dash-field' }, t('dashboard.byField')), tableWrap(null, fieldTable, t('dashboard.byField')))),
    h('div', { class: 'grid-2' },
      h('section', { class: 'panel', 'aria-labelledby': 'dash-changes' },
        h('h2', { id: 'dash-changes' }, t('dashboard.recent')), changesBox),
      h('section', { class: 'panel', 'aria-labelledby': 'dash-fed' },
        h('h2', { id: 'dash-fed' }, t('dashboard.federation')), fedStats,
        h('p', {}, h('a', { href: '#/federation' }, t('dashboard.toFederation'))))),
  );

  try {
    const changes = await recentChanges();
    if (!changesBox.isConnected) return;
    replace(changesBox, changes.length
      ? h('ol', { class: 'change-list' }, changes.map((c) => {
          const kind = c.type === 'measure' ? 'measures' : c.type === 'progress' ? 'progress' : 'organisations';
          const fields = (c.fields || []).map(fieldLabel);
          return h('li', {},
            h('a', { href: kind === 'progress' ? '#/measures' : `#/${kind}/${c.id}/history` }, c.title || c.id),
            h('span', { class: 'muted' }, ` · ${t(`types.${c.type}`)}`),
            h('div', { class: 'change-meta' },
              h('time', { datetime: c.at }, formatDateTime(c.at)), ' · ',
              t(`history.op.${c.op}`), ' · ',
              t('history.by', { name: actorLabel(c.actor) }),
              c.op === 'update' && fields.length ? h('span', { class: 'muted' }, ` · ${fields.join(', ')}`) : null));
        }))
      : h('p', { class: 'muted' }, t('dashboard.noChanges')));
  } catch (err) {
    if (changesBox.isConnected) replace(changesBox, errorBox(err));
  }
}
