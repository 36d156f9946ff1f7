// Organisations (Akteure): list with search and filters; create, edit, delete.

import { h, replace } from '../dom.js';
import * as api from '../api.js';
import { t, formatDateTime } from '../i18n.js';
import { field, checkboxGroup, section, confirmDialog, numberOrNull } from '../forms.js';
import { pageHeader, tableWrap, errorBox, moreButton, displayValue, fieldLabel, notice } from '../ui.js';
import { can, announce, navigate, taxonomy, taxonomyOptions, invalidateOrganisations, ORG_KINDS } from '../state.js';
import { attachSave, deleteRecord } from '../record-form.js';

function filterForm(query, onApply) {
  const q = field({ field: 'q', label: t('list.search'), type: 'search', value: query.get('q') || '', hint: t('list.searchHint') });
  const kind = field({
    field: 'kind', label: t('fields.kind'), type: 'select', value: query.get('kind') || '',
    options: [{ value: '', label: t('list.all') }, ...ORG_KINDS.map((k) => ({ value: k, label: t(`kinds.${k}`) }))],
  });
  const foa = field({
    field: 'field_of_action', label: t('fields.field_of_action'), type: 'select', value: query.get('field_of_action') || '',
    options: [{ value: '', label: t('list.all') }, ...taxonomyOptions('fields_of_action').map((o) => ({ value: o.value, label: `${o.code} ${o.label}` }))],
  });
  const lang = field({ field: 'language', label: t('fields.language'), value: query.get('language') || '', hint: t('orgs.languageHint'), attrs: { size: 8 } });
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': t('list.filters') },
    q, kind, foa, lang,
    h('div', { class: 'filter-actions' },
      h('button', { type: 'submit', class: 'btn primary' }, t('list.apply')),
      h('a', { href: '#/organisations', class: 'btn link' }, t('list.reset'))));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const p = new URLSearchParams();
    for (const w of [q, kind, foa, lang]) if (w.control.value.trim()) p.set(w.control.name, w.control.value.trim());
    onApply(p);
  });
  return form;
}

export async function renderList(main, _params, query) {
  await taxonomy();
  const filters = {};
  for (const k of ['q', 'kind', 'field_of_action', 'language']) if (query.get(k)) filters[k] = query.get(k);
  const tbody = h('tbody');
  const countLine = h('p', { class: 'result-count', dataset: { total: '' } });
  const moreBox = h('div', { class: 'more' });
  const table = h('table', { class: 'data' },
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, t('fields.name')),
      h('th', { scope: 'col' }, t('fields.kind')),
      h('th', { scope: 'col' }, t('fields.fields_of_action')),
      h('th', { scope: 'col' }, t('fields.languages')),
      h('th', { scope: 'col' }, t('fields.updated')))),
    tbody);

  const actions = can('editor') ? [h('a', { href: '#/organisations/new', class: 'btn primary', dataset: { action: 'new' } }, t('orgs.new'))] : null;
  replace(main,
    pageHeader(t('orgs.title'), { intro: t('orgs.intro'), actions }),
    filterForm(query, (p) => navigate(`#/organisations${p.toString() ? `?${p}` : ''}`)),
    countLine,
    tableWrap(t('orgs.tableCaption'), table),
    moreBox);

  let cursor = null;
  const load = async () => {
    try {
      const page = await api.get('/organisations', { ...filters, limit: 50, cursor });
      for (const o of page.items) {
        tbody.appendChild(h('tr', { dataset: { id: o.id } },
          h('th', { scope: 'row' }, h('a', { href: `#/organisations/${o.id}` }, o.name)),
          h('td', {}, t(`kinds.${o.kind}`)),
          h('td', {}, o.fields_of_action.join(', ')),
          h('td', {}, o.languages.join(', ')),
          h('td', {}, h('time', { datetime: o.updated }, formatDateTime(o.updated)))));
      }
      countLine.dataset.total = String(page.total);
      countLine.textContent = t('orgs.found', { count: page.total });
      cursor = page.next_cursor;
      replace(moreBox, cursor ? moreButton(load) : null);
      if (!page.total) tbody.appendChild(h('tr', {}, h('td', { colspan: '5' }, t('list.none'))));
    } catch (err) {
      replace(moreBox, errorBox(err));
    }
  };
  await load();
  if ([...query.keys()].length) announce(countLine.textContent);
}

/** The organisation form's values, normalised like the server stores them. */
function readOrg(w) {
  const v = (x) => x.control.value.trim();
  const contact = {};
  for (const k of ['email', 'phone', 'person']) if (v(w[`contact.${k}`])) contact[k] = v(w[`contact.${k}`]);
  const addr = { street: v(w['address.street']), postal_code: v(w['address.postal_code']), city: v(w['address.city']) };
  const hasAddr = Object.values(addr).some(Boolean);
  const lat = numberOrNull(w['location.lat'].control.value);
  const lon = numberOrNull(w['location.lon'].control.value);
  return {
    name: v(w.name),
    kind: w.kind.control.value,
    description: w.description.control.value,
    fields_of_action: w.fields_of_action.values(),
    languages: v(w.languages).split(/[\s,;]+/).filter(Boolean),
    website: v(w.website) || null,
    contact,
    address: hasAddr ? addr : null,
    location: lat === null && lon === null ? null : { lat, lon },
  };
}

function validateOrg(values) {
  const errors = [];
  if (!values.name) errors.push({ field: 'name', detail: t('form.required') });
  if (!values.kind) errors.push({ field: 'kind', detail: t('form.required') });
  return errors;
}

export async function renderEdit(main, params) {
  const id = params[0];
  await taxonomy();
  let rec = null;
  let etag = null;
  if (id) {
    const r = await api.request('GET', `/organisations/${id}`);
    rec = r.data;
    etag = r.etag;
  }
  if (!can('editor')) {
    renderReadOnly(main, rec);
    return;
  }
  const val = (k, d = '') => (rec ? rec[k] ?? d : d);
  const w = {};
  w.name = field({ field: 'name', label: t('fields.name'), value: val('name'), required: true, attrs: { maxlength: 200 } });
  w.kind = field({
    field: 'kind', label: t('fields.kind'), type: 'select', value: val('kind'), required: true,
    options: [{ value: '', label: t('form.choose') }, ...ORG_KINDS.map((k) => ({ value: k, label: t(`kinds.${k}`) }))],
  });
  w.description = field({ field: 'description', label: t('fields.description'), type: 'textarea', value: val('description'), rows: 5 });
  w.fields_of_action = checkboxGroup({ field: 'fields_of_action', label: t('fields.fields_of_action'), options: taxonomyOptions('fields_of_action'), value: val('fields_of_action', []) });
  w.languages = field({ field: 'languages', label: t('fields.languages'), value: val('languages', []).join(', '), hint: t('orgs.languagesHint') });
  w.website = field({ field: 'website', label: t('fields.website'), type: 'url', value: val('website') || '', hint: t('orgs.websiteHint'), autocomplete: 'url' });
  const c = (rec && rec.contact) || {};
  w['contact.email'] = field({ field: 'contact.email', label: t('fields.contact.email'), type: 'email', value: c.email || '', autocomplete: 'email' });
  w['contact.phone'] = field({ field: 'contact.phone', label: t('fields.contact.phone'), type: 'tel', value: c.phone || '', autocomplete: 'tel' });
  w['contact.person'] = field({ field: 'contact.person', label: t('fields.contact.person'), value: c.person || '' });
  const a = (rec && rec.address) || {};
  w['address.street'] = field({ field: 'address.street', label: t('fields.address.street'), value: a.street || '', autocomplete: 'street-address' });
  w['address.postal_code'] = field({ field: 'address.postal_code', label: t('fields.address.postal_code'), value: a.postal_code || '', hint: t('orgs.postalHint'), autocomplete: 'postal-code', attrs: { inputmode: 'numeric', size: 6 } });
  w['address.city'] = field({ field: 'address.city', label: t('fields.address.city'), value: a.city || '', autocomplete: 'address-level2' });
  const l = (rec && rec.location) || {};
  w['location.lat'] = field({ field: 'location.lat', label: t('fields.location.lat'), value: l.lat ?? '', attrs: { inputmode: 'decimal', size: 10 } });
  w['location.lon'] = field({ field: 'location.lon', label: t('fields.location.lon'), value: l.lon ?? '', attrs: { inputmode: 'decimal', size: 10 } });

  const conflictBox = h('div', { class: 'conflict-box' });
  const form = h('form', { class: 'record-form', novalidate: true, 'aria-labelledby': 'page-title' },
    h('p', { class: 'muted small' }, t('form.requiredNote')),
    section(t('orgs.sectionBasics'), w.name, w.kind, w.description),
    section(t('orgs.sectionTopics'), w.fields_of_action, w.languages),
    section(t('orgs.sectionContact'), w.website, h('div', { class: 'row' }, w['contact.email'], w['contact.phone']), w['contact.person']),
    section(t('orgs.sectionAddress'), w['address.street'], h('div', { class: 'row' }, w['address.postal_code'], w['address.city']),
      h('div', { class: 'row', dataset: { fieldWrap: 'location', label: t('fields.location') } }, w['location.lat'], w['location.lon'])),
    h('div', { class: 'actions sticky' },
      h('button', { type: 'submit', class: 'btn primary' }, rec ? t('form.save') : t('orgs.create')),
      h('a', { href: '#/organisations', class: 'btn' }, t('common.cancel'))));

  const deleteBtn = rec
    ? h('button', {
        type: 'button', class: 'btn danger', dataset: { action: 'delete' },
        onClick: async () => {
          const ok = await confirmDialog({ title: t('orgs.deleteTitle'), text: t('orgs.deleteText', { name: rec.name }), confirmLabel: t('common.delete'), danger: true });
          if (ok && (await deleteRecord('organisations', rec, ctx.etag))) {
            invalidateOrganisations();
            navigate('#/organisations');
          }
        },
      }, t('common.delete'))
    : null;

  const ctx = attachSave({
    kind: 'organisations', form, conflictBox, original: rec, etag,
    read: () => readOrg(w),
    validate: validateOrg,
    onSaved: async (saved, created) => {
      invalidateOrganisations();
      if (created) navigate(`#/organisations/${saved.id}`);
      else navigate(`#/organisations/${saved.id}`);
    },
  });

  replace(main,
    pageHeader(rec ? rec.name : t('orgs.new'), {
      crumbs: [[t('nav.organisations'), '#/organisations'], [rec ? rec.name : t('orgs.new')]],
      actions: rec ? [h('a', { href: `#/organisations/${rec.id}/history`, class: 'btn' }, t('history.link')), deleteBtn] : null,
      intro: rec ? t('form.versionLine', { version: rec.version, updated: formatDateTime(rec.updated) }) : null,
    }),
    conflictBox,
    form);
}

function renderReadOnly(main, rec) {
  if (!rec) {
    replace(main, pageHeader(t('orgs.title')), notice(t('errors.forbidden')));
    return;
  }
  const rows = ['kind', 'description', 'fields_of_action', 'languages', 'website', 'contact', 'address', 'location', 'created', 'updated', 'version'];
  replace(main,
    pageHeader(rec.name, {
      crumbs: [[t('nav.organisations'), '#/organisations'], [rec.name]],
      actions: [h('a', { href: `#/organisations/${rec.id}/history`, class: 'btn' }, t('history.link'))],
    }),
    notice(t('form.readOnly')),
    h('dl', { class: 'kv' }, rows.map((k) => [h('dt', {}, fieldLabel(k)), h('dd', {}, displayValue(rec[k], k))])));
}

