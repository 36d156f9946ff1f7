/* Inline SVG for the portal: the schematic tile map of the 14 districts,
 * status bars and indicator charts. Colours come from classes in the style
 * sheet (the CSP allows no inline styles); every chart has its numbers in
 * text or a table next to it. */
#include "portal_internal.h"
#include "portal.h"
#include "district.h"

#include "log.h"
#include "util.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* One tile per district, placed roughly where it lies: the Altmark in the
 * north, Magdeburg in the centre, the Harz in the west, Wittenberg in the
 * east, Halle and the Burgenlandkreis in the south. x in columns (halves
 * allowed), y in rows. */
static const struct tile {
    const char *code;
    double x, y;
    const char *line1, *line2;
} tiles[] = {
    {"15081", 0.5, 0, "Altmarkkreis", "Salzwedel"},
    {"15090", 1.5, 0, "Stendal", NULL},
    {"15083", 0.5, 1, "Börde", NULL},
    {"15003", 1.5, 1, "Magdeburg", NULL},
    {"15086", 2.5, 1, "Jerichower", "Land"},
    {"15085", 0, 2, "Harz", NULL},
    {"15089", 1, 2, "Salzland-", "kreis"},
    {"15001", 2, 2, "Dessau-", "Roßlau"},
    {"15091", 3, 2, "Wittenberg", NULL},
    {"15087", 0.5, 3, "Mansfeld-", "Südharz"},
    {"15088", 1.5, 3, "Saalekreis", NULL},
    {"15082", 2.5, 3, "Anhalt-", "Bitterfeld"},
    {"15002", 2, 4, "Halle", "(Saale)"},
    {"15084", 1.5, 5, "Burgenland-", "kreis"},
};

#define TW 128
#define TH 74
#define GAP 6

/* ---- real boundaries from an operator's GeoJSON file ----------------------
 *
 * Loaded once before the server starts, read-only afterwards. Each district's
 * polygons become one SVG path in a viewBox MAP_W wide, projected
 * equirectangularly with the longitude scaled by cos(mean latitude), which
 * is close enough for a state of this size. Points closer than half a unit
 * to the previous one are dropped, so a detailed file stays small in pages. */
#define MAP_W 530
#define MAP_MAX_BYTES (32L * 1024 * 1024)

static struct geo {
    char code[8];
    char *path;     /* SVG path data */
    double lx, ly;  /* label position: centre of the largest ring's box */
    double larea;
} geo[16];
static int ngeo;
static int map_h;

static const char *feature_code(const json_t *props)
{
    static const char *const keys[] = {"code", "district", "ags", "AGS", "RS", "rs",
                                       "krs", "KRS", "kreisschluessel", NULL};
    for (int i = 0; keys[i]; i++) {
        const json_t *v = json_object_get(props, keys[i]);
        static _Thread_local char num[32];
        const char *s = NULL;
        if (json_is_string(v))
            s = json_string_value(v);
        else if (json_is_integer(v)) {
            snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
            s = num;
        }
        if (!s || strlen(s) < 5)
            continue;
        /* A Regionalschlüssel (12 digits) or AGS (8) starts with the code. */
        for (int k = 0; district_all()[k].code; k++) {
            const char *dc = district_all()[k].code;
            if (strlen(dc) == 5 && !strncmp(s, dc, 5))
                return dc;
        }
    }
    return NULL;
}

typedef struct bbox {
    double x0, y0, x1, y1;
} bbox;

/* Calls fn for every ring of a Polygon or MultiPolygon geometry. */
static int each_ring(const json_t *geom, int (*fn)(const json_t *ring, void *), void *ud)
{
    const char *type = json_string_value(json_object_get(geom, "type"));
    const json_t *coords = json_object_get(geom, "coordinates");
    if (!type || !json_is_array(coords))
        return -1;
    size_t i, j;
    const json_t *poly, *ring;
    if (!strcmp(type, "Polygon")) {
        json_array_foreach(coords, i, ring) if (fn(ring, ud)) return -1;
        return 0;
    }
    if (!strcmp(type, "MultiPolygon")) {
        json_array_foreach(coords, i, poly)
        {
            if (!json_is_array(poly))
                return -1;
            json_array_foreach(poly, j, ring) if (fn(ring, ud)) return -1;
        }
        return 0;
    }
    return -1;
}

static bool lonlat(const json_t *pt, double *lon, double *lat)
{
    const json_t *a = json_array_get(pt, 0), *b = json_array_get(pt, 1);
    if (!json_is_number(a) || !json_is_number(b))
        return false;
    *lon = json_number_value(a);
    *lat = json_number_value(b);
    return *lon >= -180 && *lon <= 180 && *lat >= -90 && *lat <= 90;
}

static int ring_bbox(const json_t *ring, void *ud)
{
    bbox *b = ud;
    size_t i;
    const json_t *pt;
    if (!json_is_array(ring) || json_array_size(ring) < 3)
        return -1;
    json_array_foreach(ring, i, pt)
    {
        double lon, lat;
        if (!lonlat(pt, &lon, &lat))
            return -1;
        b->x0 = fmin(b->x0, lon);
        b->x1 = fmax(b->x1, lon);
        b->y0 = fmin(b->y0, lat);
        b->y1 = fmax(b->y1, lat);
    }
    return 0;
}

typedef struct proj {
    bbox all;
    double kx, scale;
    buf *out;
    struct geo *g;
} proj;

static int ring_path(const json_t *ring, void *ud)
{
    proj *p = ud;
    size_t i;
    const json_t *pt;
    double px = 0, py = 0, rx0 = 1e9, ry0 = 1e9, rx1 = -1e9, ry1 = -1e9;
    int n = 0;
    json_array_foreach(ring, i, pt)
    {
        double lon, lat;
        lonlat(pt, &lon, &lat);
        double x = (lon - p->all.x0) * p->kx * p->scale, y = (p->all.y1 - lat) * p->scale;
        rx0 = fmin(rx0, x), rx1 = fmax(rx1, x), ry0 = fmin(ry0, y), ry1 = fmax(ry1, y);
        if (n && fabs(x - px) < 0.5 && fabs(y - py) < 0.5 && i + 1 < json_array_size(ring))
            continue;
        buf_printf(p->out, "%s%.1f %.1f", n ? "L" : "M", x, y);
        px = x, py = y, n++;
    }
    buf_printf(p->out, "Z");
    double area = (rx1 - rx0) * (ry1 - ry0);
    if (area > p->g->larea) {
        p->g->larea = area;
        p->g->lx = (rx0 + rx1) / 2;
        p->g->ly = (ry0 + ry1) / 2;
    }
    return 0;
}

static void map_free(void)
{
    for (int i = 0; i < ngeo; i++)
        free(geo[i].path);
    ngeo = 0;
}

int pt_map_load(const char *path, char *err, size_t errlen)
{
    map_free();
    if (!path || !*path)
        return 0;
    size_t len = 0;
    struct stat st;
    char *txt = stat(path, &st) == 0 && st.st_size <= MAP_MAX_BYTES ? util_read_file(path, &len)
                                                                     : NULL;
    if (!txt) {
        snprintf(err, errlen, "map_geojson: cannot read %s (at most 32 MiB)", path);
        return -1;
    }
    json_error_t je;
    json_t *doc = json_loadb(txt, len, 0, &je);
    free(txt);
    const json_t *features = json_object_get(doc, "features");
    if (!doc || !json_is_array(features)) {
        snprintf(err, errlen, "map_geojson: %s is not a GeoJSON FeatureCollection%s%s", path,
                 doc ? "" : ": ", doc ? "" : je.text);
        json_decref(doc);
        return -1;
    }
    bbox all = {1e9, 1e9, -1e9, -1e9};
    const char *codes[32];
    const json_t *geoms[32];
    int n = 0;
    size_t i;
    const json_t *f;
    json_array_foreach(features, i, f)
    {
        const char *code = feature_code(json_object_get(f, "properties"));
        if (!code)
            continue; /* other areas in the file (neighbouring states) */
        bool dup = false;
        for (int k = 0; k < n; k++)
            dup = dup || !strcmp(codes[k], code);
        const json_t *g = json_object_get(f, "geometry");
        if (dup || n == 32 || each_ring(g, ring_bbox, &all)) {
            snprintf(err, errlen,
                     "map_geojson: feature %zu (district %s): %s", i, code,
                     dup ? "the district appears twice"
                         : "the geometry must be a Polygon or MultiPolygon of [longitude, "
                           "latitude] positions");
            json_decref(doc);
            return -1;
        }
        codes[n] = code;
        geoms[n++] = g;
    }
    if (n == 0) {
        snprintf(err, errlen,
                 "map_geojson: no feature of %s names a district of Sachsen-Anhalt (property "
                 "code, ags or RS with the Kreisschlüssel, e.g. 15003)",
                 path);
        json_decref(doc);
        return -1;
    }
    double kx = cos((all.y0 + all.y1) / 2 * M_PI / 180);
    double wdeg = (all.x1 - all.x0) * kx, hdeg = all.y1 - all.y0;
    if (wdeg <= 0 || hdeg <= 0) {
        snprintf(err, errlen, "map_geojson: the districts' area in %s is empty", path);
        json_decref(doc);
        return -1;
    }
    proj p = {all, kx, MAP_W / wdeg, NULL, NULL};
    map_h = (int)ceil(hdeg * p.scale);
    for (int k = 0; k < n; k++) {
        buf b;
        buf_init(&b);
        struct geo *g = &geo[ngeo];
        memset(g, 0, sizeof *g);
        snprintf(g->code, sizeof g->code, "%s", codes[k]);
        p.out = &b;
        p.g = g;
        each_ring(geoms[k], ring_path, &p);
        if (b.oom) {
            buf_free(&b);
            json_decref(doc);
            snprintf(err, errlen, "map_geojson: out of memory");
            return -1;
        }
        g->path = buf_take(&b);
        ngeo++;
    }
    json_decref(doc);
    char nd[8];
    snprintf(nd, sizeof nd, "%d", ngeo);
    log_event(LOG_INFO, "portal.map_loaded", "file", path, "districts", nd, NULL);
    return 0;
}

bool pt_map_geojson(void)
{
    return ngeo > 0;
}

static void geo_map(pctx *c, char text[][32], const int *cls, const char *highlight, bool links)
{
    pt_outf(c,
            "<svg class=\"tilemap geomap\" viewBox=\"0 0 %d %d\" aria-hidden=\"true\" "
            "focusable=\"false\">",
            MAP_W, map_h);
    const district *all = district_all();
    for (int t = 0; t < ngeo; t++) {
        int i = -1;
        for (int k = 0; all[k].code; k++)
            if (!strcmp(all[k].code, geo[t].code))
                i = k;
        if (i < 0)
            continue;
        int k = cls[i] < 0 ? 0 : cls[i] > 5 ? 5 : cls[i];
        if (links) {
            pt_out(c, "<a href=\"");
            pt_hreff(c, "/kreise/%s", geo[t].code);
            pt_out(c, "\" tabindex=\"-1\">");
        }
        pt_out(c, "<g class=\"tile");
        if (highlight && !strcmp(highlight, geo[t].code))
            pt_out(c, " tile-hl");
        pt_out(c, "\"><title>");
        pt_esc(c, all[i].name);
        if (text[i][0]) {
            pt_out(c, ": ");
            pt_esc(c, text[i]);
        }
        pt_outf(c, "</title><path class=\"c%d\" d=\"%s\"/>", k, geo[t].path);
        pt_outf(c, "<text class=\"%s tval gval\" x=\"%.1f\" y=\"%.1f\">",
                k >= 4 ? "t-light" : "t-dark", geo[t].lx, geo[t].ly);
        pt_esc(c, text[i][0] ? text[i] : "–");
        pt_out(c, "</text></g>");
        if (links)
            pt_out(c, "</a>");
    }
    pt_out(c, "</svg>");
}

void pt_svg_tile_map(pctx *c, char text[][32], const int *cls, const char *highlight, bool links)
{
    if (ngeo) {
        geo_map(c, text, cls, highlight, links);
        return;
    }
    int w = 4 * (TW + GAP) - GAP, h = 6 * (TH + GAP) - GAP;
    pt_outf(c,
            "<svg class=\"tilemap\" viewBox=\"0 0 %d %d\" aria-hidden=\"true\" "
            "focusable=\"false\">",
            w, h);
    const district *all = district_all();
    for (size_t t = 0; t < sizeof tiles / sizeof tiles[0]; t++) {
        int i = -1;
        for (int k = 0; all[k].code; k++)
            if (!strcmp(all[k].code, tiles[t].code))
                i = k;
        if (i < 0)
            continue;
        int x = (int)lround(tiles[t].x * (TW + GAP)), y = (int)lround(tiles[t].y * (TH + GAP));
        bool hl = highlight && !strcmp(highlight, tiles[t].code);
        int k = cls[i] < 0 ? 0 : cls[i] > 5 ? 5 : cls[i];
        if (links) {
            pt_out(c, "<a href=\"");
            pt_hreff(c, "/kreise/%s", tiles[t].code);
            pt_out(c, "\" tabindex=\"-1\">");
        }
        pt_out(c, "<g class=\"tile");
        if (hl)
            pt_out(c, " tile-hl");
        pt_outf(c, "\"><title>");
        pt_esc(c, all[i].name);
        if (text[i][0]) {
            pt_out(c, ": ");
            pt_esc(c, text[i]);
        }
        pt_outf(c,
                "</title><rect class=\"c%d\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
                "rx=\"6\"/>",
                k, x, y, TW, TH);
        const char *tc = k >= 4 ? "t-light" : "t-dark";
        if (tiles[t].line2) {
            pt_outf(c, "<text class=\"%s tname\" x=\"%d\" y=\"%d\">", tc, x + 8, y + 18);
            pt_esc(c, tiles[t].line1);
            pt_outf(c, "<tspan x=\"%d\" dy=\"15\">", x + 8);
            pt_esc(c, tiles[t].line2);
            pt_out(c, "</tspan></text>");
        } else {
            pt_outf(c, "<text class=\"%s tname\" x=\"%d\" y=\"%d\">", tc, x + 8, y + 18);
            pt_esc(c, tiles[t].line1);
            pt_out(c, "</text>");
        }
        pt_outf(c, "<text class=\"%s tval\" x=\"%d\" y=\"%d\">", tc, x + TW - 8, y + TH - 10);
        pt_esc(c, text[i][0] ? text[i] : "–");
        pt_out(c, "</text></g>");
        if (links)
            pt_out(c, "</a>");
    }
    pt_out(c, "</svg>");
}

void pt_svg_status_bar(pctx *c, const long long counts[PORTAL_STATUSES])
{
    long long total = 0;
    for (int i = 0; i < PORTAL_STATUSES; i++)
        total += counts[i];
    pt_out(c, "<svg class=\"sbar\" viewBox=\"0 0 100 10\" preserveAspectRatio=\"none\" "
              "aria-hidden=\"true\" focusable=\"false\">");
    if (!total) {
        pt_out(c, "<rect class=\"st-none\" width=\"100\" height=\"10\"/></svg>");
        return;
    }
    double x = 0;
    for (int i = 0; i < PORTAL_STATUSES; i++) {
        if (!counts[i])
            continue;
        double wd = 100.0 * (double)counts[i] / (double)total;
        pt_outf(c, "<rect class=\"st-%s\" x=\"%.2f\" width=\"%.2f\" height=\"10\"/>",
                portal_statuses[i], x, wd);
        x += wd;
    }
    pt_out(c, "</svg>");
}

/* A "nice" upper bound for an axis: 1, 2, 2.5 or 5 times a power of ten. */
static double nice_max(double v)
{
    if (v <= 0)
        return 1;
    double p = pow(10, floor(log10(v)));
    static const double steps[] = {1, 2, 2.5, 5, 10};
    for (int i = 0; i < 5; i++)
        if (steps[i] * p >= v)
            return steps[i] * p;
    return 10 * p;
}

static void num_txt(pctx *c, double v, char *o, size_t n)
{
    if (fabs(v - round(v)) < 1e-9)
        snprintf(o, n, "%.0f", v);
    else {
        snprintf(o, n, "%.1f", v);
        if (!c->en)
            for (char *p = o; *p; p++)
                if (*p == '.')
                    *p = ',';
    }
}

static void short_date(pctx *c, const char *iso, char *o, size_t n)
{
    if (!iso || strlen(iso) < 10)
        snprintf(o, n, "%s", iso ? iso : "");
    else if (c->en)
        snprintf(o, n, "%.7s", iso);
    else
        snprintf(o, n, "%.2s.%.2s.%.2s", iso + 8, iso + 5, iso + 2);
}

void pt_svg_indicator(pctx *c, const json_t *ind, int hlevel)
{
    const char *name = json_string_value(json_object_get(ind, "name"));
    const char *unit = json_string_value(json_object_get(ind, "unit"));
    const json_t *base = json_object_get(ind, "baseline"), *target = json_object_get(ind, "target");
    const json_t *vals = json_object_get(ind, "values");
    pt_outf(c, "<section class=\"indicator\"><h%d>", hlevel);
    pt_esc(c, name);
    if (unit && *unit) {
        pt_out(c, " <span class=\"unit\">(");
        pt_esc(c, unit);
        pt_out(c, ")</span>");
    }
    pt_outf(c, "</h%d>", hlevel);

    /* The bars: the baseline, then the latest values (at most 12). */
    size_t nv = json_array_size(vals), first = nv > 12 ? nv - 12 : 0;
    int nbars = (json_is_number(base) ? 1 : 0) + (int)(nv - first);
    double maxv = 0;
    if (json_is_number(base))
        maxv = fmax(maxv, json_number_value(base));
    if (json_is_number(target))
        maxv = fmax(maxv, json_number_value(target));
    for (size_t i = 0; i < nv; i++)
        maxv = fmax(maxv, json_number_value(json_object_get(json_array_get(vals, i), "value")));
    double top = nice_max(maxv);
    const int W = 480, H = 220, L = 52, R = 84, T0 = 16, B = 36;
    int pw = W - L - R, ph = H - T0 - B;
    char tid[16], did[16];
    pt_new_id(c, tid);
    pt_new_id(c, did);
    pt_outf(c,
            "<figure class=\"chart\"><svg class=\"ichart\" viewBox=\"0 0 %d %d\" role=\"img\" "
            "aria-labelledby=\"%s %s\" focusable=\"false\"><title id=\"%s\">",
            W, H, tid, did, tid);
    pt_esc(c, pt_msg(c, "chart.title"));
    pt_out(c, ": ");
    pt_esc(c, name);
    pt_outf(c, "</title><desc id=\"%s\">", did);
    char t1[48], t2[48];
    if (json_is_number(base)) {
        num_txt(c, json_number_value(base), t1, sizeof t1);
        pt_outf(c, "%s %s. ", pt_msg(c, "ind.baseline"), t1);
    }
    if (nv) {
        const json_t *last = json_array_get(vals, nv - 1);
        num_txt(c, json_number_value(json_object_get(last, "value")), t1, sizeof t1);
        pt_outf(c, "%s %s (", pt_msg(c, "ind.latest"), t1);
        pt_fmt_date(c, json_string_value(json_object_get(last, "date")));
        pt_out(c, "). ");
    }
    if (json_is_number(target)) {
        num_txt(c, json_number_value(target), t1, sizeof t1);
        pt_outf(c, "%s %s. ", pt_msg(c, "ind.target"), t1);
    }
    pt_esc(c, pt_msg(c, "chart.table_follows"));
    pt_out(c, "</desc>");
    /* Axis and grid: 0, half, top. */
    for (int g = 0; g <= 2; g++) {
        double v = top * g / 2;
        int y = T0 + ph - (int)lround(ph * g / 2.0);
        num_txt(c, v, t1, sizeof t1);
        pt_outf(c,
                "<line class=\"grid\" x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\"/>"
                "<text class=\"axis\" x=\"%d\" y=\"%d\">%s</text>",
                L, L + pw, y, y, L - 6, y + 4, t1);
    }
    if (nbars > 0) {
        double slot = (double)pw / nbars;
        double bw = fmin(slot * 0.6, 56);
        int k = 0;
        for (int pass = 0; pass < 2; pass++) {
            size_t from = pass ? first : 0, to = pass ? nv : (json_is_number(base) ? 1 : 0);
            for (size_t i = from; i < to; i++, k++) {
                double v;
                const char *label_date = NULL;
                if (!pass) {
                    v = json_number_value(base);
                } else {
                    const json_t *e = json_array_get(vals, i);
                    v = json_number_value(json_object_get(e, "value"));
                    label_date = json_string_value(json_object_get(e, "date"));
                }
                double bh = v > 0 ? ph * v / top : 0;
                double x = L + slot * k + (slot - bw) / 2;
                pt_outf(c,
                        "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>",
                        pass ? "b-value" : "b-base", x, T0 + ph - bh, bw, bh);
                num_txt(c, v, t1, sizeof t1);
                pt_outf(c, "<text class=\"bval\" x=\"%.1f\" y=\"%.1f\">%s</text>", x + bw / 2,
                        T0 + ph - bh - 4, t1);
                if (pass)
                    short_date(c, label_date, t2, sizeof t2);
                else
                    snprintf(t2, sizeof t2, "%s", pt_msg(c, "ind.baseline_short"));
                pt_outf(c, "<text class=\"blabel\" x=\"%.1f\" y=\"%d\">", x + bw / 2, H - B + 16);
                pt_esc(c, t2);
                pt_out(c, "</text>");
            }
        }
    }
    if (json_is_number(target)) {
        double v = json_number_value(target);
        double y = T0 + ph - ph * v / top;
        num_txt(c, v, t1, sizeof t1);
        pt_outf(c,
                "<line class=\"target\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\"/>"
                "<text class=\"tlabel\" x=\"%d\" y=\"%.1f\">",
                L, L + pw, y, y, L + pw + 4, y + 4);
        pt_esc(c, pt_msg(c, "ind.target_short"));
        pt_outf(c, " %s</text>", t1);
    }
    pt_outf(c, "<line class=\"axisline\" x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\"/>", L, L + pw,
            T0 + ph, T0 + ph);
    pt_out(c, "</svg>");
    if (nv > 12) {
        pt_out(c, "<figcaption>");
        pt_esc(c, pt_msg(c, "chart.last12"));
        pt_out(c, "</figcaption>");
    }
    pt_out(c, "</figure>");

    /* The same numbers as a table. */
    char id[16];
    pt_new_id(c, id);
    pt_outf(c,
            "<div class=\"table-wrap\" role=\"region\" tabindex=\"0\" aria-labelledby=\"%s\">"
            "<table class=\"values\"><caption id=\"%s\">",
            id, id);
    pt_esc(c, pt_msg(c, "ind.values"));
    pt_out(c, ": ");
    pt_esc(c, name);
    pt_out(c, "</caption><thead><tr><th scope=\"col\">");
    pt_esc(c, pt_msg(c, "ind.point"));
    pt_out(c, "</th><th scope=\"col\" class=\"num\">");
    pt_esc(c, pt_msg(c, "ind.value"));
    if (unit && *unit) {
        pt_out(c, " (");
        pt_esc(c, unit);
        pt_out(c, ")");
    }
    pt_out(c, "</th></tr></thead><tbody>");
    if (json_is_number(base)) {
        pt_out(c, "<tr><th scope=\"row\">");
        pt_esc(c, pt_msg(c, "ind.baseline"));
        pt_out(c, "</th><td class=\"num\">");
        pt_fmt_num(c, json_number_value(base));
        pt_out(c, "</td></tr>");
    }
    for (size_t i = 0; i < nv; i++) {
        const json_t *e = json_array_get(vals, i);
        pt_out(c, "<tr><th scope=\"row\"><time datetime=\"");
        pt_esc(c, json_string_value(json_object_get(e, "date")));
        pt_out(c, "\">");
        pt_fmt_date(c, json_string_value(json_object_get(e, "date")));
        pt_out(c, "</time></th><td class=\"num\">");
        pt_fmt_num(c, json_number_value(json_object_get(e, "value")));
        pt_out(c, "</td></tr>");
    }
    if (json_is_number(target)) {
        pt_out(c, "<tr><th scope=\"row\">");
        pt_esc(c, pt_msg(c, "ind.target"));
        pt_out(c, "</th><td class=\"num\">");
        pt_fmt_num(c, json_number_value(target));
        pt_out(c, "</td></tr>");
    }
    pt_out(c, "</tbody></table></div></section>");
}
