// CSV export and import of organisations and measures.
// Export pages through the list API and builds the file in the browser.
// Import parses in the browser, checks every row, shows a preview with the errors
// per row, and writes nothing until the user confirms — then either all rows or
// only the valid ones, as chosen.

import { h, replace, newId } from '../dom.js';
import * as api from '../api.js';
import { t } from '../i18n.js';
import { field } from '../forms.js';
import { pageHeader, tableWrap, errorText, notice } from '../ui.js';
import { can, announce, taxonomy, organisations, invalidateOrganisations, ORG_KINDS, STATUSES, state } from '../state.js';
import { toCsv, parseCsv, download } from '../csv.js';

const LIST_SEP = '|';
const LANG_TAG = /^[a-z]{2,3}(-[A-Za-z0-9]{2,4})?$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

const splitList = (s) => String(s || '').split(/\s*[|]\s*/).map((x) => x.trim()).filter(Boolean);
const splitCodes = (s) => String(s || '').split(/[\s|,;]+/).map((x) => x.trim()).filter(Boolean);

function validDate(s) {
  if (!DATE.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

function num(s) {
  const v = String(s ?? '').trim().replace(',', '.');
  if (v === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : NaN;
}

// ---- column definitions -------------------------------------------------------

const ORG_COLUMNS = ['id', 'name', 'kind', 'description', 'fields_of_action', 'languages', 'website', 'contact_email', 'contact_phone', 'contact_person', 'street', 'postal_code', 'city', 'lat', 'lon', 'created', 'updated'];
const MEASURE_COLUMNS = ['id', 'title', 'description', 'fields_of_action', 'themes', 'status', 'progress', 'start_date', 'end_date', 'lead_organisation', 'partner_organisations', 'target_groups', 'indicators', 'created', 'updated'];
const READ_ONLY = new Set(['id', 'created', 'updated']);

function orgToRow(o) {
  const c = o.contact || {};
  const a = o.address || {};
  const l = o.location || {};
  return [o.id, o.name, o.kind, o.description, o.fields_of_action.join(LIST_SEP), o.languages.join(LIST_SEP), o.website || '', c.email || '', c.phone || '', c.person || '', a.street || '', a.postal_code || '', a.city || '', l.lat ?? '', l.lon ?? '', o.created, o.updated];
}

function measureToRow(m) {
  return [m.id, m.title, m.description, m.fields_of_action.join(LIST_SEP), m.themes.join(LIST_SEP), m.status, m.progress, m.start_date || '', m.end_date || '', m.lead_organisation || '', m.partner_organisations.join(LIST_SEP), m.target_groups.join(LIST_SEP), m.indicators.length ? JSON.stringify(m.indicators) : '', m.created, m.updated];
}

/** Accepts a code or its label in the current language (or German). */
function codeFrom(value, codes, labelKey) {
  const v = String(value || '').trim();
  if (!v) return '';
  if (codes.includes(v)) return v;
  const low = v.toLowerCase();
  for (const c of codes) if (t(`${labelKey}.${c}`).toLowerCase() === low) return c;
  return null;
}

function orgFromRow(get, ctx) {
  const errors = [];
  const err = (field, key, p) => errors.push({ field, detail: t(`import.err.${key}`, p) });
  const body = {};
  body.name = get('name').trim();
  if (!body.name) err('name', 'required');
  else if (body.name.length > 200) err('name', 'tooLong', { max: 200 });
  const kind = codeFrom(get('kind'), ORG_KINDS, 'kinds');
  if (!get('kind').trim()) err('kind', 'required');
  else if (kind === null) err('kind', 'oneOf', { values: ORG_KINDS.join(', ') });
  body.kind = kind || get('kind').trim();
  body.description = get('description');
  body.fields_of_action = splitCodes(get('fields_of_action'));
  for (const c of body.fields_of_action) if (!ctx.hf.includes(c)) err('fields_of_action', 'unknownCode', { code: c });
  if (body.fields_of_action.length > 7) err('fields_of_action', 'tooMany', { max: 7 });
  body.languages = splitCodes(get('languages'));
  for (const l of body.languages) if (!LANG_TAG.test(l)) err('languages', 'langTag', { tag: l });
  const website = get('website').trim();
  body.website = website || null;
  if (website && !/^https?:\/\/[^\s]+$/.test(website)) err('website', 'url');
  body.contact = {};
  for (const k of ['email', 'phone', 'person']) {
    const v = get(`contact_${k}`).trim();
    if (v) body.contact[k] = v;
  }
  if (body.contact.email && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(body.contact.email)) err('contact_email', 'email');
  const addr = { street: get('street').trim(), postal_code: get('postal_code').trim(), city: get('city').trim() };
  body.address = Object.values(addr).some(Boolean) ? addr : null;
  if (addr.postal_code && !/^\d{5}$/.test(addr.postal_code)) err('postal_code', 'postal');
  const lat = num(get('lat'));
  const lon = num(get('lon'));
  if (lat === null && lon === null) body.location = null;
  else {
    body.location = { lat, lon };
    if (lat === null || Number.isNaN(lat) || lat < -90 || lat > 90) err('lat', 'range', { min: -90, max: 90 });
    if (lon === null || Number.isNaN(lon) || lon < -180 || lon > 180) err('lon', 'range', { min: -180, max: 180 });
  }
  return { body, errors, label: body.name };
}

function orgRef(v, ctx) {
  const s = String(v || '').trim();
  if (!s) return null;
  if (ctx.orgs.has(s)) return s;
  const byName = [...ctx.orgs.values()].filter((o) => o.name.toLowerCase() === s.toLowerCase());
  return byName.length === 1 ? byName[0].id : undefined;
}

function measureFromRow(get, ctx) {
  const errors = [];
  const err = (field, key, p) => errors.push({ field, detail: t(`import.err.${key}`, p) });
  const body = {};
  body.title = get('title').trim();
  if (!body.title) err('title', 'required');
  else if (body.title.length > 300) err('title', 'tooLong', { max: 300 });
  body.description = get('description');
  body.fields_of_action = splitCodes(get('fields_of_action'));
  if (!body.fields_of_action.length) err('fields_of_action', 'needField');
  for (const c of body.fields_of_action) if (!ctx.hf.includes(c)) err('fields_of_action', 'unknownCode', { code: c });
  body.themes = splitCodes(get('themes'));
  for (const c of body.themes) if (!ctx.qt.includes(c)) err('themes', 'unknownCode', { code: c });
  if (body.themes.length > 3) err('themes', 'tooMany', { max: 3 });
  const status = get('status').trim();
  if (status) {
    const code = codeFrom(status, STATUSES, 'status');
    if (code === null) err('status', 'oneOf', { values: STATUSES.join(', ') });
    body.status = code || status;
  }
  const progress = get('progress').trim();
  if (progress) {
    const p = num(progress.replace(/\s*%$/, ''));
    if (!Number.isInteger(p) || p < 0 || p > 100) err('progress', 'progress');
    body.progress = Number.isNaN(p) ? progress : p;
  }
  for (const k of ['start_date', 'end_date']) {
    const v = get(k).trim();
    body[k] = v || null;
    if (v && !validDate(v)) err(k, 'date');
  }
  if (body.start_date && body.end_date && validDate(body.start_date) && validDate(body.end_date) && body.end_date < body.start_date) err('end_date', 'endBeforeStart');
  const lead = get('lead_organisation').trim();
  body.lead_organisation = lead ? orgRef(lead, ctx) ?? lead : null;
  if (lead && orgRef(lead, ctx) === undefined) err('lead_organisation', 'unknownOrg', { value: lead });
  body.partner_organisations = splitList(get('partner_organisations')).map((p) => {
    const id = orgRef(p, ctx);
    if (id === undefined) err('partner_organisations', 'unknownOrg', { value: p });
    return id || p;
  });
  body.target_groups = splitList(get('target_groups'));
  if (body.target_groups.length > 30) err('target_groups', 'tooMany', { max: 30 });
  const ind = get('indicators').trim();
  body.indicators = [];
  if (ind) {
    try {
      const parsed = JSON.parse(ind);
      if (!Array.isArray(parsed)) throw new Error('not an array');
      body.indicators = parsed;
    } catch (_) {
      err('indicators', 'json');
    }
  }
  return { body, errors, label: body.title };
}

const KINDS = {
  organisations: { columns: ORG_COLUMNS, toRow: orgToRow, fromRow: orgFromRow, required: ['name', 'kind'] },
  measures: { columns: MEASURE_COLUMNS, toRow: measureToRow, fromRow: measureFromRow, required: ['title', 'fields_of_action'] },
};

// ---- page -----------------------------------------------------------------------

export async function render(main) {
  await taxonomy();

  // Export ------------------------------------------------------------------------
  const exportKind = field({ field: 'export_kind', label: t('transfer.what'), type: 'select', value: 'organisations', options: [{ value: 'organisations', label: t('nav.organisations') }, { value: 'measures', label: t('nav.measures') }] });
  const exportStatus = h('p', { class: 'muted', 'aria-live': 'polite' });
  const exportForm = h('form', { class: 'inline-form', 'aria-labelledby': 'export-title' },
    exportKind, h('button', { type: 'submit', class: 'btn primary', dataset: { action: 'export' } }, t('transfer.exportButton')));
  exportForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const kind = exportKind.control.value;
    const btn = exportForm.querySelector('button');
    btn.disabled = true;
    try {
      const { items } = await api.listAll(`/${kind}`, {}, (n, total) => {
        exportStatus.textContent = t('transfer.loaded', { n, total });
      });
      const spec = KINDS[kind];
      const csv = toCsv([spec.columns, ...items.map(spec.toRow)]);
      const date = new Date().toISOString().slice(0, 10);
      const district = state.node ? state.node.district : 'dinet';
      download(`${t(`transfer.file.${kind}`)}-${district}-${date}.csv`, csv);
      exportStatus.textContent = t('transfer.exported', { count: items.length });
      announce(exportStatus.textContent);
    } catch (err) {
      exportStatus.textContent = errorText(err);
      announce(errorText(err), 'error');
    } finally {
      btn.disabled = false;
    }
  });

  const sections = [
    h('section', { class: 'panel', 'aria-labelledby': 'export-title' },
      h('h2', { id: 'export-title' }, t('transfer.exportTitle')),
      h('p', {}, t('transfer.exportIntro')),
      exportForm, exportStatus),
  ];

  if (can('editor')) sections.push(importSection());
  else sections.push(notice(t('transfer.importNeedsEditor')));

  replace(main, pageHeader(t('transfer.title'), { intro: t('transfer.intro') }), sections);
}

function importSection() {
  const kindName = newId('k');
  const kindFs = h('fieldset', { class: 'field checks' },
    h('legend', {}, t('transfer.importWhat')),
    h('div', { class: 'check-list horizontal' },
      ['organisations', 'measures'].map((k, i) => {
        const id = newId('r');
        return h('div', { class: 'check' }, h('input', { type: 'radio', name: kindName, id, value: k, checked: i === 0 }), h('label', { for: id }, t(`nav.${k}`)));
      })));
  const file = field({ field: 'file', label: t('transfer.file.label'), type: 'file', attrs: { accept: '.csv,text/csv' }, hint: t('transfer.fileHint') });
  const paste = field({ field: 'paste', label: t('transfer.paste'), type: 'textarea', rows: 5, attrs: { spellcheck: 'false', class: 'mono' } });
  const previewBox = h('div', { class: 'preview' });
  const form = h('form', { class: 'record-form', novalidate: true, 'aria-labelledby': 'import-title' },
    kindFs, file, paste,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn primary', dataset: { action: 'preview' } }, t('transfer.previewButton'))));

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const kind = form.querySelector(`input[name="${kindName}"]:checked`).value;
    let text = paste.control.value;
    if (file.control.files && file.control.files[0]) text = await file.control.files[0].text();
    if (!text.trim()) {
      replace(previewBox, notice(t('transfer.nothing'), 'error'));
      announce(t('transfer.nothing'), 'error');
      return;
    }
    await buildPreview(previewBox, kind, text);
  });

  return h('section', { class: 'panel', 'aria-labelledby': 'import-title' },
    h('h2', { id: 'import-title' }, t('transfer.importTitle')),
    h('p', {}, t('transfer.importIntro')),
    h('details', { class: 'help' }, h('summary', {}, t('transfer.formatHelp')),
      h('p', {}, t('transfer.formatText', { sep: LIST_SEP })),
      h('p', {}, h('strong', {}, `${t('nav.organisations')}: `), h('code', {}, ORG_COLUMNS.filter((c) => !READ_ONLY.has(c)).join(';'))),
      h('p', {}, h('strong', {}, `${t('nav.measures')}: `), h('code', {}, MEASURE_COLUMNS.filter((c) => !READ_ONLY.has(c)).join(';')))),
    form, previewBox);
}

async function buildPreview(box, kind, text) {
  const spec = KINDS[kind];
  let rows;
  try {
    rows = parseCsv(text);
  } catch (_) {
    replace(box, notice(t('transfer.badCsv'), 'error'));
    announce(t('transfer.badCsv'), 'error');
    return;
  }
  if (rows.length < 2) {
    replace(box, notice(t('transfer.noRows'), 'error'));
    announce(t('transfer.noRows'), 'error');
    return;
  }
  const header = rows[0].map((c) => c.trim().toLowerCase());
  const missing = spec.required.filter((c) => !header.includes(c));
  if (missing.length) {
    const msg = t('transfer.missingColumns', { columns: missing.join(', ') });
    replace(box, notice(msg, 'error'));
    announce(msg, 'error');
    return;
  }
  const unknown = header.filter((c) => c && !spec.columns.includes(c));
  const ctx = {
    hf: (state.taxonomy.fields_of_action || []).map((e) => e.code),
    qt: (state.taxonomy.themes || []).map((e) => e.code),
    orgs: kind === 'measures' ? await organisations(true) : new Map(),
  };
  const parsed = rows.slice(1).map((cells, i) => {
    const get = (col) => {
      const idx = header.indexOf(col);
      return idx >= 0 && idx < cells.length ? cells[idx] : '';
    };
    const r = spec.fromRow(get, ctx);
    if (cells.length > header.length && cells.slice(header.length).some((c) => c.trim())) r.errors.push({ field: '', detail: t('import.err.extraCells') });
    return { line: i + 2, ...r, result: null };
  });
  const valid = parsed.filter((r) => !r.errors.length).length;
  const invalid = parsed.length - valid;

  const resultCells = new Map();
  const tbody = h('tbody', {}, parsed.map((r) => {
    const cell = h('td', { class: 'result' }, r.errors.length
      ? h('ul', { class: 'row-errors' }, r.errors.map((e) => h('li', {}, e.field ? h('code', {}, e.field) : null, e.field ? ': ' : '', e.detail)))
      : h('span', { class: 'badge status-active' }, t('transfer.rowOk')));
    resultCells.set(r, cell);
    return h('tr', { class: r.errors.length ? 'row-invalid' : 'row-valid', dataset: { line: String(r.line) } },
      h('th', { scope: 'row', class: 'num' }, String(r.line)),
      h('td', {}, r.label || h('span', { class: 'muted' }, t('common.empty'))),
      cell);
  }));

  const modeName = newId('m');
  const idOnly = newId('r');
  const idAll = newId('r');
  const confirmBtn = h('button', { type: 'button', class: 'btn primary', dataset: { action: 'confirm-import' } });
  const updateBtn = () => {
    const all = box.querySelector(`#${idAll}`).checked;
    confirmBtn.textContent = t('transfer.confirm', { count: all ? parsed.length : valid });
    confirmBtn.disabled = !(all ? parsed.length : valid);
  };
  const modeFs = h('fieldset', { class: 'field checks' },
    h('legend', {}, t('transfer.which')),
    h('div', { class: 'check-list' },
      h('div', { class: 'check' }, h('input', { type: 'radio', name: modeName, id: idOnly, value: 'valid', checked: true, onChange: updateBtn }), h('label', { for: idOnly }, t('transfer.onlyValid', { count: valid }))),
      h('div', { class: 'check' }, h('input', { type: 'radio', name: modeName, id: idAll, value: 'all', onChange: updateBtn }), h('label', { for: idAll }, t('transfer.allRows', { count: parsed.length })))));
  const progressLine = h('p', { class: 'import-progress' });
  const summaryId = newId('p');
  replace(box,
    h('section', { class: 'preview-section', 'aria-labelledby': summaryId, tabindex: '-1' },
      h('h3', { id: summaryId }, t('transfer.previewTitle')),
      h('p', { class: 'preview-summary', dataset: { valid: String(valid), invalid: String(invalid) } },
        t('transfer.previewSummary', { count: parsed.length, valid, invalid })),
      h('p', { class: 'muted' }, t('transfer.notYet')),
      unknown.length ? notice(t('transfer.unknownColumns', { columns: unknown.join(', ') }), 'warn') : null,
      tableWrap(t('transfer.previewCaption'), h('table', { class: 'data preview-table' },
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col', class: 'num' }, t('transfer.line')),
          h('th', { scope: 'col' }, kind === 'measures' ? t('fields.title') : t('fields.name')),
          h('th', { scope: 'col' }, t('transfer.check')))),
        tbody)),
      modeFs,
      h('div', { class: 'actions' }, confirmBtn, h('button', { type: 'button', class: 'btn', onClick: () => { replace(box); announce(t('transfer.cancelled')); } }, t('common.cancel'))),
      progressLine));
  updateBtn();
  box.firstChild.focus();
  announce(t('transfer.previewSummary', { count: parsed.length, valid, invalid }));

  confirmBtn.addEventListener('click', async () => {
    const all = box.querySelector(`#${idAll}`).checked;
    const todo = parsed.filter((r) => all || !r.errors.length);
    confirmBtn.disabled = true;
    box.querySelectorAll('input[type=radio]').forEach((r) => { r.disabled = true; });
    let ok = 0;
    let failed = 0;
    for (const [i, r] of todo.entries()) {
      progressLine.textContent = t('transfer.importing', { n: i + 1, total: todo.length });
      const cell = resultCells.get(r);
      try {
        const rec = await api.post(`/${kind}`, r.body);
        ok += 1;
        replace(cell, h('span', { class: 'badge status-completed' }, t('transfer.created')), ' ', h('a', { href: `#/${kind}/${rec.id}` }, rec.id));
      } catch (err) {
        failed += 1;
        replace(cell, h('span', { class: 'badge status-cancelled' }, t('transfer.rejected')),
          h('ul', { class: 'row-errors' }, (err.errors.length ? err.errors : [{ field: '', detail: errorText(err) }]).map((e) => h('li', {}, e.field ? h('code', {}, e.field) : null, e.field ? ': ' : '', e.detail))));
      }
    }
    if (kind === 'organisations') invalidateOrganisations();
    const skipped = parsed.length - todo.length;
    progressLine.textContent = t('transfer.done', { ok, failed, skipped });
    progressLine.dataset.ok = String(ok);
    progressLine.dataset.failed = String(failed);
    announce(progressLine.textContent, failed ? 'error' : 'success');
  });
}

