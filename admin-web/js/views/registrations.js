// Registrations (moderator+): accounts people asked for on #/register wait here
// until a moderator approves (the person can then log in) or rejects them.

import { h, replace } from '../dom.js';
import * as api from '../api.js';
import { t, formatDateTime } from '../i18n.js';
import { confirmDialog } from '../forms.js';
import { pageHeader, tableWrap, errorText } from '../ui.js';
import { announce } from '../state.js';
import { trustedToggle } from './users.js';

export async function render(main) {
  const res = await api.get('/registrations');
  const items = Array.isArray(res) ? res : res.items || [];
  const tbody = h('tbody');
  const emptyRow = () => h('tr', {}, h('td', { colspan: '4' }, t('registrations.none')));

  const handled = (tr, message) => {
    const next = tr.nextElementSibling || tr.previousElementSibling;
    tr.remove();
    if (!tbody.children.length) tbody.appendChild(emptyRow());
    announce(message, 'success');
    setTimeout(() => {
      const target = next && next.isConnected ? next.querySelector('button') : document.getElementById('page-title');
      if (target) target.focus();
    }, 60);
  };

  for (const r of items) {
    const name = r.name;
    const display = r.display_name || '';
    const tr = h('tr', { dataset: { registration: name } });
    const act = async (action) => {
      if (action === 'reject' && !(await confirmDialog({
        title: t('registrations.rejectTitle', { name }), text: t('registrations.rejectText'),
        confirmLabel: t('registrations.reject'), danger: true,
      }))) return;
      try {
        await api.post(`/registrations/${encodeURIComponent(name)}/${action}`);
        handled(tr, t(action === 'approve' ? 'registrations.approved' : 'registrations.rejected', { name }));
      } catch (err) {
        announce(errorText(err), 'error');
      }
    };
    replace(tr,
      h('th', { scope: 'row' }, name),
      h('td', {}, display),
      h('td', {}, r.created ? h('time', { datetime: r.created }, formatDateTime(r.created)) : '–'),
      h('td', {}, h('div', { class: 'row-actions' },
        h('button', { type: 'button', class: 'btn small primary', dataset: { action: 'approve' }, onClick: () => act('approve') },
          t('registrations.approve'), h('span', { class: 'visually-hidden' }, ` ${name}`)),
        h('button', { type: 'button', class: 'btn small danger', dataset: { action: 'reject' }, onClick: () => act('reject') },
          t('registrations.reject'), h('span', { class: 'visually-hidden' }, ` ${name}`)))));
    tbody.appendChild(tr);
  }
  if (!items.length) tbody.appendChild(emptyRow());

  // Approved participants with the trusted switch (GET /participants, moderator+).
  let people = null;
  try {
    const pr = await api.get('/participants');
    people = (pr.items || []).filter((u) => u.approved !== false && u.role === 'participant');
  } catch (err) {
    if (err.status !== 404) throw err;
  }
  const peopleSection = people
    ? h('section', { 'aria-labelledby': 'participants-title', class: 'participants' },
        h('h2', { id: 'participants-title' }, t('registrations.participantsTitle')),
        h('p', { class: 'muted' }, t('registrations.participantsIntro')),
        people.length
          ? tableWrap(null, h('table', { class: 'data' },
              h('thead', {}, h('tr', {},
                h('th', { scope: 'col' }, t('registrations.name')),
                h('th', { scope: 'col' }, t('registrations.displayName')),
                h('th', { scope: 'col' }, t('users.trusted')))),
              h('tbody', {}, people.map((u) => h('tr', { dataset: { participant: u.name } },
                h('th', { scope: 'row' }, u.name),
                h('td', {}, u.display_name || ''),
                h('td', {}, u.disabled ? t('users.disabled') : trustedToggle(u)))))), t('registrations.participantsTitle'))
          : h('p', {}, t('registrations.noParticipants')))
    : null;

  replace(main,
    pageHeader(t('registrations.title'), { intro: t('registrations.intro') }),
    tableWrap(t('registrations.caption'), h('table', { class: 'data' },
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, t('registrations.name')),
        h('th', { scope: 'col' }, t('registrations.displayName')),
        h('th', { scope: 'col' }, t('registrations.created')),
        h('th', { scope: 'col' }, t('common.actions')))),
      tbody)),
    peopleSection);
}
