// Node settings (admin): name, contact, and the texts for Impressum,
// Datenschutzerklärung and Erklärung zur Barrierefreiheit.
//
// Built against the proposed endpoint GET/PATCH /api/v1/settings (see
// admin-web/README.md). When the node does not have it yet, the page says so.

import { h, replace } from '../dom.js';
import * as api from '../api.js';
import { t, formatDateTime } from '../i18n.js';
import { field, section, numberOrNull } from '../forms.js';
import { pageHeader, notice, errorBox } from '../ui.js';
import { navigate, state } from '../state.js';
import { attachSave } from '../record-form.js';

const TEXTS = ['impressum', 'privacy', 'accessibility'];
const TEXT_LANGS = ['de', 'en'];
// Discussion moderation (protocol-docs/discussion.md): member names in
// settings.moderation and their kind.
const MODERATION = [
  ['participants', 'mode'],
  ['remote', 'mode'],
  ['auto_hide_reports', 'number', 1, 100],
  ['rate_per_hour', 'number', 1, 1000],
];
const MODES = ['pre', 'post'];
// The node's defaults while nothing is stored (discussion.md).
const MODERATION_DEFAULTS = { participants: 'pre', remote: 'pre', auto_hide_reports: 3, rate_per_hour: 10 };

/** Whether the node has discussions (its moderation queue answers). */
async function hasDiscussions() {
  try {
    await api.get('/moderation/queue', { state: 'hidden' });
    return true;
  } catch (_) {
    return false;
  }
}

export async function render(main) {
  let rec = null;
  let etag = null;
  let missing = false;
  try {
    const r = await api.request('GET', '/settings');
    rec = r.data;
    etag = r.etag || rec.version;
  } catch (err) {
    if (err.status !== 404) {
      replace(main, pageHeader(t('settings.title')), errorBox(err));
      return;
    }
    missing = true;
    rec = { name: state.node ? state.node.name : '', contact: {}, texts: {}, version: 0 };
  }
  const contact = rec.contact || {};
  const texts = rec.texts || {};
  // Nodes with discussions have settings.moderation (and the netiquette text).
  let moderation = rec.moderation && typeof rec.moderation === 'object' ? rec.moderation : null;
  if (!moderation && !missing && (await hasDiscussions())) moderation = { ...MODERATION_DEFAULTS };
  const textKeys = moderation || (texts.netiquette !== undefined) ? [...TEXTS, 'netiquette'] : TEXTS;
  const w = {
    name: field({ field: 'name', label: t('settings.name'), value: rec.name || '', required: true, attrs: { maxlength: 200 } }),
    'contact.email': field({ field: 'contact.email', label: t('fields.contact.email'), type: 'email', value: contact.email || '', autocomplete: 'email' }),
    'contact.phone': field({ field: 'contact.phone', label: t('fields.contact.phone'), type: 'tel', value: contact.phone || '', autocomplete: 'tel' }),
    'contact.address': field({ field: 'contact.address', label: t('settings.postalAddress'), type: 'textarea', rows: 3, value: contact.address || '' }),
  };
  const textSections = textKeys.map((k) => {
    const parts = TEXT_LANGS.map((lang) => {
      const f = field({
        field: `texts.${k}.${lang}`, label: t('settings.textIn', { text: t(`settings.texts.${k}`), lang: t(`settings.langs.${lang}`) }),
        type: 'textarea', rows: lang === 'de' ? 10 : 6, value: (texts[k] || {})[lang] || '', attrs: { lang, class: 'wide' },
      });
      w[`texts.${k}.${lang}`] = f;
      return f;
    });
    return section(t(`settings.texts.${k}`), h('p', { class: 'hint' }, t(`settings.hints.${k}`)), parts);
  });
  let moderationSection = null;
  if (moderation) {
    for (const [k, kind, min, max] of MODERATION) {
      const v = moderation[k];
      w[`moderation.${k}`] = kind === 'mode'
        ? field({ field: `moderation.${k}`, label: t(`settings.moderation.${k}`), type: 'select', value: v || 'pre', hint: t(`settings.moderation.${k}Hint`),
            options: MODES.map((m) => ({ value: m, label: t(`settings.moderation.modes.${m}`) })) })
        : field({ field: `moderation.${k}`, label: t(`settings.moderation.${k}`), type: 'number', value: v ?? '', hint: t(`settings.moderation.${k}Hint`),
            attrs: { min, max, step: 1, inputmode: 'numeric', class: 'short' } });
    }
    moderationSection = section(t('settings.moderation.title'),
      h('p', { class: 'hint' }, t('settings.moderation.intro')),
      h('div', { class: 'row' }, w['moderation.participants'], w['moderation.remote']),
      h('div', { class: 'row' }, w['moderation.auto_hide_reports'], w['moderation.rate_per_hour']));
  }
  const read = () => {
    const c = {};
    for (const k of ['email', 'phone', 'address']) {
      const v = w[`contact.${k}`].control.value.trim();
      if (v) c[k] = v;
    }
    const tx = {};
    for (const k of textKeys) {
      tx[k] = {};
      for (const lang of TEXT_LANGS) {
        const v = w[`texts.${k}.${lang}`].control.value;
        if (v.trim()) tx[k][lang] = v;
      }
    }
    const out = { name: w.name.control.value.trim(), contact: c, texts: tx };
    if (moderation) {
      const m = { ...moderation };
      for (const [k, kind] of MODERATION) {
        const v = w[`moderation.${k}`].control.value.trim();
        m[k] = kind === 'mode' ? v : numberOrNull(v);
      }
      out.moderation = m;
    }
    return out;
  };
  const conflictBox = h('div', { class: 'conflict-box' });
  const submit = h('button', { type: 'submit', class: 'btn primary', disabled: missing }, t('form.save'));
  const form = h('form', { class: 'record-form', novalidate: true, 'aria-labelledby': 'page-title' },
    section(t('settings.sectionNode'), w.name, h('div', { class: 'row' }, w['contact.email'], w['contact.phone']), w['contact.address']),
    moderationSection,
    textSections,
    h('div', { class: 'actions sticky' }, submit));
  const original = { name: rec.name || '', contact, texts: normaliseTexts(texts, textKeys), id: 'settings', version: rec.version };
  if (moderation) original.moderation = moderation;
  attachSave({
    kind: 'settings', path: '/settings', form, conflictBox, original: missing ? null : original, etag,
    read,
    validate: (v) => {
      const errors = v.name ? [] : [{ field: 'name', detail: t('form.required') }];
      if (v.moderation) {
        for (const [k, kind, min, max] of MODERATION) {
          const x = v.moderation[k];
          if (kind === 'number' && !(Number.isInteger(x) && x >= min && x <= max)) errors.push({ field: `moderation.${k}`, detail: t('settings.moderation.wholeNumber', { min, max }) });
        }
      }
      return errors;
    },
    onSaved: async () => navigate('#/settings'),
  });
  replace(main,
    pageHeader(t('settings.title'), {
      intro: t('settings.intro'),
      crumbs: null,
    }),
    missing ? notice(t('settings.missing'), 'warn') : (rec.updated ? h('p', { class: 'muted' }, t('form.versionLine', { version: rec.version, updated: formatDateTime(rec.updated) })) : null),
    conflictBox,
    form);
}

function normaliseTexts(texts, keys) {
  const out = {};
  for (const k of keys) {
    out[k] = {};
    for (const lang of TEXT_LANGS) if (texts[k] && texts[k][lang] && texts[k][lang].trim()) out[k][lang] = texts[k][lang];
  }
  return out;
}
