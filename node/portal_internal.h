/* Shared by the portal_*.c files only: the page context, the message
 * table, escaping, the page frame, formatting and data helpers. */
#ifndef DINET_PORTAL_INTERNAL_H
#define DINET_PORTAL_INTERNAL_H

#include "config.h"
#include "http.h"
#include "record.h"
#include "util.h"

#include <jansson.h>
#include <stdbool.h>

#define PORTAL_STATUSES 5
extern const char *const portal_statuses[PORTAL_STATUSES]; /* planned … cancelled */
extern const char *const portal_org_kinds[];               /* NULL-terminated */

/* One request being rendered. */
typedef struct pctx {
    http_req *req;
    http_resp *resp;
    buf *b;     /* the response body */
    int en;     /* 0 German, 1 English */
    bool state; /* this is the state node */
    const config *cfg;
    char host[520];   /* authority of base_url, for fediverse handles */
    json_t *tax;      /* taxonomy rows [{code, kind, de, en}] (lazy) */
    int ids;          /* counter for unique element ids */
    const void *arg;  /* what the route passes to its renderer */
    json_t *settings; /* the node settings document (lazy) */
} pctx;

void pt_pc_init(pctx *c, http_req *req, http_resp *resp);
void pt_pc_free(pctx *c);

/* The message for key in the request's language ("[[key]]" when missing). */
const char *pt_msg(const pctx *c, const char *key);

/* Output. pt_esc() escapes for element content and attribute values alike. */
void pt_out(pctx *c, const char *s);
void pt_outf(pctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pt_esc(pctx *c, const char *s);
void pt_esc_to(buf *b, const char *s);
/* XML text (Atom, sitemap): escaped, characters XML 1.0 forbids dropped. */
void pt_xml_esc(buf *b, const char *s);
/* Percent-encodes a query value. */
void pt_url_enc(buf *b, const char *s);
/* Writes an internal URL (path with optional query) as an escaped attribute
 * value, adding lang=en on English pages. */
void pt_href(pctx *c, const char *url);
void pt_hreff(pctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hidden form field that keeps the language. */
void pt_form_lang(pctx *c);
/* A fresh element id "p-N". */
const char *pt_new_id(pctx *c, char out[16]);

/* The page frame. */
typedef struct page_meta {
    const char *title;       /* the page's own title (h1 is written by the page) */
    const char *description; /* meta description and og:description */
    const char *canon;       /* path?query of the canonical URL; NULL = the path */
    const char *og_type;     /* "website" (default) or "article" */
    const char *feed;        /* path of an Atom feed to announce, or NULL */
    const char *feed_title;
    const char *nav; /* active navigation entry: home, fields, districts, orgs,
                        report, search, or NULL */
    bool noindex;    /* search results and filtered lists */
} page_meta;

void pt_page_begin(pctx *c, const page_meta *m);
void pt_page_end(pctx *c);
/* An error page (404, 400) in the frame. */
void pt_page_error(pctx *c, int status, const char *title, const char *text);

/* Serves what render produces from the page cache while nothing changed.
 * render writes the whole page and sets c->resp->status. */
void portal_cached(http_req *req, http_resp *resp, const char *kind, void (*render)(pctx *c));
void portal_cached_arg(http_req *req, http_resp *resp, const char *kind, void (*render)(pctx *c),
                       const void *arg);

/* Formatting. */
void pt_fmt_date(pctx *c, const char *iso);     /* 15.10.2025 / 2025-10-15 */
void pt_fmt_datetime(pctx *c, const char *iso); /* with time, UTC */
void pt_fmt_pct(pctx *c, double v);             /* "46 %" */
void pt_fmt_num(pctx *c, double v);             /* "1820", "2,5" */
void pt_status_badge(pctx *c, const char *status);
const char *pt_status_label(const pctx *c, const char *status);
const char *pt_kind_label(const pctx *c, const char *kind);
const char *pt_lang_label(const pctx *c, const char *code);
/* A progress bar with its value as text (SVG hidden from assistive tech;
 * the text carries the value). */
void pt_progress_bar(pctx *c, int pct);

/* Taxonomy. */
const char *pt_tax_name(pctx *c, const char *code);
const char *pt_tax_kind(pctx *c, const char *code); /* "field", "theme" or NULL */
json_t *pt_tax_rows(pctx *c);                       /* borrowed */
void pt_tax_link(pctx *c, const char *code);        /* <a href=/handlungsfelder/HF3>HF3 …</a> */

/* Districts. */
const char *pt_district_label(const char *code); /* name or the code */
bool pt_district_ok(const char *code);           /* one of the 14 */

/* Data. */
/* Runs record_list and parses the result: {items, total, next_cursor}.
 * NULL on a bad filter or error. */
json_t *pt_pd_list(pctx *c, rec_kind kind, const record_filter *f);
/* A node text (impressum, datenschutz, barrierefreiheit) or contact_email,
 * malloc'd, or NULL when unset or empty. On English pages the English text
 * when there is one; *german (may be NULL) tells that the German one came
 * back instead. */
char *pt_pd_setting(pctx *c, const char *key, bool *german);
/* The node settings document (borrowed; see settings.h). */
json_t *pt_pd_settings(pctx *c);
/* The node's public name: the settings' name, else the configured one. */
const char *pt_node_name(pctx *c);
/* The title (name) of a record and its district; false when unknown.
 * *deleted tells whether it is a tombstone. */
bool pt_pd_title(pctx *c, const char *id, char *title, size_t tlen, char *dist, size_t dlen,
                 bool *deleted);
/* Counts and progress of the measures matching a filter. counts[] follows
 * portal_statuses. mean < 0 when there are none. */
typedef struct pd_figures {
    long long counts[PORTAL_STATUSES];
    long long total;
    double mean, weighted;
} pd_figures;
void pt_pd_figures_of(pctx *c, const char *term, const char *dcode, pd_figures *f);

/* Query parameters, validated: NULL when absent or invalid. */
const char *pt_q_field(pctx *c, const char *name);    /* taxonomy code */
const char *pt_q_district(pctx *c, const char *name); /* district code */
const char *pt_q_status(pctx *c, const char *name);
const char *pt_q_date(pctx *c, const char *name);
const char *pt_q_text(pctx *c, const char *name); /* 1..200 bytes, valid UTF-8 */
long long pt_q_cursor(pctx *c);

/* Record text (titles, descriptions) as written: on English pages marked as
 * German (lang="de"), the language the districts write in. */
void pt_data(pctx *c, const char *s);
void pt_data_paragraphs(pctx *c, const char *text);
/* Plain text as paragraphs: blank lines separate paragraphs, single line
 * breaks stay; everything escaped. */
void pt_text_paragraphs(pctx *c, const char *text);
/* Copies s cut to at most max bytes at a character boundary, with "…". */
void pt_text_cut(const char *s, size_t max, char *o, size_t olen);

/* Lists shared by pages. */
void pt_measure_list(pctx *c, const json_t *items, int hlevel);
void pt_org_list(pctx *c, const json_t *items, int hlevel);
/* "More" link for a list with a next cursor: base is the page URL with its
 * filters (without cursor). */
void pt_more_link(pctx *c, const json_t *list, const char *base, const char *label_key);
/* Figures table of fields and themes (status distribution and progress). */
void pt_fields_table(pctx *c, const char *dcode, const char *caption);
/* The latest progress entries. */
void pt_latest_progress(pctx *c, const char *dcode, int n, int hlevel);
/* The search form. */
void pt_search_form(pctx *c, const char *q, bool big);

/* SVG. */
/* The schematic tile map, one tile per district_all()[i]: text[i] what the
 * tile shows, cls[i] the colour class 0..5 (0 = no data). highlight: one
 * code drawn emphasised, or NULL. links: tiles link to the district pages
 * (out of the tab order: the table beside the map has the same links). */
void pt_svg_tile_map(pctx *c, char text[][32], const int *cls, const char *highlight, bool links);
/* Whether the map shows real boundaries (map_geojson) instead of tiles. */
bool pt_map_geojson(void);
/* A stacked bar of status counts (decorative: the numbers are in text). */
void pt_svg_status_bar(pctx *c, const long long counts[PORTAL_STATUSES]);
/* One indicator as a bar chart (role=img with title and description) and
 * its data table. */
void pt_svg_indicator(pctx *c, const json_t *ind, int hlevel);

/* The discussion thread section of a measure or progress page, and the
 * approved comments of a measure as Atom entries (xml escapes). */
void pt_discussion(pctx *c, const char *kind, const char *id);
void pt_discussion_feed(pctx *c, const char *measure_id, void (*xml)(pctx *, const char *));

/* Pages in other files. */
void portal_report(pctx *c);
void portal_feed(http_req *req, http_resp *resp, const char *scope, const char *arg);
void portal_sitemap(http_req *req, http_resp *resp);
void portal_robots(http_req *req, http_resp *resp);
void portal_asset(http_req *req, http_resp *resp, const char *name);

#endif
