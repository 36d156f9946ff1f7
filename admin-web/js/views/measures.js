// Measures (Maßnahmen): list with filters; create and edit with taxonomy and
// organisation pickers, dates, status, progress and indicators; progress entries
// (Sachstand) as a timeline with an add form.

import { h, replace, newId } from '../dom.js';
import * as api from '../api.js';
import { t, formatNumber, formatDate, formatDateTime } from '../i18n.js';
import { field, checkboxGroup, section, confirmDialog, numberOrNull, showErrors, clearErrors } from '../forms.js';
import { pageHeader, tableWrap, errorBox, moreButton, displayValue, fieldLabel, notice, statusBadge, progressBar, errorText } from '../ui.js';
import {
  can, announce, navigate, taxonomy, taxonomyOptions, taxonomyName, organisations, orgName, STATUSES,
} from '../state.js';
import { attachSave, deleteRecord } from '../record-form.js';
import { indicatorChart } from '../chart.js';

function orgOptions(orgs, emptyLabel) {
  const list = [...orgs.values()].sort((a, b) => a.name.localeCompare(b.name));
  return [{ value: '', label: emptyLabel }, ...list.map((o) => ({ value: o.id, label: o.name }))];
}

// ---- list -------------------------------------------------------------------

export async function renderList(main, _params, query) {
  await taxonomy();
  const orgs = await organisations();
  const filters = {};
  for (const k of ['q', 'field_of_action', 'theme', 'status', 'organisation']) if (query.get(k)) filters[k] = query.get(k);

  const all = { value: '', label: t('list.all') };
  const w = {
    q: field({ field: 'q', label: t('list.search'), type: 'search', value: filters.q || '', hint: t('list.searchHint') }),
    field_of_action: field({ field: 'field_of_action', label: t('fields.field_of_action'), type: 'select', value: filters.field_of_action || '', options: [all, ...taxonomyOptions('fields_of_action').map((o) => ({ value: o.value, label: `${o.code} ${o.label}` }))] }),
    theme: field({ field: 'theme', label: t('fields.theme'), type: 'select', value: filters.theme || '', options: [all, ...taxonomyOptions('themes').map((o) => ({ value: o.value, label: `${o.code} ${o.label}` }))] }),
    status: field({ field: 'status', label: t('fields.status'), type: 'select', value: filters.status || '', options: [all, ...STATUSES.map((s) => ({ value: s, label: t(`status.${s}`) }))] }),
    organisation: field({ field: 'organisation', label: t('fields.organisation'), type: 'select', value: filters.organisation || '', options: orgOptions(orgs, t('list.all')) }),
  };
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': t('list.filters') },
    Object.values(w),
    h('div', { class: 'filter-actions' },
      h('button', { type: 'submit', class: 'btn primary' }, t('list.apply')),
      h('a', { href: '#/measures', class: 'btn link' }, t('list.reset'))));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const p = new URLSearchParams();
    for (const x of Object.values(w)) if (x.control.value.trim()) p.set(x.control.name, x.control.value.trim());
    navigate(`#/measures${p.toString() ? `?${p}` : ''}`);
  });

  const tbody = h('tbody');
  const countLine = h('p', { class: 'result-count' });
  const moreBox = h('div', { class: 'more' });
  const table = h('table', { class: 'data' },
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, t('fields.title')),
      h('th', { scope: 'col' }, t('fields.status')),
      h('th', { scope: 'col' }, t('fields.progress')),
      h('th', { scope: 'col' }, t('fields.fields_of_action')),
      h('th', { scope: 'col' }, t('fields.lead_organisation')),
      h('th', { scope: 'col' }, t('fields.end_date')))),
    tbody);
  const actions = can('editor') ? [h('a', { href: '#/measures/new', class: 'btn primary', dataset: { action: 'new' } }, t('measures.new'))] : null;
  replace(main, pageHeader(t('measures.title'), { intro: t('measures.intro'), actions }), form, countLine, tableWrap(t('measures.tableCaption'), table), moreBox);

  let cursor = null;
  const load = async () => {
    try {
      const page = await api.get('/measures', { ...filters, limit: 50, cursor });
      for (const m of page.items) {
        tbody.appendChild(h('tr', { dataset: { id: m.id } },
          h('th', { scope: 'row' }, h('a', { href: `#/measures/${m.id}` }, m.title)),
          h('td', {}, statusBadge(m.status)),
          h('td', {}, progressBar(m.progress, t('measures.progressOf', { title: m.title }))),
          h('td', {}, [...m.fields_of_action, ...m.themes].join(', ')),
          h('td', {}, orgName(m.lead_organisation)),
          h('td', {}, formatDate(m.end_date))));
      }
      countLine.textContent = t('measures.found', { count: page.total });
      countLine.dataset.total = String(page.total);
      cursor = page.next_cursor;
      replace(moreBox, cursor ? moreButton(load) : null);
      if (!page.total) tbody.appendChild(h('tr', {}, h('td', { colspan: '6' }, t('list.none'))));
    } catch (err) {
      replace(moreBox, errorBox(err));
    }
  };
  await load();
  if ([...query.keys()].length) announce(countLine.textContent);
}

// ---- sub navigation ------------------------------------------------------------

function measureTabs(id, active) {
  const tabs = [['edit', `#/measures/${id}`, t('measures.tabDetails')], ['progress', `#/measures/${id}/progress`, t('measures.tabProgress')], ['history', `#/measures/${id}/history`, t('measures.tabHistory')], ['discussion', `#/discuss/measure/${id}`, t('measures.tabDiscussion')]];
  return h('nav', { class: 'tabs', 'aria-label': t('measures.tabsLabel') },
    h('ul', {}, tabs.map(([k, href, label]) => h('li', {}, h('a', { href, 'aria-current': k === active ? 'page' : null }, label)))));
}
export { measureTabs };

// ---- indicators editor -------------------------------------------------------

function indicatorsEditor(initial) {
  const model = (initial || []).map((i) => ({
    name: i.name, unit: i.unit || '', baseline: i.baseline ?? null, target: i.target ?? null,
    values: (i.values || []).map((v) => ({ date: v.date, value: v.value })),
  }));
  const root = h('div', { class: 'indicators', dataset: { fieldWrap: 'indicators', label: t('fields.indicators') } });

  const render = (focusSel) => {
    replace(root);
    model.forEach((ind, i) => root.appendChild(indicatorBox(ind, i)));
    if (!model.length) root.appendChild(h('p', { class: 'muted' }, t('indicators.none')));
    root.appendChild(h('button', {
      type: 'button', class: 'btn', dataset: { action: 'add-indicator' },
      onClick: () => {
        model.push({ name: '', unit: '', baseline: null, target: null, values: [] });
        render(`[data-field-wrap="indicators[${model.length - 1}].name"] input`);
      },
    }, t('indicators.add')));
    if (focusSel) {
      const el = root.querySelector(focusSel);
      if (el) el.focus();
    }
  };

  const indicatorBox = (ind, i) => {
    const pre = `indicators[${i}]`;
    const chartBox = h('div', { class: 'chart-box' }, indicatorChart(ind));
    const redraw = () => replace(chartBox, indicatorChart(ind));
    const bind = (wrap, key, conv = (x) => x) => {
      wrap.control.addEventListener('input', () => {
        ind[key] = conv(wrap.control.value);
        redraw();
      });
      return wrap;
    };
    const name = bind(field({ field: `${pre}.name`, label: t('indicators.name'), value: ind.name, required: true }), 'name', (x) => x);
    const unit = bind(field({ field: `${pre}.unit`, label: t('indicators.unit'), value: ind.unit, attrs: { size: 10 } }), 'unit');
    const baseline = bind(field({ field: `${pre}.baseline`, label: t('indicators.baseline'), value: ind.baseline ?? '', attrs: { inputmode: 'decimal', size: 8 } }), 'baseline', numberOrNull);
    const target = bind(field({ field: `${pre}.target`, label: t('indicators.target'), value: ind.target ?? '', attrs: { inputmode: 'decimal', size: 8 } }), 'target', numberOrNull);

    const rows = ind.values.map((v, j) => {
      const dId = newId('v');
      const vId = newId('v');
      const dIn = h('input', { type: 'date', id: dId, value: v.date || '' });
      const vIn = h('input', { type: 'text', inputmode: 'decimal', id: vId, value: v.value ?? '', size: 8 });
      dIn.addEventListener('input', () => { v.date = dIn.value; redraw(); });
      vIn.addEventListener('input', () => { v.value = numberOrNull(vIn.value); redraw(); });
      const vw = h('td', { dataset: { fieldWrap: `${pre}.values[${j}]`, label: t('indicators.valueN', { n: j + 1 }) } },
        h('label', { for: dId, class: 'visually-hidden' }, t('indicators.dateN', { n: j + 1 })), dIn);
      vw.control = dIn;
      return h('tr', {}, vw,
        h('td', {}, h('label', { for: vId, class: 'visually-hidden' }, t('indicators.valueN', { n: j + 1 })), vIn),
        h('td', {}, h('button', {
          type: 'button', class: 'btn small link',
          onClick: () => {
            ind.values.splice(j, 1);
            render(`[data-indicator="${i}"] [data-action="add-value"]`);
          },
        }, t('indicators.removeValue', { n: j + 1 }))));
    });
    const capId = newId('cap');
    const valuesTable = h('table', { class: 'data compact values' },
      h('caption', { id: capId }, t('indicators.valuesCaption', { name: ind.name || t('indicators.unnamed') })),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('indicators.date')), h('th', { scope: 'col' }, t('indicators.value')), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, t('common.actions'))))),
      h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: '3', class: 'muted' }, t('indicators.noValues')))));
    const legendId = newId('l');
    return h('fieldset', { class: 'indicator', dataset: { indicator: String(i), fieldWrap: pre, label: t('indicators.numbered', { n: i + 1 }) }, 'aria-labelledby': legendId },
      h('legend', { id: legendId }, t('indicators.numbered', { n: i + 1 }), ind.name ? `: ${ind.name}` : ''),
      h('div', { class: 'row' }, name, unit, baseline, target),
      h('div', { class: 'indicator-body' },
        h('div', { class: 'values-box' },
          h('div', { class: 'table-wrap', role: 'region', tabindex: '0', 'aria-labelledby': capId }, valuesTable),
          h('button', {
            type: 'button', class: 'btn small', dataset: { action: 'add-value' },
            onClick: () => {
              ind.values.push({ date: new Date().toISOString().slice(0, 10), value: null });
              render(`[data-field-wrap="${pre}.values[${ind.values.length - 1}]"] input`);
            },
          }, t('indicators.addValue'))),
        chartBox),
      h('div', { class: 'actions' },
        h('button', {
          type: 'button', class: 'btn small danger-link',
          onClick: () => {
            model.splice(i, 1);
            render('[data-action="add-indicator"]');
          },
        }, t('indicators.remove', { n: i + 1 }))));
  };
  render();
  root.read = () => model.map((ind) => ({
    name: (ind.name || '').trim(),
    unit: (ind.unit || '').trim(),
    baseline: ind.baseline,
    target: ind.target,
    values: ind.values.filter((v) => v.date || (v.value !== null && v.value !== '')).map((v) => ({ date: v.date, value: v.value })),
  }));
  root.control = null;
  return root;
}

// ---- edit --------------------------------------------------------------------

function readMeasure(w, indicators) {
  const v = (x) => x.control.value.trim();
  const progress = v(w.progress) === '' ? 0 : numberOrNull(v(w.progress));
  return {
    title: v(w.title),
    description: w.description.control.value,
    fields_of_action: w.fields_of_action.values(),
    themes: w.themes.values(),
    status: w.status.control.value,
    progress,
    start_date: v(w.start_date) || null,
    end_date: v(w.end_date) || null,
    lead_organisation: w.lead_organisation.control.value || null,
    partner_organisations: w.partner_organisations.values(),
    target_groups: w.target_groups.control.value.split('\n').map((x) => x.trim()).filter(Boolean),
    indicators: indicators.read(),
  };
}

function validateMeasure(values) {
  const errors = [];
  if (!values.title) errors.push({ field: 'title', detail: t('form.required') });
  if (!values.fields_of_action.length) errors.push({ field: 'fields_of_action', detail: t('measures.needField') });
  values.indicators.forEach((ind, i) => {
    if (!ind.name) errors.push({ field: `indicators[${i}].name`, detail: t('form.required') });
  });
  return errors;
}

export async function renderEdit(main, params) {
  const id = params[0];
  await taxonomy();
  const orgs = await organisations();
  let rec = null;
  let etag = null;
  if (id) {
    const r = await api.request('GET', `/measures/${id}`);
    rec = r.data;
    etag = r.etag;
  }
  if (!can('editor')) {
    renderReadOnly(main, rec);
    return;
  }
  const val = (k, d = '') => (rec ? rec[k] ?? d : d);
  const w = {};
  w.title = field({ field: 'title', label: t('fields.title'), value: val('title'), required: true, attrs: { maxlength: 300 } });
  w.description = field({ field: 'description', label: t('fields.description'), type: 'textarea', value: val('description'), rows: 6 });
  w.fields_of_action = checkboxGroup({ field: 'fields_of_action', label: t('fields.fields_of_action'), options: taxonomyOptions('fields_of_action'), value: val('fields_of_action', []), required: true, hint: t('measures.fieldsHint') });
  w.themes = checkboxGroup({ field: 'themes', label: t('fields.themes'), options: taxonomyOptions('themes'), value: val('themes', []) });
  w.status = field({ field: 'status', label: t('fields.status'), type: 'select', value: val('status', 'planned'), options: STATUSES.map((s) => ({ value: s, label: t(`status.${s}`) })) });
  w.progress = field({ field: 'progress', label: t('fields.progressPercent'), type: 'number', value: val('progress', 0), attrs: { min: 0, max: 100, step: 1, size: 5 } });
  w.start_date = field({ field: 'start_date', label: t('fields.start_date'), type: 'date', value: val('start_date') || '' });
  w.end_date = field({ field: 'end_date', label: t('fields.end_date'), type: 'date', value: val('end_date') || '' });
  w.lead_organisation = field({ field: 'lead_organisation', label: t('fields.lead_organisation'), type: 'select', value: val('lead_organisation') || '', options: orgOptions(orgs, t('measures.noLead')) });
  const partnerOpts = [...orgs.values()].sort((a, b) => a.name.localeCompare(b.name)).map((o) => ({ value: o.id, label: o.name }));
  for (const pid of val('partner_organisations', [])) if (!orgs.has(pid)) partnerOpts.push({ value: pid, label: `${pid} (${t('measures.unknownOrg')})` });
  w.partner_organisations = checkboxGroup({ field: 'partner_organisations', label: t('fields.partner_organisations'), options: partnerOpts, value: val('partner_organisations', []), scroll: true });
  w.target_groups = field({ field: 'target_groups', label: t('fields.target_groups'), type: 'textarea', value: val('target_groups', []).join('\n'), rows: 3, hint: t('measures.targetGroupsHint') });
  const indicators = indicatorsEditor(val('indicators', []));

  const conflictBox = h('div', { class: 'conflict-box' });
  const form = h('form', { class: 'record-form', novalidate: true, 'aria-labelledby': 'page-title' },
    h('p', { class: 'muted small' }, t('form.requiredNote')),
    section(t('measures.sectionBasics'), w.title, w.description, w.target_groups),
    section(t('measures.sectionTaxonomy'), w.fields_of_action, w.themes),
    section(t('measures.sectionState'), h('div', { class: 'row' }, w.status, w.progress), h('div', { class: 'row' }, w.start_date, w.end_date)),
    section(t('measures.sectionOrgs'), w.lead_organisation, w.partner_organisations),
    section(t('fields.indicators'), indicators),
    h('div', { class: 'actions sticky' },
      h('button', { type: 'submit', class: 'btn primary' }, rec ? t('form.save') : t('measures.create')),
      h('a', { href: '#/measures', class: 'btn' }, t('common.cancel'))));

  const ctx = attachSave({
    kind: 'measures', form, conflictBox, original: rec, etag,
    read: () => readMeasure(w, indicators),
    validate: validateMeasure,
    onSaved: async (saved) => navigate(`#/measures/${saved.id}`),
  });

  const deleteBtn = rec
    ? h('button', {
        type: 'button', class: 'btn danger', dataset: { action: 'delete' },
        onClick: async () => {
          const ok = await confirmDialog({ title: t('measures.deleteTitle'), text: t('measures.deleteText', { title: rec.title }), confirmLabel: t('common.delete'), danger: true });
          if (ok && (await deleteRecord('measures', rec, ctx.etag))) navigate('#/measures');
        },
      }, t('common.delete'))
    : null;

  replace(main,
    pageHeader(rec ? rec.title : t('measures.new'), {
      crumbs: [[t('nav.measures'), '#/measures'], [rec ? rec.title : t('measures.new')]],
      actions: deleteBtn ? [deleteBtn] : null,
      intro: rec ? t('form.versionLine', { version: rec.version, updated: formatDateTime(rec.updated) }) : null,
    }),
    rec ? measureTabs(rec.id, 'edit') : null,
    conflictBox,
    form);
}

function renderReadOnly(main, rec) {
  if (!rec) {
    replace(main, pageHeader(t('measures.title')), notice(t('errors.forbidden')));
    return;
  }
  const rows = ['status', 'progress', 'fields_of_action', 'themes', 'start_date', 'end_date', 'lead_organisation', 'partner_organisations', 'target_groups', 'description', 'created', 'updated', 'version'];
  const show = (k) => {
    if (k === 'status') return statusBadge(rec.status);
    if (k === 'progress') return progressBar(rec.progress);
    if (k === 'fields_of_action' || k === 'themes') return rec[k].length ? rec[k].map((c) => `${c} ${taxonomyName(c)}`).join('; ') : displayValue(null);
    if (k === 'lead_organisation') return rec[k] ? orgName(rec[k]) : displayValue(null);
    if (k === 'partner_organisations') return rec[k].length ? rec[k].map(orgName).join(', ') : displayValue(null);
    return displayValue(rec[k], k);
  };
  replace(main,
    pageHeader(rec.title, { crumbs: [[t('nav.measures'), '#/measures'], [rec.title]] }),
    measureTabs(rec.id, 'edit'),
    notice(t('form.readOnly')),
    h('dl', { class: 'kv' }, rows.map((k) => [h('dt', {}, fieldLabel(k)), h('dd', {}, show(k))])),
    h('h2', {}, t('fields.indicators')),
    rec.indicators.length
      ? rec.indicators.map((ind) => h('div', { class: 'indicator readonly' },
          h('h3', {}, ind.name, ind.unit ? ` (${ind.unit})` : ''),
          h('p', { class: 'muted' }, t('indicators.summary', { baseline: ind.baseline ?? '–', target: ind.target ?? '–' })),
          h('div', { class: 'indicator-body' },
            tableWrap(t('indicators.valuesCaption', { name: ind.name }), h('table', { class: 'data compact' },
              h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('indicators.date')), h('th', { scope: 'col', class: 'num' }, t('indicators.value')))),
              h('tbody', {}, ind.values.map((v) => h('tr', {}, h('td', {}, formatDate(v.date)), h('td', { class: 'num' }, formatNumber(v.value))))))),
            h('div', { class: 'chart-box' }, indicatorChart(ind)))))
      : h('p', { class: 'muted' }, t('indicators.none')));
}

// ---- progress entries (Sachstand) ---------------------------------------------

export async function renderProgress(main, params) {
  const id = params[0];
  const rec = (await api.request('GET', `/measures/${id}`)).data;
  const { items } = await api.listAll(`/measures/${id}/progress`);
  items.sort((a, b) => (a.date < b.date ? 1 : a.date > b.date ? -1 : a.created < b.created ? 1 : -1));

  const timeline = items.length
    ? h('ol', { class: 'timeline' }, items.map((p) => h('li', { dataset: { id: p.id } },
        h('div', { class: 'tl-date' }, h('time', { datetime: p.date }, formatDate(p.date))),
        h('div', { class: 'tl-body' },
          h('h3', {}, p.title),
          p.progress !== null ? h('p', { class: 'tl-progress' }, progressBar(p.progress, t('progress.progressOf', { title: p.title }))) : null,
          p.text ? h('p', { class: 'tl-text' }, p.text) : null,
          h('p', { class: 'muted small' }, t('form.versionLine', { version: p.version, updated: formatDateTime(p.updated) }),
            ' · ', h('a', { href: `#/measures/${id}/history?entry=${p.id}` }, t('history.link')),
            ' · ', h('a', { href: `#/discuss/progress/${p.id}`, dataset: { discuss: p.id } }, t('progress.discussion'), h('span', { class: 'visually-hidden' }, ` – ${p.title}`))),
          can('editor')
            ? h('button', {
                type: 'button', class: 'btn small danger-link',
                onClick: async () => {
                  const ok = await confirmDialog({ title: t('progress.deleteTitle'), text: t('progress.deleteText', { title: p.title }), confirmLabel: t('common.delete'), danger: true });
                  if (ok && (await deleteRecord('progress', p, p.version))) navigate(`#/measures/${id}/progress`);
                },
              }, t('progress.delete', { title: p.title }))
            : null))))
    : h('p', { class: 'muted' }, t('progress.none'));

  let addForm = null;
  if (can('editor')) {
    const w = {
      date: field({ field: 'date', label: t('fields.date'), type: 'date', value: new Date().toISOString().slice(0, 10), required: true }),
      title: field({ field: 'title', label: t('fields.title'), required: true, attrs: { maxlength: 300 } }),
      text: field({ field: 'text', label: t('fields.text'), type: 'textarea', rows: 4 }),
      progress: field({ field: 'progress', label: t('progress.progressOptional'), type: 'number', attrs: { min: 0, max: 100, step: 1, size: 5 }, hint: t('progress.progressHint') }),
    };
    addForm = h('form', { class: 'record-form card', novalidate: true, 'aria-labelledby': 'progress-add-title' },
      h('h2', { id: 'progress-add-title' }, t('progress.add')),
      h('div', { class: 'row' }, w.date, w.progress), w.title, w.text,
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn primary' }, t('progress.submit'))));
    addForm.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearErrors(addForm);
      const body = {
        date: w.date.control.value.trim(),
        title: w.title.control.value.trim(),
        text: w.text.control.value,
        progress: w.progress.control.value.trim() === '' ? null : numberOrNull(w.progress.control.value),
      };
      const errors = [];
      if (!body.date) errors.push({ field: 'date', detail: t('form.required') });
      if (!body.title) errors.push({ field: 'title', detail: t('form.required') });
      if (errors.length) {
        showErrors(addForm, errors);
        return;
      }
      try {
        await api.post(`/measures/${id}/progress`, body);
        announce(t('progress.added'));
        navigate(`#/measures/${id}/progress`);
      } catch (err) {
        showErrors(addForm, err.errors.length ? err.errors : [{ field: null, detail: errorText(err) }]);
      }
    });
  }

  replace(main,
    pageHeader(rec.title, { crumbs: [[t('nav.measures'), '#/measures'], [rec.title, `#/measures/${id}`], [t('measures.tabProgress')]] }),
    measureTabs(id, 'progress'),
    h('div', { class: 'grid-2 wide-first' },
      h('section', { 'aria-labelledby': 'timeline-title' }, h('h2', { id: 'timeline-title' }, t('progress.timeline')), timeline),
      addForm));
}
