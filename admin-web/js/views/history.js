// Change history of a record: who changed which field, when, from what to what.

import { h, replace } from '../dom.js';
import * as api from '../api.js';
import { t, formatDateTime } from '../i18n.js';
import { pageHeader, tableWrap, displayValue, fieldLabel, actorLabel } from '../ui.js';
import { measureTabs } from './measures.js';

export async function render(main, kind, params, query) {
  const id = params[0];
  const entry = query && query.get('entry');
  const histKind = entry ? 'progress' : kind;
  const histId = entry || id;
  const [recResp, hist] = await Promise.all([
    api.request('GET', `/${kind}/${id}`).catch((err) => (err.status === 410 ? { data: null } : Promise.reject(err))),
    api.get(`/${histKind}/${histId}/history`),
  ]);
  const rec = recResp.data;
  const name = rec ? rec.title || rec.name : id;
  let subject = name;
  if (entry) {
    try {
      subject = (await api.get(`/progress/${entry}`)).title;
    } catch (_) {
      subject = entry;
    }
  }
  const listLabel = kind === 'measures' ? t('nav.measures') : t('nav.organisations');
  const entries = [...hist.history].reverse(); // newest first
  const items = entries.map((e) => {
    const fields = Object.keys(e.changes || {});
    const headId = `h-v${e.version}`;
    const body = e.op === 'delete' || !fields.length
      ? h('p', { class: 'muted' }, e.op === 'delete' ? t('history.deleted') : t('history.noFields'))
      : tableWrap(null, h('table', { class: 'data compact history-table', 'aria-labelledby': headId },
          h('thead', {}, h('tr', {},
            h('th', { scope: 'col' }, t('history.field')),
            e.op === 'create' ? null : h('th', { scope: 'col' }, t('history.from')),
            h('th', { scope: 'col' }, e.op === 'create' ? t('history.value') : t('history.to')))),
          h('tbody', {}, fields.map((f) => h('tr', {},
            h('th', { scope: 'row' }, fieldLabel(f)),
            e.op === 'create' ? null : h('td', { class: 'from' }, displayValue(e.changes[f].from, f)),
            h('td', { class: 'to' }, displayValue(e.changes[f].to, f)))))),
          `${t(`history.op.${e.op}`)} · ${t('history.version', { version: e.version })}`);
    const content = [
      h('h2', { id: headId, class: 'h3' },
        t(`history.op.${e.op}`), ' · ', t('history.version', { version: e.version })),
      h('p', { class: 'change-meta' },
        h('time', { datetime: e.at }, formatDateTime(e.at)), ' · ', t('history.by', { name: actorLabel(e.actor) })),
    ];
    // Creation lists every field; keep it folded so updates stand out.
    return h('li', { class: `history-entry op-${e.op}` }, content,
      e.op === 'create' && fields.length > 3
        ? h('details', {}, h('summary', {}, t('history.showCreate', { count: fields.length })), body)
        : body);
  });
  const crumbs = [[listLabel, `#/${kind}`], [name, rec ? `#/${kind}/${id}` : null], [t('history.title')]];
  replace(main,
    pageHeader(t('history.titleFor', { name: subject }), { crumbs, intro: t('history.intro') }),
    kind === 'measures' && rec ? measureTabs(id, 'history') : null,
    rec ? null : h('p', { class: 'notice warn' }, t('history.recordDeleted')),
    items.length ? h('ol', { class: 'history' }, items) : h('p', {}, t('history.none')));
}
