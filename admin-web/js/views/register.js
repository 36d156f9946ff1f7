// Registration (no account needed): a member of the public asks for a participant
// account to take part in discussions. The account waits for a moderator's approval.

import { h, replace } from '../dom.js';
import * as api from '../api.js';
import { t } from '../i18n.js';
import { field, showErrors, clearErrors } from '../forms.js';
import { pageHeader, errorText } from '../ui.js';
import { state, announce } from '../state.js';

const NAME_RE = /^[A-Za-z0-9._@-]{2,64}$/;

export async function render(main) {
  const w = {
    name: field({ field: 'name', label: t('register.name'), required: true, hint: t('register.nameHint'), autocomplete: 'username', attrs: { maxlength: 64, spellcheck: 'false' } }),
    display_name: field({ field: 'display_name', label: t('register.displayName'), required: true, hint: t('register.displayNameHint'), autocomplete: 'nickname', attrs: { maxlength: 80 } }),
    password: field({ field: 'password', label: t('register.password'), type: 'password', required: true, hint: t('account.passwordRule'), autocomplete: 'new-password' }),
    repeat: field({ field: 'repeat', label: t('register.repeat'), type: 'password', required: true, autocomplete: 'new-password' }),
  };
  const accId = 'register-accept';
  const accept = h('input', { type: 'checkbox', id: accId, name: 'accept', required: true, 'aria-required': 'true' });
  const acceptWrap = h('div', { class: 'field check accept', dataset: { fieldWrap: 'accept', label: t('register.acceptLabel') } },
    accept,
    h('label', { for: accId }, t('register.acceptBefore'), ' ',
      h('a', { href: '/netiquette', target: '_blank', rel: 'noopener' }, t('register.netiquette'),
        h('span', { class: 'visually-hidden' }, ` ${t('common.newWindow')}`)),
      ' ', t('register.acceptAfter')));
  acceptWrap.control = accept;
  const submit = h('button', { type: 'submit', class: 'btn primary' }, t('register.submit'));
  const form = h('form', { class: 'stack card narrow', novalidate: true, 'aria-labelledby': 'page-title' },
    h('p', { class: 'muted small' }, t('form.requiredNote')),
    w.name, w.display_name, w.password, w.repeat, acceptWrap,
    h('div', { class: 'actions' }, submit));

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const body = {
      name: w.name.control.value.trim(),
      display_name: w.display_name.control.value.trim(),
      password: w.password.control.value,
    };
    const errors = [];
    if (!NAME_RE.test(body.name)) errors.push({ field: 'name', detail: t('users.nameRule') });
    if (!body.display_name) errors.push({ field: 'display_name', detail: t('form.required') });
    if (body.password.length < 10) errors.push({ field: 'password', detail: t('account.tooShort') });
    if (body.password !== w.repeat.control.value) errors.push({ field: 'repeat', detail: t('account.mismatch') });
    if (!accept.checked) errors.push({ field: 'accept', detail: t('register.mustAccept') });
    if (errors.length) {
      showErrors(form, errors);
      return;
    }
    submit.disabled = true;
    try {
      await api.post('/register', body);
      done(main, body.name);
    } catch (err) {
      let list;
      if (err.status === 409 || err.type === 'exists') list = [{ field: 'name', detail: t('register.taken') }];
      else if (err.status === 429) list = [{ field: null, detail: t('register.throttled') }];
      else if (err.errors.length) list = err.errors.map((e) => ({ field: e.field, detail: e.detail || err.message }));
      else list = [{ field: null, detail: errorText(err) }];
      showErrors(form, list, { title: t('register.failedTitle') });
    } finally {
      submit.disabled = false;
    }
  });

  replace(main,
    h('div', { class: 'login-page' },
      pageHeader(t('register.title'), { intro: state.node ? t('register.intro', { node: state.node.name }) : t('register.introPlain') }),
      form,
      h('p', {}, h('a', { href: '#/login' }, t('register.haveAccount')))));
  w.name.control.focus();
}

function done(main, name) {
  replace(main,
    h('div', { class: 'login-page' },
      pageHeader(t('register.doneTitle')),
      h('div', { class: 'notice success', role: 'status', dataset: { registered: name } },
        h('p', {}, h('strong', {}, t('register.awaiting'))),
        h('p', {}, t('register.doneText', { name }))),
      h('p', {}, h('a', { href: '#/login', class: 'btn' }, t('register.toLogin')))));
  const title = document.getElementById('page-title');
  if (title) title.focus();
  announce(t('register.awaiting'), 'success');
}
