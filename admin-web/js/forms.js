// Form building blocks: labelled fields, field errors next to the field they name,
// and an error summary whose links move focus to the fields (GOV.UK pattern).

import { h, newId } from './dom.js';
import { t, serverDetail } from './i18n.js';

/**
 * A labelled single control.
 * opts: {field, label, type ('text'|'email'|'url'|'number'|'date'|'password'|'textarea'|'select'),
 *        value, required, hint, options: [{value, label}], attrs, autocomplete}
 * Returns the wrapper element; wrapper.control is the input.
 */
export function field(opts) {
  const id = opts.id || newId('f');
  const hintId = opts.hint ? `${id}-hint` : null;
  const type = opts.type || 'text';
  const common = {
    id,
    name: opts.name || opts.field,
    'aria-describedby': hintId,
    required: !!opts.required,
    'aria-required': opts.required ? 'true' : null,
    autocomplete: opts.autocomplete,
    ...(opts.attrs || {}),
  };
  let control;
  if (type === 'textarea') {
    control = h('textarea', { rows: opts.rows || 4, ...common });
    control.value = opts.value ?? '';
  } else if (type === 'select') {
    control = h(
      'select',
      common,
      (opts.options || []).map((o) => h('option', { value: o.value, selected: String(o.value) === String(opts.value ?? '') }, o.label)),
    );
    control.value = opts.value ?? '';
  } else {
    control = h('input', { type, ...common });
    control.value = opts.value ?? '';
  }
  const wrap = h(
    'div',
    { class: ['field', opts.class], dataset: { fieldWrap: opts.field || '', label: opts.label } },
    h('label', { for: id }, opts.label, opts.required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null),
    opts.hint ? h('p', { class: 'hint', id: hintId }, opts.hint) : null,
    control,
  );
  wrap.control = control;
  return wrap;
}

/**
 * A group of checkboxes in a fieldset. options: [{value, label, code}].
 * wrapper.values() returns the checked values in option order.
 */
export function checkboxGroup(opts) {
  const selected = new Set(opts.value || []);
  const gid = newId('g');
  const hintId = opts.hint ? `${gid}-hint` : null;
  const boxes = opts.options.map((o) => {
    const id = newId('c');
    const box = h('input', { type: 'checkbox', id, value: o.value, checked: selected.has(o.value), name: opts.field });
    return h('div', { class: 'check' }, box, h('label', { for: id }, o.code ? h('span', { class: 'code' }, o.code) : null, o.label));
  });
  const fs = h(
    'fieldset',
    {
      class: ['field', 'checks', opts.class],
      dataset: { fieldWrap: opts.field, label: opts.label },
      'aria-describedby': hintId,
      id: gid,
    },
    h('legend', {}, opts.label, opts.required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null),
    opts.hint ? h('p', { class: 'hint', id: hintId }, opts.hint) : null,
    h('div', { class: opts.scroll ? 'check-list scroll' : 'check-list' }, boxes),
  );
  fs.control = fs.querySelector('input');
  fs.values = () => [...fs.querySelectorAll('input[type=checkbox]')].filter((b) => b.checked).map((b) => b.value);
  return fs;
}

function wrapFor(root, fieldName) {
  let f = fieldName;
  while (f) {
    const w = root.querySelector(`[data-field-wrap="${CSS.escape(f)}"]`);
    if (w) return w;
    const m = /^(.*)(\[\d+\]|\.[^.[\]]+)$/.exec(f);
    if (!m) break;
    f = m[1];
  }
  return null;
}

function controlOf(wrap) {
  return wrap.control || wrap.querySelector('input, select, textarea, button');
}

/** Removes all field errors and the summary. */
export function clearErrors(root) {
  root.querySelectorAll('.field-error').forEach((e) => e.remove());
  root.querySelectorAll('[aria-invalid]').forEach((e) => {
    e.removeAttribute('aria-invalid');
    const ids = (e.getAttribute('aria-describedby') || '').split(' ').filter((x) => x && !x.endsWith('-err'));
    if (ids.length) e.setAttribute('aria-describedby', ids.join(' '));
    else e.removeAttribute('aria-describedby');
  });
  root.querySelectorAll('.has-error').forEach((e) => e.classList.remove('has-error'));
  root.querySelectorAll('.error-summary').forEach((e) => e.remove());
}

/**
 * Shows errors [{field, detail}] next to their fields and in a summary at the top of
 * `root` (a form). Details from the server are translated where the catalogue knows
 * them. Focuses the summary.
 */
export function showErrors(root, errors, { title } = {}) {
  clearErrors(root);
  const items = [];
  for (const e of errors) {
    const detail = serverDetail(e.detail || '');
    const wrap = e.field ? wrapFor(root, e.field) : null;
    if (wrap) {
      const control = controlOf(wrap);
      if (!control.id) control.id = newId('f');
      const errId = `${control.id}-err`;
      let p = wrap.querySelector(`:scope > .field-error[data-for="${CSS.escape(control.id)}"]`);
      const label = wrap.dataset.label || e.field;
      const extra = wrap.dataset.fieldWrap !== e.field ? ` (${e.field})` : '';
      if (!p) {
        p = h('p', { class: 'field-error', id: errId, dataset: { for: control.id } },
          h('span', { class: 'visually-hidden' }, t('form.errorPrefix')), '');
        const anchor = wrap.querySelector(':scope > label, :scope > legend');
        if (anchor && anchor.nextSibling) wrap.insertBefore(p, anchor.nextSibling);
        else wrap.appendChild(p);
      }
      p.appendChild(document.createTextNode(`${p.childNodes.length > 2 ? '; ' : ' '}${detail}${extra}`));
      wrap.classList.add('has-error');
      control.setAttribute('aria-invalid', 'true');
      const ids = new Set((control.getAttribute('aria-describedby') || '').split(' ').filter(Boolean));
      ids.add(errId);
      control.setAttribute('aria-describedby', [...ids].join(' '));
      items.push({ label, detail: detail + extra, target: control });
    } else {
      items.push({ label: e.field || '', detail, target: null });
    }
  }
  const summary = h(
    'div',
    { class: 'error-summary', role: 'alert', tabindex: '-1', 'aria-labelledby': 'error-summary-title' },
    h('h2', { id: 'error-summary-title' }, title || t('form.errorSummary', { count: items.length })),
    h(
      'ul',
      {},
      items.map((it) =>
        h(
          'li',
          {},
          it.target
            ? h(
                'a',
                {
                  href: `#${it.target.id}`,
                  onClick: (ev) => {
                    ev.preventDefault();
                    it.target.focus();
                    it.target.scrollIntoView({ block: 'center' });
                  },
                },
                `${it.label}: ${it.detail}`,
              )
            : it.label
              ? `${it.label}: ${it.detail}`
              : it.detail,
        ),
      ),
    ),
  );
  root.prepend(summary);
  summary.focus();
  return summary;
}

/** A visually separated group of fields. */
export function section(title, ...children) {
  const id = newId('s');
  return h('section', { class: 'form-section', 'aria-labelledby': id }, h('h2', { id }, title), children);
}

/** Parses a number input: '' → null, else Number (locale comma accepted). */
export function numberOrNull(v) {
  const s = String(v ?? '').trim().replace(',', '.');
  if (s === '') return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : s;
}

/** A modal confirmation using <dialog>. Resolves true/false. */
export function confirmDialog({ title, text, confirmLabel, danger }) {
  return new Promise((resolve) => {
    const tid = newId('d');
    const dlg = h(
      'dialog',
      { class: 'dialog', 'aria-labelledby': tid },
      h('h2', { id: tid }, title),
      text ? h('p', {}, text) : null,
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', class: danger ? 'btn danger' : 'btn primary', value: 'ok', onClick: () => dlg.close('ok') }, confirmLabel || t('common.ok')),
        h('button', { type: 'button', class: 'btn', value: 'cancel', onClick: () => dlg.close('cancel') }, t('common.cancel')),
      ),
    );
    const opener = document.activeElement;
    dlg.addEventListener('close', () => {
      dlg.remove();
      if (opener && opener.isConnected) opener.focus();
      resolve(dlg.returnValue === 'ok');
    });
    document.body.appendChild(dlg);
    dlg.showModal();
    dlg.querySelector('button.btn:last-child').focus();
  });
}

/** A modal with a form; fields built by build(form). Resolves with the FormData or null. */
export function formDialog({ title, submitLabel, build, onSubmit }) {
  return new Promise((resolve) => {
    const tid = newId('d');
    const form = h('form', { novalidate: true, class: 'stack' });
    const dlg = h('dialog', { class: 'dialog', 'aria-labelledby': tid }, h('h2', { id: tid }, title), form);
    build(form);
    form.appendChild(
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'submit', class: 'btn primary' }, submitLabel || t('common.save')),
        h('button', { type: 'button', class: 'btn', onClick: () => dlg.close('cancel') }, t('common.cancel')),
      ),
    );
    let done = false;
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const ok = await onSubmit(form);
      if (ok) {
        done = true;
        dlg.close('ok');
      }
    });
    const opener = document.activeElement;
    dlg.addEventListener('close', () => {
      dlg.remove();
      if (opener && opener.isConnected) opener.focus();
      resolve(done);
    });
    document.body.appendChild(dlg);
    dlg.showModal();
    const first = form.querySelector('input, select, textarea');
    if (first) first.focus();
  });
}
