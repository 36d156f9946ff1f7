// API tokens (admin): create (the token is shown once), revoke.

import { h, replace } from '../dom.js';
import * as api from '../api.js';
import { t, formatDateTime } from '../i18n.js';
import { field, showErrors, clearErrors, confirmDialog } from '../forms.js';
import { pageHeader, tableWrap, errorText } from '../ui.js';
import { announce, navigate, roleLabel, ROLES } from '../state.js';

let justCreated = null; // {name, token}: shown once after creation, then forgotten

export async function render(main) {
  const tokens = (await api.get('/tokens')).items;
  const shown = justCreated;
  justCreated = null;

  const w = {
    name: field({ field: 'name', label: t('tokens.name'), required: true, hint: t('tokens.nameHint'), autocomplete: 'off' }),
    role: field({ field: 'role', label: t('tokens.role'), type: 'select', value: 'editor', options: ROLES.map((r) => ({ value: r, label: roleLabel(r) })) }),
  };
  const form = h('form', { class: 'record-form card', novalidate: true, 'aria-labelledby': 'token-add-title' },
    h('h2', { id: 'token-add-title' }, t('tokens.add')),
    h('div', { class: 'row' }, w.name, w.role),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn primary' }, t('tokens.create'))));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const body = { name: w.name.control.value.trim(), role: w.role.control.value };
    if (!body.name) {
      showErrors(form, [{ field: 'name', detail: t('form.required') }]);
      return;
    }
    try {
      const r = await api.post('/tokens', body);
      justCreated = { name: r.name, token: r.token };
      navigate('#/tokens');
    } catch (err) {
      showErrors(form, err.errors.length ? err.errors.map((e) => ({ field: e.field, detail: e.detail || err.message })) : [{ field: 'name', detail: errorText(err) }]);
    }
  });

  let once = null;
  if (shown) {
    const tokId = 'new-token-value';
    const copyBtn = h('button', {
      type: 'button', class: 'btn small',
      onClick: async () => {
        try {
          await navigator.clipboard.writeText(shown.token);
          announce(t('tokens.copied'));
        } catch (_) {
          document.getElementById(tokId).select();
          announce(t('tokens.copyManually'));
        }
      },
    }, t('tokens.copy'));
    once = h('section', { class: 'notice success token-once', 'aria-labelledby': 'token-once-title', tabindex: '-1' },
      h('h2', { id: 'token-once-title' }, t('tokens.createdTitle', { name: shown.name })),
      h('p', {}, t('tokens.onceWarning')),
      h('div', { class: 'token-row' },
        h('label', { for: tokId, class: 'visually-hidden' }, t('tokens.value')),
        h('input', { id: tokId, type: 'text', readonly: true, value: shown.token, class: 'mono', size: 72, spellcheck: 'false', dataset: { token: '1' } }),
        copyBtn));
  }

  replace(main,
    pageHeader(t('tokens.title'), { intro: t('tokens.intro') }),
    once,
    tableWrap(t('tokens.caption'), h('table', { class: 'data' },
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, t('tokens.name')),
        h('th', { scope: 'col' }, t('tokens.role')),
        h('th', { scope: 'col' }, t('fields.created')),
        h('th', { scope: 'col' }, t('tokens.state')),
        h('th', { scope: 'col' }, t('common.actions')))),
      h('tbody', {}, tokens.length ? tokens.map((tk) => h('tr', { dataset: { token: tk.name } },
        h('th', { scope: 'row' }, tk.name),
        h('td', {}, roleLabel(tk.role)),
        h('td', {}, formatDateTime(tk.created)),
        h('td', {}, tk.revoked ? t('tokens.revokedAt', { at: formatDateTime(tk.revoked) }) : h('span', { class: 'badge status-active' }, t('tokens.valid'))),
        h('td', {}, tk.revoked ? null : h('button', {
          type: 'button', class: 'btn small danger',
          onClick: async () => {
            if (!(await confirmDialog({ title: t('tokens.revokeTitle', { name: tk.name }), text: t('tokens.revokeText'), confirmLabel: t('tokens.revoke'), danger: true }))) return;
            try {
              await api.del(`/tokens/${encodeURIComponent(tk.name)}`);
              announce(t('tokens.revoked', { name: tk.name }));
              navigate('#/tokens');
            } catch (err) {
              announce(errorText(err), 'error');
            }
          },
        }, t('tokens.revokeN', { name: tk.name })))))
        : h('tr', {}, h('td', { colspan: '5' }, t('tokens.none')))))),
    form);
  if (once) setTimeout(() => once.focus(), 50);
}
