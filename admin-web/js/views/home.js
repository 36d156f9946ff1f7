// Start page for participants (self-registered accounts that only discuss):
// where discussions start, and links to their account and their data.

import { h, replace } from '../dom.js';
import { t } from '../i18n.js';
import { pageHeader } from '../ui.js';
import { state } from '../state.js';

export async function render(main) {
  const s = state.session;
  replace(main,
    pageHeader(t('home.title', { name: s.display_name || s.name }), { intro: t('home.intro') }),
    h('section', { class: 'panel', 'aria-labelledby': 'home-how' },
      h('h2', { id: 'home-how' }, t('home.howTitle')),
      h('p', {}, t('home.how')),
      h('p', {}, h('a', { href: '/', class: 'btn primary' }, t('home.toMeasures')))),
    h('section', { class: 'panel', 'aria-labelledby': 'home-more' },
      h('h2', { id: 'home-more' }, t('home.moreTitle')),
      h('ul', {},
        h('li', {}, h('a', { href: '#/account' }, t('nav.account'))),
        h('li', {}, h('a', { href: '#/mydata' }, t('nav.mydata'))),
        h('li', {}, h('a', { href: '/netiquette' }, t('register.netiquette'))))));
}
