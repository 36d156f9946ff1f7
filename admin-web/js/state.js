// Shared application state: the session, the node, cached taxonomy and
// organisation names, the status region and navigation.

import * as api from './api.js';
import { localName, t } from './i18n.js';

export const state = {
  session: null, // {name, role, csrf_token, authenticated}
  node: null, // GET /api/v1/node
  taxonomy: null,
  orgs: null, // Map id -> organisation (for pickers and names)
};

/** Whether the logged-in user has at least `role`. */
export function can(role) {
  const s = state.session;
  if (!s || !s.authenticated) return false;
  return (api.ROLE_RANK[s.role] || 0) >= (api.ROLE_RANK[role] || 99);
}

let statusTimer = null;
/** Puts a message into the aria-live status region (visible as a notice). */
export function announce(message, kind = 'info') {
  const el = document.getElementById('status');
  if (!el) return;
  clearTimeout(statusTimer);
  el.textContent = '';
  el.className = `status-region ${kind}`;
  // A fresh text node after a tick makes screen readers announce repeats too.
  setTimeout(() => {
    el.textContent = message;
  }, 30);
  statusTimer = setTimeout(() => {
    el.textContent = '';
    el.className = 'status-region';
  }, 9000);
}

export function navigate(hash) {
  if (location.hash === hash) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = hash;
}

export async function taxonomy() {
  if (!state.taxonomy) state.taxonomy = await api.get('/taxonomy');
  return state.taxonomy;
}

/** Options for checkbox groups / selects from the taxonomy: 'fields_of_action' or 'themes'. */
export function taxonomyOptions(kind) {
  const tx = state.taxonomy || {};
  return (tx[kind] || []).map((e) => ({ value: e.code, code: e.code, label: localName(e.name) }));
}

export function taxonomyName(code) {
  const tx = state.taxonomy || {};
  for (const e of [...(tx.fields_of_action || []), ...(tx.themes || [])]) if (e.code === code) return localName(e.name);
  return code;
}

/** All organisations of this node (id -> record), cached until invalidated. */
export async function organisations(force = false) {
  if (!state.orgs || force) {
    const { items } = await api.listAll('/organisations');
    state.orgs = new Map(items.map((o) => [o.id, o]));
  }
  return state.orgs;
}

export function invalidateOrganisations() {
  state.orgs = null;
}

export function orgName(id) {
  if (!id) return '';
  const o = state.orgs && state.orgs.get(id);
  return o ? o.name : id;
}

export function roleLabel(role) {
  return t(`roles.${role}`);
}

export const ORG_KINDS = ['administration', 'civil_society', 'education', 'migrant_organisation', 'welfare', 'business', 'other'];
export const STATUSES = ['planned', 'active', 'completed', 'paused', 'cancelled'];
export const ROLES = ['viewer', 'moderator', 'editor', 'admin'];
// The self-registered role below viewer (discussion only).
export const ALL_ROLES = ['participant', ...ROLES];
