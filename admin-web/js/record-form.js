// Saving a record: create (POST) or update (PATCH with If-Match, sending only the
// fields the user changed), showing validation errors next to the fields, and
// resolving a 412 conflict field by field ("keep mine" / "take theirs").

import { h, replace, same, newId } from './dom.js';
import * as api from './api.js';
import { t, formatDateTime } from './i18n.js';
import { showErrors, clearErrors } from './forms.js';
import { announce, navigate } from './state.js';
import { displayValue, fieldLabel, actorLabel, errorText } from './ui.js';

/**
 * opts: {
 *   kind: 'organisations' | 'measures' | 'progress',
 *   path: PATCH path when it is not /{kind}/{id} (e.g. '/settings'),
 *   createPath: path for POST (default `/${kind}`),
 *   form: the <form>, conflictBox: element for the conflict panel,
 *   original: the stored record or null (new), etag: its version,
 *   read(): the form's values as a record of editable fields,
 *   validate(values): client-side errors [{field, detail}],
 *   onSaved(record, created): after a successful write,
 * }
 */
export function attachSave(opts) {
  const { form } = opts;
  const ctx = { original: opts.original, etag: opts.etag };
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const btn = form.querySelector('button[type=submit]');
    clearErrors(form);
    replace(opts.conflictBox);
    const values = opts.read();
    const errors = opts.validate ? opts.validate(values) : [];
    if (errors.length) {
      showErrors(form, errors);
      return;
    }
    if (btn) btn.disabled = true;
    try {
      if (!ctx.original) {
        const rec = await api.post(opts.createPath || `/${opts.kind}`, values);
        announce(t('form.created'));
        await opts.onSaved(rec, true);
        return;
      }
      const changes = diff(values, ctx.original);
      if (!Object.keys(changes).length) {
        announce(t('form.noChanges'));
        return;
      }
      await save(opts, ctx, changes, values);
    } catch (err) {
      handleError(opts, ctx, err, values);
    } finally {
      if (btn) btn.disabled = false;
    }
  });
  return ctx;
}

/** The members of `values` that differ from `original`. */
export function diff(values, original) {
  const out = {};
  for (const [k, v] of Object.entries(values)) if (!same(v, original[k] ?? null)) out[k] = v;
  return out;
}

async function save(opts, ctx, changes, values) {
  const path = opts.path || `/${opts.kind}/${ctx.original.id}`;
  const r = await api.request('PATCH', path, { body: changes, ifMatch: ctx.etag });
  ctx.original = r.data;
  ctx.etag = r.data.version;
  announce(t('form.saved', { version: r.data.version }));
  await opts.onSaved(r.data, false, values);
}

function handleError(opts, ctx, err, values) {
  const { form } = opts;
  if (err.status === 412 && err.problem.current) {
    showConflict(opts, ctx, values, err.problem.current);
    return;
  }
  if (err.status === 422 || (err.status === 400 && err.errors.length)) {
    showErrors(form, err.errors.length ? err.errors : [{ field: null, detail: errorText(err) }]);
    announce(t('form.notSaved'), 'error');
    return;
  }
  showErrors(form, [{ field: null, detail: errorText(err) }], { title: t('form.notSaved') });
}

async function showConflict(opts, ctx, mine, current) {
  const base = ctx.original;
  const myChanges = diff(mine, base);
  // Fields both sides changed to different values need a choice; the rest merges.
  const conflicts = Object.keys(myChanges).filter((k) => !same(current[k] ?? null, mine[k]) && !same(current[k] ?? null, base[k] ?? null));
  const theirsOnly = Object.keys(mine).filter((k) => !(k in myChanges) && !same(current[k] ?? null, base[k] ?? null));
  const box = opts.conflictBox;
  const titleId = newId('c');
  const rows = conflicts.map((k) => {
    const name = `pick-${k}`;
    const idM = newId('r');
    const idT = newId('r');
    return h('tr', { dataset: { conflictField: k } },
      h('th', { scope: 'row' }, fieldLabel(k)),
      h('td', { class: 'mine' }, displayValue(mine[k], k)),
      h('td', { class: 'theirs' }, displayValue(current[k], k)),
      h('td', {},
        h('fieldset', { class: 'inline-radios' },
          h('legend', { class: 'visually-hidden' }, t('conflict.choiceFor', { field: fieldLabel(k) })),
          h('span', { class: 'radio' }, h('input', { type: 'radio', name, id: idM, value: 'mine', checked: true }), h('label', { for: idM }, t('conflict.keepMine'))),
          h('span', { class: 'radio' }, h('input', { type: 'radio', name, id: idT, value: 'theirs' }), h('label', { for: idT }, t('conflict.takeTheirs'))))));
  });
  const whoLine = h('p', { class: 'who' });
  const resolve = async (mode) => {
    const body = {};
    for (const k of Object.keys(myChanges)) {
      if (conflicts.includes(k)) {
        const pick = box.querySelector(`input[name="pick-${CSS.escape(k)}"]:checked`);
        if (mode === 'theirs' || (pick && pick.value === 'theirs')) continue;
      } else if (mode === 'theirs') continue;
      if (!same(current[k] ?? null, mine[k])) body[k] = mine[k];
    }
    ctx.original = current;
    ctx.etag = current.version;
    if (!Object.keys(body).length) {
      replace(box);
      announce(t('conflict.tookTheirs'));
      await opts.onSaved(current, false);
      return;
    }
    try {
      await save(opts, ctx, body, { ...mine });
      replace(box);
    } catch (err) {
      handleError(opts, ctx, err, mine);
    }
  };
  replace(box,
    h('section', { class: 'conflict', 'aria-labelledby': titleId, tabindex: '-1' },
      h('h2', { id: titleId }, t('conflict.title')),
      h('p', {}, t('conflict.intro', { mine: base.version, theirs: current.version })),
      whoLine,
      conflicts.length
        ? h('div', { class: 'table-wrap', role: 'region', tabindex: '0', 'aria-labelledby': titleId },
            h('table', { class: 'data' },
              h('thead', {}, h('tr', {},
                h('th', { scope: 'col' }, t('conflict.field')),
                h('th', { scope: 'col' }, t('conflict.mine')),
                h('th', { scope: 'col' }, t('conflict.theirs', { version: current.version })),
                h('th', { scope: 'col' }, t('conflict.choice')))),
              h('tbody', {}, rows)))
        : h('p', {}, t('conflict.noOverlap')),
      theirsOnly.length ? h('p', { class: 'muted' }, t('conflict.theirsOnly', { fields: theirsOnly.map(fieldLabel).join(', ') })) : null,
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'btn primary', dataset: { action: 'resolve' }, onClick: () => resolve('pick') }, conflicts.length ? t('conflict.saveChoice') : t('conflict.saveMine')),
        h('button', { type: 'button', class: 'btn', dataset: { action: 'take-theirs' }, onClick: () => resolve('theirs') }, t('conflict.discardMine')))));
  const sec = box.firstChild;
  sec.focus();
  sec.scrollIntoView({ block: 'start' });
  announce(t('conflict.title'), 'error');
  // Who changed it, from the history (actor is shown to logged-in users).
  if (opts.path) return; // no history for this resource
  try {
    const hist = await api.get(`/${opts.kind}/${current.id}/history`);
    const last = hist.history[hist.history.length - 1];
    if (last) whoLine.textContent = t('conflict.who', { name: actorLabel(last.actor), at: formatDateTime(last.at) });
  } catch (_) {
    /* optional */
  }
}

/** Deletes a record after confirmation; returns true when deleted. */
export async function deleteRecord(kind, rec, etag) {
  try {
    await api.del(`/${kind}/${rec.id}`, null, etag);
    announce(t('form.deleted'));
    return true;
  } catch (err) {
    announce(errorText(err), 'error');
    if (err.status === 412) announce(t('conflict.deleteStale'), 'error');
    return false;
  }
}

export { navigate };
