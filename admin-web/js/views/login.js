import { h, replace } from '../dom.js';
import * as api from '../api.js';
import { t } from '../i18n.js';
import { field, showErrors, clearErrors } from '../forms.js';
import { pageHeader, errorText } from '../ui.js';
import { state } from '../state.js';

export async function render(main, { onLogin }) {
  const name = field({ field: 'name', label: t('login.name'), autocomplete: 'username', required: true });
  const password = field({ field: 'password', label: t('login.password'), type: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { type: 'submit', class: 'btn primary' }, t('login.submit'));
  const form = h('form', { class: 'stack card narrow', novalidate: true, 'aria-labelledby': 'page-title' }, name, password, h('div', { class: 'actions' }, submit));

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const errors = [];
    if (!name.control.value.trim()) errors.push({ field: 'name', detail: t('form.required') });
    if (!password.control.value) errors.push({ field: 'password', detail: t('form.required') });
    if (errors.length) {
      showErrors(form, errors);
      return;
    }
    submit.disabled = true;
    try {
      const s = await api.login(name.control.value.trim(), password.control.value);
      password.control.value = '';
      await onLogin(s);
    } catch (err) {
      let msg;
      if (err.type === 'login-failed') msg = t('login.failed');
      else if (err.type === 'throttled') msg = t('login.throttled', { seconds: err.retryAfter || 900 });
      else if (err.status === 403) msg = t('login.awaitingApproval');
      else msg = errorText(err);
      showErrors(form, [{ field: err.type === 'login-failed' ? 'password' : null, detail: msg }], { title: t('login.failedTitle') });
    } finally {
      submit.disabled = false;
    }
  });

  replace(
    main,
    h('div', { class: 'login-page' },
      pageHeader(t('login.title'), { intro: state.node ? t('login.intro', { node: state.node.name }) : null }),
      form,
      h('p', { class: 'muted small' }, t('login.help')),
      h('p', { class: 'register-hint' }, t('login.noAccount'), ' ', h('a', { href: '#/register', dataset: { action: 'register' } }, t('login.register')))),
  );
  name.control.focus();
}
