// Our own accessibility check, run inside the page (page.evaluate). It complements
// axe-core with the project's rules: every form control has a label, images have
// alt text, exactly one h1, the landmarks are there, headings do not skip levels,
// buttons and links have names, ids are unique, <html lang> matches the language.
// Returns a list of problems (strings); empty means passed.

export function a11yCheck(expectLang) {
  const problems = [];
  const visible = (el) => {
    if (el.closest('[hidden]')) return false;
    const st = getComputedStyle(el);
    if (st.display === 'none' || st.visibility === 'hidden') return false;
    return !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length) || el.classList.contains('visually-hidden');
  };
  const describe = (el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.name ? `[name=${el.name}]` : ''}`;
  const textOf = (id) => {
    const el = document.getElementById(id);
    return el ? el.textContent.trim() : '';
  };
  const nameOf = (el) => {
    const al = el.getAttribute('aria-label');
    if (al && al.trim()) return al.trim();
    const lb = el.getAttribute('aria-labelledby');
    if (lb) {
      const s = lb.split(/\s+/).map(textOf).join(' ').trim();
      if (s) return s;
    }
    if (el.labels && el.labels.length) {
      const s = [...el.labels].map((l) => l.textContent.trim()).join(' ').trim();
      if (s) return s;
    }
    if (el.title && el.title.trim()) return el.title.trim();
    return '';
  };

  // 1. Form controls have labels.
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (el.type === 'hidden') continue;
    if (!nameOf(el)) problems.push(`control without label: ${describe(el)}`);
  }
  // 2. Images have alt; svg images have a name.
  for (const img of document.querySelectorAll('img')) {
    if (!img.hasAttribute('alt')) problems.push(`img without alt: ${img.src}`);
  }
  for (const svg of document.querySelectorAll('svg[role=img]')) {
    if (!nameOf(svg) && !svg.querySelector('title')) problems.push('svg role=img without a name');
  }
  for (const svg of document.querySelectorAll('svg:not([role]):not([aria-hidden=true])')) {
    if (!svg.closest('[aria-hidden=true]')) problems.push('svg without role=img or aria-hidden');
  }
  // 3. Exactly one h1.
  const h1s = [...document.querySelectorAll('h1')].filter(visible);
  if (h1s.length !== 1) problems.push(`expected one h1, found ${h1s.length}`);
  // 4. Landmarks.
  const mains = document.querySelectorAll('main, [role=main]');
  if (mains.length !== 1) problems.push(`expected one main landmark, found ${mains.length}`);
  if (!document.querySelector('body > header, [role=banner]')) problems.push('no banner (header) landmark');
  if (!document.querySelector('body > footer, [role=contentinfo]')) problems.push('no contentinfo (footer) landmark');
  for (const nav of document.querySelectorAll('nav')) {
    if (!nav.hidden && document.querySelectorAll('nav:not([hidden])').length > 1 && !nameOf(nav)) problems.push('several nav landmarks, one without a name');
  }
  // Content outside landmarks (skip link and live region excepted).
  for (const el of document.body.children) {
    if (['HEADER', 'MAIN', 'FOOTER', 'SCRIPT', 'NOSCRIPT', 'DIALOG', 'TEMPLATE'].includes(el.tagName)) continue;
    if (el.classList.contains('skip-link') || el.getAttribute('role') === 'status' || el.hidden) continue;
    if (el.tagName === 'A' && el.hidden) continue;
    if (visible(el) && el.textContent.trim()) problems.push(`content outside landmarks: ${describe(el)}`);
  }
  // 5. Headings do not skip levels (inside main).
  let last = 0;
  for (const hd of document.querySelectorAll('main h1, main h2, main h3, main h4, main h5, main h6')) {
    if (!visible(hd)) continue;
    const lvl = Number(hd.tagName[1]);
    if (last && lvl > last + 1) problems.push(`heading level skipped: h${last} → h${lvl} "${hd.textContent.trim().slice(0, 40)}"`);
    last = lvl;
  }
  // 6. Buttons and links have names.
  for (const b of document.querySelectorAll('button')) {
    if (!visible(b)) continue;
    if (!(b.textContent.trim() || nameOf(b))) problems.push(`button without a name: ${describe(b)}`);
  }
  for (const a of document.querySelectorAll('a[href]')) {
    if (!visible(a)) continue;
    if (!(a.textContent.trim() || nameOf(a) || a.querySelector('img[alt]:not([alt=""])'))) problems.push(`link without text: ${a.getAttribute('href')}`);
  }
  // 7. Unique ids; references point to existing ids.
  const seen = new Map();
  for (const el of document.querySelectorAll('[id]')) seen.set(el.id, (seen.get(el.id) || 0) + 1);
  for (const [id, n] of seen) if (n > 1) problems.push(`duplicate id: ${id}`);
  for (const el of document.querySelectorAll('[aria-describedby], [aria-labelledby], [aria-controls], label[for]')) {
    for (const attr of ['aria-describedby', 'aria-labelledby', 'aria-controls', 'for']) {
      const v = el.getAttribute(attr);
      if (!v) continue;
      for (const id of v.split(/\s+/)) if (id && !document.getElementById(id)) problems.push(`${attr} points to missing id ${id}`);
    }
  }
  // 8. Language.
  const lang = document.documentElement.getAttribute('lang');
  if (!lang) problems.push('<html> has no lang');
  else if (expectLang && lang !== expectLang) problems.push(`<html lang="${lang}">, expected "${expectLang}"`);
  // 9. A live region for status messages exists.
  if (!document.querySelector('[aria-live], [role=status], [role=alert]')) problems.push('no live region');
  return problems;
}
