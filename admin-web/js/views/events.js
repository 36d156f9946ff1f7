// Events (network meetings, Fachtage): list, create, edit, delete. Times are entered in
// the browser's local time and stored in UTC.

import { h, replace } from '../dom.js';
import * as api from '../api.js';
import { t, formatDateTime } from '../i18n.js';
import { field, showErrors, clearErrors, confirmDialog } from '../forms.js';
import { pageHeader, tableWrap, errorText, notice } from '../ui.js';
import { announce, navigate, can, state } from '../state.js';

function pad(n) {
  return String(n).padStart(2, '0');
}

/** ISO UTC → the value of a datetime-local input (local time). */
function toLocalInput(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A datetime-local value → ISO UTC without milliseconds ('' stays ''). */
function fromLocalInput(v) {
  if (!v) return '';
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) return v;
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function placeText(ev) {
  const l = ev.location || {};
  return [l.name, l.address].filter(Boolean).join(', ');
}

export async function renderList(main) {
  const [up, past] = await Promise.all([api.get('/events'), api.get('/events', { when: 'past', limit: 20 })]);
  const own = (ev) => !state.node || !state.node.district || ev.district === state.node.district;
  const table = (caption, items) => (items.length
    ? tableWrap(caption, h('table', { class: 'data' },
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col' }, t('events.name')),
          h('th', { scope: 'col' }, t('events.start')),
          h('th', { scope: 'col' }, t('events.place')),
          h('th', { scope: 'col' }, t('events.district')))),
        h('tbody', {}, items.map((ev) => h('tr', { dataset: { event: ev.id } },
          h('th', { scope: 'row' }, h('a', { href: `#/events/${encodeURIComponent(ev.id)}` }, ev.name)),
          h('td', {}, formatDateTime(ev.start_time)),
          h('td', {}, placeText(ev)),
          h('td', {}, own(ev) ? t('events.own') : ev.district))))))
    : notice(t('events.none')));
  replace(main,
    pageHeader(t('events.title'), {
      intro: t('events.intro'),
      actions: can('editor') ? h('a', { class: 'btn primary', href: '#/events/new' }, t('events.new')) : null,
    }),
    h('h2', {}, t('events.upcoming')),
    table(t('events.upcoming'), up.items || []),
    h('h2', {}, t('events.past')),
    table(t('events.past'), past.items || []),
    h('p', {}, h('a', { href: '/events.ics' }, t('events.ics'))));
}

export async function renderEdit(main, [id]) {
  let ev = { name: '', start_time: '', end_time: '', location: { name: '', address: '' }, content: '' };
  let version = null;
  if (id) {
    const r = await api.request('GET', `/events/${encodeURIComponent(id)}`);
    ev = r.data;
    version = r.etag;
  }
  const local = !id || !state.node || !state.node.district || ev.district === state.node.district;
  const editable = can('editor') && local;
  const ro = editable ? {} : { readonly: true };
  const w = {
    name: field({ field: 'name', label: t('events.name'), required: true, value: ev.name, attrs: { maxlength: 200, ...ro } }),
    start_time: field({ field: 'start_time', label: t('events.start'), type: 'datetime-local', required: true, value: toLocalInput(ev.start_time), attrs: ro }),
    end_time: field({ field: 'end_time', label: t('events.end'), type: 'datetime-local', required: true, value: toLocalInput(ev.end_time), attrs: ro }),
    locName: field({ field: 'location.name', label: t('events.placeName'), value: (ev.location || {}).name, attrs: { maxlength: 200, ...ro } }),
    locAddress: field({ field: 'location.address', label: t('events.address'), value: (ev.location || {}).address, attrs: { maxlength: 500, ...ro } }),
    content: field({ field: 'content', label: t('events.content'), type: 'textarea', rows: 6, value: ev.content, attrs: ro }),
  };
  const form = h('form', { class: 'record-form card', novalidate: true, 'aria-labelledby': 'page-title' },
    w.name, h('div', { class: 'row' }, w.start_time, w.end_time), h('div', { class: 'row' }, w.locName, w.locAddress), w.content,
    editable ? h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'btn primary' }, t('common.save')),
      id ? h('button', {
        type: 'button', class: 'btn danger',
        onClick: async () => {
          if (!(await confirmDialog({ title: t('events.deleteTitle'), text: t('events.deleteText'), confirmLabel: t('events.delete'), danger: true }))) return;
          try {
            await api.del(`/events/${encodeURIComponent(id)}`, null, version);
            announce(t('events.deleted'));
            navigate('#/events');
          } catch (err) {
            announce(errorText(err), 'error');
          }
        },
      }, t('events.delete')) : null) : null);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    const body = {
      name: w.name.control.value.trim(),
      start_time: fromLocalInput(w.start_time.control.value),
      end_time: fromLocalInput(w.end_time.control.value),
      location: { name: w.locName.control.value.trim(), address: w.locAddress.control.value.trim() },
      content: w.content.control.value,
    };
    const missing = ['name', 'start_time', 'end_time'].filter((k) => !body[k]).map((k) => ({ field: k, detail: t('form.required') }));
    if (missing.length) {
      showErrors(form, missing);
      return;
    }
    try {
      const r = id ? await api.patch(`/events/${encodeURIComponent(id)}`, body, version) : await api.post('/events', body);
      announce(t('events.saved'));
      navigate(`#/events/${encodeURIComponent(r.id)}`);
    } catch (err) {
      showErrors(form, err.errors.length ? err.errors : [{ field: 'name', detail: errorText(err) }]);
    }
  });
  replace(main,
    pageHeader(id ? ev.name : t('events.new'), {
      crumbs: [[t('events.title'), '#/events'], [id ? ev.name : t('events.new'), null]],
      actions: id ? h('a', { class: 'btn', href: `/events/${encodeURIComponent(id)}` }, t('events.publicPage')) : null,
    }),
    local ? null : notice(t('events.notLocal')),
    form);
}
