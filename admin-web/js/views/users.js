// Users (admin): create, set role, disable/enable, reset password.

import { h, replace } from '../dom.js';
import * as api from '../api.js';
import { t, formatDateTime } from '../i18n.js';
import { field, showErrors, clearErrors, formDialog, confirmDialog } from '../forms.js';
import { pageHeader, tableWrap, errorText } from '../ui.js';
import { announce, navigate, state, roleLabel, ROLES, ALL_ROLES } from '../state.js';

function apiErrors(err, fallbackField) {
  if (err.errors.length) return err.errors.map((e) => ({ field: e.field, detail: e.detail || err.problem.detail || err.message }));
  return [{ field: fallbackField, detail: errorText(err) }];
}

export async function render(main) {
  const users = (await api.get('/users')).items;
  const me = state.session.name;

  const rows = users.map((u) => {
    const roleOptions = u.role === 'participant' ? ALL_ROLES : ROLES;
    const roleSel = field({ field: `role-${u.name}`, label: t('users.roleFor', { name: u.name }), type: 'select', value: u.role, options: roleOptions.map((r) => ({ value: r, label: roleLabel(r) })), class: 'compact-field' });
    roleSel.querySelector('label').classList.add('visually-hidden');
    roleSel.control.addEventListener('change', async () => {
      try {
        await api.patch(`/users/${encodeURIComponent(u.name)}`, { role: roleSel.control.value });
        announce(t('users.roleChanged', { name: u.name, role: roleLabel(roleSel.control.value) }));
      } catch (err) {
        roleSel.control.value = u.role;
        announce(errorText(err), 'error');
      }
    });
    if (u.name === me) roleSel.control.disabled = true;
    return h('tr', { dataset: { user: u.name } },
      h('th', { scope: 'row' }, u.name, u.name === me ? h('span', { class: 'muted' }, ` (${t('users.you')})`) : null),
      h('td', {}, roleSel),
      h('td', {}, u.disabled ? h('span', { class: 'badge status-cancelled' }, t('users.disabled'))
        : u.approved === false ? h('span', { class: 'badge fed-pending' }, t('users.awaitingApproval'))
          : h('span', { class: 'badge status-active' }, t('users.active')),
        u.role === 'participant' && u.approved !== false ? trustedToggle(u) : null),
      h('td', {}, formatDateTime(u.created)),
      h('td', {}, h('div', { class: 'row-actions' },
        u.name === me ? null : h('button', {
          type: 'button', class: 'btn small',
          onClick: async () => {
            const disable = !u.disabled;
            if (disable && !(await confirmDialog({ title: t('users.disableTitle', { name: u.name }), text: t('users.disableText'), confirmLabel: t('users.disable') }))) return;
            try {
              await api.patch(`/users/${encodeURIComponent(u.name)}`, { disabled: disable });
              announce(disable ? t('users.disabledMsg', { name: u.name }) : t('users.enabledMsg', { name: u.name }));
              navigate('#/users');
            } catch (err) {
              announce(errorText(err), 'error');
            }
          },
        }, u.disabled ? t('users.enableN', { name: u.name }) : t('users.disableN', { name: u.name })),
        h('button', {
          type: 'button', class: 'btn small',
          onClick: () => formDialog({
            title: t('users.resetTitle', { name: u.name }),
            submitLabel: t('users.resetSubmit'),
            build: (form) => {
              form.appendChild(h('p', {}, t('users.resetText')));
              form.appendChild(field({ field: 'password', label: t('users.newPassword'), type: 'password', autocomplete: 'new-password', required: true, hint: t('account.passwordRule') }));
            },
            onSubmit: async (form) => {
              clearErrors(form);
              const pw = form.querySelector('input[name=password]').value;
              if (pw.length < 10) {
                showErrors(form, [{ field: 'password', detail: t('account.tooShort') }]);
                return false;
              }
              try {
                await api.patch(`/users/${encodeURIComponent(u.name)}`, { password: pw });
                announce(t('users.resetDone', { name: u.name }));
                return true;
              } catch (err) {
                showErrors(form, apiErrors(err, 'password'));
                return false;
              }
            },
          }),
        }, t('users.resetN', { name: u.name })))));
  });

  const w = {
    name: field({ field: 'name', label: t('users.name'), required: true, hint: t('users.nameHint'), autocomplete: 'off' }),
    role: field({ field: 'role', label: t('users.role'), type: 'select', value: 'editor', options: ROLES.map((r) => ({ value: r, label: roleLabel(r) })) }),
    password: field({ field: 'password', label: t('users.initialPassword'), type: 'password', required: true, hint: t('account.passwordRule'), autocomplete: 'new-password' }),
  };
  const form = h('form', { class: 'record-form card', novalidate: true, 'aria-labelledby': 'user-add-title' },
    h('h2', { id: 'user-add-title' }, t('users.add')),
    h('div', { class: 'row' }, w.name, w.role), w.password,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn primary' }, t('users.create'))));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const body = { name: w.name.control.value.trim(), role: w.role.control.value, password: w.password.control.value };
    const errors = [];
    if (!/^[A-Za-z0-9._@-]{2,64}$/.test(body.name)) errors.push({ field: 'name', detail: t('users.nameRule') });
    if (body.password.length < 10) errors.push({ field: 'password', detail: t('account.tooShort') });
    if (errors.length) {
      showErrors(form, errors);
      return;
    }
    try {
      await api.post('/users', body);
      announce(t('users.created', { name: body.name }));
      navigate('#/users');
    } catch (err) {
      showErrors(form, apiErrors(err, 'name'));
    }
  });

  replace(main,
    pageHeader(t('users.title'), { intro: t('users.intro') }),
    tableWrap(t('users.caption'), h('table', { class: 'data' },
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, t('users.name')),
        h('th', { scope: 'col' }, t('users.role')),
        h('th', { scope: 'col' }, t('users.status')),
        h('th', { scope: 'col' }, t('fields.created')),
        h('th', { scope: 'col' }, t('common.actions')))),
      h('tbody', {}, rows))),
    form);
}

/** Trusted participants write without pre-moderation (their comments appear at once). */
export function trustedToggle(u) {
  const id = `trusted-${u.name.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  const box = h('input', { type: 'checkbox', id, checked: !!u.trusted, dataset: { trusted: u.name } });
  box.addEventListener('change', async () => {
    const trusted = box.checked;
    box.disabled = true;
    try {
      await setTrusted(u.name, trusted);
      u.trusted = trusted;
      announce(trusted ? t('users.trustedOn', { name: u.name }) : t('users.trustedOff', { name: u.name }));
    } catch (err) {
      box.checked = !trusted;
      announce(errorText(err), 'error');
    } finally {
      box.disabled = false;
    }
  });
  return h('div', { class: 'check trusted' }, box, h('label', { for: id }, t('users.trusted'), h('span', { class: 'visually-hidden' }, ` (${u.name})`)));
}

async function setTrusted(name, trusted) {
  // protocol-docs/discussion.md: POST /api/v1/users/{name}/trust {trusted} (moderator+).
  await api.post(`/users/${encodeURIComponent(name)}/trust`, { trusted });
}
