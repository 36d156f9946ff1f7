// Own account: name and role, what the role may do, change password.

import { h, replace } from '../dom.js';
import * as api from '../api.js';
import { t } from '../i18n.js';
import { field, showErrors, clearErrors } from '../forms.js';
import { pageHeader, errorText } from '../ui.js';
import { state, announce, navigate, roleLabel, ALL_ROLES } from '../state.js';

export async function render(main) {
  const s = state.session;
  const w = {
    old_password: field({ field: 'old_password', label: t('account.oldPassword'), type: 'password', autocomplete: 'current-password', required: true }),
    new_password: field({ field: 'new_password', label: t('account.newPassword'), type: 'password', autocomplete: 'new-password', required: true, hint: t('account.passwordRule') }),
    repeat: field({ field: 'repeat', label: t('account.repeatPassword'), type: 'password', autocomplete: 'new-password', required: true }),
  };
  const form = h('form', { class: 'record-form card narrow', novalidate: true, 'aria-labelledby': 'pw-title' },
    h('h2', { id: 'pw-title' }, t('account.changePassword')),
    h('p', { class: 'muted' }, t('account.changeNote')),
    w.old_password, w.new_password, w.repeat,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn primary' }, t('account.submit'))));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const oldPw = w.old_password.control.value;
    const newPw = w.new_password.control.value;
    const errors = [];
    if (!oldPw) errors.push({ field: 'old_password', detail: t('form.required') });
    if (newPw.length < 10) errors.push({ field: 'new_password', detail: t('account.tooShort') });
    if (newPw !== w.repeat.control.value) errors.push({ field: 'repeat', detail: t('account.mismatch') });
    if (errors.length) {
      showErrors(form, errors);
      return;
    }
    try {
      await api.post('/session/password', { old_password: oldPw, new_password: newPw });
      api.setCsrf(null);
      state.session = { authenticated: false };
      announce(t('account.changed'));
      navigate('#/login');
    } catch (err) {
      if (err.status === 422 && err.problem.errors) {
        showErrors(form, err.errors.map((e) => ({
          field: e.field,
          detail: e.field === 'old_password' ? t('account.oldWrong') : e.detail || err.problem.detail,
        })));
      } else {
        showErrors(form, [{ field: null, detail: errorText(err) }]);
      }
    }
  });

  const rank = api.ROLE_RANK[s.role];
  replace(main,
    pageHeader(t('account.title')),
    h('div', { class: 'grid-2' },
      h('section', { class: 'panel', 'aria-labelledby': 'acc-who' },
        h('h2', { id: 'acc-who' }, t('account.who')),
        h('dl', { class: 'kv' },
          h('dt', {}, t('account.name')), h('dd', { dataset: { me: 'name' } }, s.name),
          h('dt', {}, t('account.role')), h('dd', { dataset: { me: 'role' } }, roleLabel(s.role))),
        h('h3', {}, t('account.mayDo')),
        h('ul', {}, ALL_ROLES.filter((r) => api.ROLE_RANK[r] <= rank).map((r) => h('li', {}, t(`account.rights.${r}`))))),
      form));
}
