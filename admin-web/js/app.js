// admin-web: the district office's workspace. Static ES modules over the node's
// JSON API; hash routes (#/measures/m-…) so the server only serves files.

import { h, replace } from './dom.js';
import * as api from './api.js';
import { initI18n, t, availableLanguages, language, setLanguage, onLanguageChange } from './i18n.js';
import { state, can, announce, navigate, roleLabel } from './state.js';
import { pageHeader, errorBox, loading } from './ui.js';

import * as loginView from './views/login.js';
import * as dashboardView from './views/dashboard.js';
import * as orgViews from './views/organisations.js';
import * as measureViews from './views/measures.js';
import * as historyView from './views/history.js';
import * as federationView from './views/federation.js';
import * as usersView from './views/users.js';
import * as tokensView from './views/tokens.js';
import * as settingsView from './views/settings.js';
import * as accountView from './views/account.js';
import * as transferView from './views/transfer.js';
import * as registerView from './views/register.js';
import * as discussView from './views/discuss.js';
import * as moderationView from './views/moderation.js';
import * as registrationsView from './views/registrations.js';
import * as mydataView from './views/mydata.js';
import * as homeView from './views/home.js';
import * as channelViews from './views/channel.js';
import * as eventViews from './views/events.js';

// [pattern, view function, minimum role, nav key]
const ROUTES = [
  // Participants (discussion only) get their own start page.
  [/^\/?$/, (m, p, q) => (can('viewer') ? dashboardView.render(m, p, q) : homeView.render(m, p, q)), 'participant', 'dashboard'],
  [/^\/organisations$/, orgViews.renderList, 'viewer', 'organisations'],
  [/^\/organisations\/new$/, orgViews.renderEdit, 'editor', 'organisations'],
  [/^\/organisations\/(o-[a-z0-9-]+)$/, orgViews.renderEdit, 'viewer', 'organisations'],
  [/^\/organisations\/(o-[a-z0-9-]+)\/history$/, (m, p, q) => historyView.render(m, 'organisations', p, q), 'viewer', 'organisations'],
  [/^\/measures$/, measureViews.renderList, 'viewer', 'measures'],
  [/^\/measures\/new$/, measureViews.renderEdit, 'editor', 'measures'],
  [/^\/measures\/(m-[a-z0-9-]+)$/, measureViews.renderEdit, 'viewer', 'measures'],
  [/^\/measures\/(m-[a-z0-9-]+)\/progress$/, measureViews.renderProgress, 'viewer', 'measures'],
  [/^\/measures\/(m-[a-z0-9-]+)\/history$/, (m, p, q) => historyView.render(m, 'measures', p, q), 'viewer', 'measures'],
  [/^\/transfer$/, transferView.render, 'viewer', 'transfer'],
  [/^\/channel$/, channelViews.renderGroups, 'viewer', 'channel'],
  [/^\/channel\/threads\/(\d+)$/, channelViews.renderThread, 'viewer', 'channel'],
  [/^\/channel\/([A-Z]{2}[0-9])$/, channelViews.renderThreads, 'viewer', 'channel'],
  [/^\/events$/, eventViews.renderList, 'viewer', 'events'],
  [/^\/events\/new$/, (m, p, q) => eventViews.renderEdit(m, [], q), 'editor', 'events'],
  [/^\/events\/(e-[a-z0-9]+)$/, eventViews.renderEdit, 'viewer', 'events'],
  [/^\/federation$/, federationView.render, 'viewer', 'federation'],
  [/^\/users$/, usersView.render, 'admin', 'users'],
  [/^\/tokens$/, tokensView.render, 'admin', 'tokens'],
  [/^\/settings$/, settingsView.render, 'admin', 'settings'],
  [/^\/account$/, accountView.render, 'participant', 'account'],
  [/^\/discuss\/(measure)\/(m-[a-z0-9-]+)$/, discussView.render, 'participant', null],
  [/^\/discuss\/(progress)\/(p-[a-z0-9-]+)$/, discussView.render, 'participant', null],
  [/^\/moderation$/, moderationView.render, 'moderator', 'moderation'],
  [/^\/registrations$/, registrationsView.render, 'moderator', 'registrations'],
  [/^\/mydata$/, mydataView.render, 'participant', 'mydata'],
];

const NAV = [
  ['dashboard', '#/', 'participant'],
  ['organisations', '#/organisations', 'viewer'],
  ['measures', '#/measures', 'viewer'],
  ['channel', '#/channel', 'viewer'],
  ['events', '#/events', 'viewer'],
  ['transfer', '#/transfer', 'viewer'],
  ['federation', '#/federation', 'viewer'],
  ['moderation', '#/moderation', 'moderator'],
  ['registrations', '#/registrations', 'moderator'],
  ['mydata', '#/mydata', 'participant'],
  ['users', '#/users', 'admin'],
  ['tokens', '#/tokens', 'admin'],
  ['settings', '#/settings', 'admin'],
];

let firstRender = true;
let renderSeq = 0;

function parseHash() {
  const raw = location.hash.replace(/^#/, '');
  const [path, query = ''] = raw.split('?');
  return { path: path || '/', query: new URLSearchParams(query) };
}

function renderHeader(activeNav) {
  const tools = document.getElementById('header-tools');
  const langId = 'lang-select';
  const langSelect = h(
    'select',
    { id: langId, onChange: (ev) => setLanguage(ev.target.value) },
    availableLanguages().map((l) => h('option', { value: l.code, lang: l.code, selected: l.code === language() }, l.name)),
  );
  const langBox = h('div', { class: 'lang' }, h('label', { for: langId }, t('app.language')), langSelect);
  const s = state.session;
  const userBox = s && s.authenticated
    ? h(
        'div',
        { class: 'user-box' },
        h('a', { href: '#/account', class: 'user-link', 'aria-current': activeNav === 'account' ? 'page' : null },
          h('span', { class: 'user-name' }, s.name),
          h('span', { class: 'user-role' }, roleLabel(s.role))),
        h('button', { type: 'button', class: 'btn small on-dark', onClick: doLogout }, t('nav.logout')),
      )
    : null;
  replace(tools, langBox, userBox);

  document.getElementById('brand-name').textContent = t('app.title');
  document.getElementById('brand-node').textContent = state.node ? state.node.name : '';
  const skip = document.getElementById('skip-link');
  skip.textContent = t('app.skip');

  const nav = document.getElementById('main-nav');
  nav.setAttribute('aria-label', t('nav.label'));
  if (s && s.authenticated) {
    nav.hidden = false;
    const listId = 'main-nav-list';
    const toggle = h('button', {
      type: 'button', class: 'nav-toggle', 'aria-expanded': 'false', 'aria-controls': listId,
      onClick: () => {
        const open = toggle.getAttribute('aria-expanded') !== 'true';
        toggle.setAttribute('aria-expanded', String(open));
        nav.classList.toggle('open', open);
      },
    }, t('nav.menu'));
    replace(
      nav,
      toggle,
      h('ul', { id: listId },
        NAV.filter(([, , role]) => can(role)).map(([key, href]) =>
          h('li', {}, h('a', { href, 'aria-current': key === activeNav ? 'page' : null, dataset: { nav: key } }, t(`nav.${key}`))))),
    );
  } else {
    nav.hidden = true;
    replace(nav);
  }

  const footer = document.getElementById('site-footer');
  replace(footer, h('div', { class: 'footer-inner' },
    h('p', {}, t('app.footer')),
    h('ul', {},
      h('li', {}, h('a', { href: '/' }, t('app.publicSite'))),
      h('li', {}, h('a', { href: '/api/v1/openapi.json' }, t('app.apiDocs'))))));
}

async function doLogout() {
  try {
    await api.logout();
  } catch (_) {
    /* the session may be gone already */
  }
  state.session = { authenticated: false };
  announce(t('login.loggedOut'));
  navigate('#/login');
}

export async function route() {
  const seq = ++renderSeq;
  const main = document.getElementById('main');
  const { path, query } = parseHash();
  document.getElementById('main-nav').classList.remove('open');

  if (!state.session || !state.session.authenticated) {
    renderHeader(null);
    if (path === '/register') {
      await registerView.render(freshView(main));
      focusTitle();
      return;
    }
    if (path !== '/login') sessionStorage.setItem('dinet.admin.after', location.hash || '#/');
    await loginView.render(freshView(main), { onLogin: afterLogin });
    focusTitle();
    return;
  }
  if (path === '/login' || path === '/register') {
    navigate('#/');
    return;
  }
  for (const [re, view, role, navKey] of ROUTES) {
    const m = re.exec(path);
    if (!m) continue;
    renderHeader(navKey);
    if (!can(role)) {
      replace(main, pageHeader(t('errors.forbiddenTitle')), h('p', {}, t('errors.forbiddenPage', { role: roleLabel(role) })),
        h('p', {}, h('a', { href: '#/' }, t('nav.toDashboard'))));
      focusTitle();
      return;
    }
    const target = freshView(main);
    replace(target, loading());
    try {
      await view(target, m.slice(1), query);
    } catch (err) {
      if (seq !== renderSeq) return;
      console.error(err);
      replace(target, pageHeader(t('errors.pageFailed')), errorBox(err));
    }
    if (seq === renderSeq) focusTitle();
    return;
  }
  renderHeader(null);
  replace(main, pageHeader(t('errors.notFoundTitle')), h('p', {}, h('a', { href: '#/' }, t('nav.toDashboard'))));
  focusTitle();
}

/** Each render writes into its own container; a slower, older render then writes
 * into a detached element and cannot overwrite the current page. */
function freshView(main) {
  const view = h('div', { class: 'view' });
  replace(main, view);
  return view;
}

function focusTitle() {
  if (firstRender) {
    firstRender = false;
    return;
  }
  const title = document.getElementById('page-title');
  if (title) title.focus({ preventScroll: false });
}

async function afterLogin(session) {
  state.session = session;
  const after = sessionStorage.getItem('dinet.admin.after') || '#/';
  sessionStorage.removeItem('dinet.admin.after');
  announce(t('login.welcome', { name: session.name, role: roleLabel(session.role) }));
  navigate(after === '#/login' ? '#/' : after);
}

async function boot() {
  await initI18n();
  try {
    state.node = await api.get('/node');
  } catch (_) {
    state.node = null;
  }
  try {
    state.session = await api.getSession();
  } catch (_) {
    state.session = { authenticated: false };
  }
  try {
    await import('./state.js').then((m) => m.taxonomy());
  } catch (_) {
    /* shown where needed */
  }
  api.setUnauthenticatedHandler(() => {
    if (state.session && state.session.authenticated) {
      state.session = { authenticated: false };
      announce(t('login.expired'), 'error');
      navigate('#/login');
    }
  });
  onLanguageChange(() => {
    const focusedLang = document.activeElement && document.activeElement.id === 'lang-select';
    route().then(() => {
      if (focusedLang) document.getElementById('lang-select').focus();
    });
    announce(t('app.languageChanged'));
  });
  window.addEventListener('hashchange', () => {
    const { path } = parseHash();
    if (!path.startsWith('/')) return; // in-page anchors
    route();
  });
  document.getElementById('skip-link').addEventListener('click', (ev) => {
    ev.preventDefault();
    const main = document.getElementById('main');
    main.focus();
  });
  if (!location.hash) history.replaceState(null, '', '#/');
  await route();
}

boot().catch((err) => {
  console.error(err);
  const main = document.getElementById('main');
  replace(main, h('h1', {}, 'Fehler / Error'), h('p', {}, String(err && err.message)));
});
