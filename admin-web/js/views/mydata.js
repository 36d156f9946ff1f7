// "Meine Daten": download everything the node stores about the logged-in account
// (GET /api/v1/me/export) and delete the account (DELETE /api/v1/me with the
// password as confirmation).

import { h, replace } from '../dom.js';
import * as api from '../api.js';
import { t } from '../i18n.js';
import { field, showErrors, clearErrors, confirmDialog } from '../forms.js';
import { pageHeader, errorText } from '../ui.js';
import { state, announce, navigate } from '../state.js';

async function download() {
  const r = await api.request('GET', '/me/export');
  const json = JSON.stringify(r.data, null, 2);
  const blob = new Blob([json], { type: 'application/json' });
  const url = URL.createObjectURL(blob);
  const day = new Date().toISOString().slice(0, 10);
  const a = h('a', { href: url, download: `dinet-${state.session.name}-${day}.json`, hidden: true }, 'download');
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export async function render(main) {
  const exportBtn = h('button', { type: 'button', class: 'btn primary', dataset: { action: 'export' } }, t('mydata.exportButton'));
  exportBtn.addEventListener('click', async () => {
    exportBtn.disabled = true;
    try {
      await download();
      announce(t('mydata.exported'), 'success');
    } catch (err) {
      announce(errorText(err), 'error');
    } finally {
      exportBtn.disabled = false;
    }
  });

  const pw = field({ field: 'password', label: t('mydata.password'), type: 'password', required: true, autocomplete: 'current-password', hint: t('mydata.passwordHint') });
  const submit = h('button', { type: 'submit', class: 'btn danger' }, t('mydata.deleteButton'));
  const form = h('form', { class: 'stack', novalidate: true, 'aria-labelledby': 'delete-title' }, pw, h('div', { class: 'actions' }, submit));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const password = pw.control.value;
    if (!password) {
      showErrors(form, [{ field: 'password', detail: t('form.required') }]);
      return;
    }
    if (!(await confirmDialog({ title: t('mydata.confirmTitle'), text: t('mydata.confirmText'), confirmLabel: t('mydata.deleteButton'), danger: true }))) return;
    submit.disabled = true;
    try {
      await api.request('DELETE', '/me', { body: { password } });
      api.setCsrf(null);
      state.session = { authenticated: false };
      announce(t('mydata.deleted'), 'success');
      navigate('#/login');
    } catch (err) {
      const wrong = err.status === 403 || err.status === 401 || (err.status === 422 && err.errors.some((e) => e.field === 'password'));
      showErrors(form, [{ field: 'password', detail: wrong ? t('mydata.wrongPassword') : errorText(err) }]);
    } finally {
      submit.disabled = false;
    }
  });

  replace(main,
    pageHeader(t('mydata.title'), { intro: t('mydata.intro') }),
    h('div', { class: 'grid-2' },
      h('section', { class: 'panel', 'aria-labelledby': 'export-title' },
        h('h2', { id: 'export-title' }, t('mydata.exportTitle')),
        h('p', {}, t('mydata.exportText')),
        h('div', { class: 'actions' }, exportBtn)),
      h('section', { class: 'panel danger-zone', 'aria-labelledby': 'delete-title' },
        h('h2', { id: 'delete-title' }, t('mydata.deleteTitle')),
        h('div', { class: 'notice warn' },
          h('p', {}, h('strong', {}, t('mydata.warningStrong')), ' ', t('mydata.warning'))),
        form)));
}
