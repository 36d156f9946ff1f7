/* Inline SVG for the portal: the schematic tile map of the 14 districts,
 * status bars and indicator charts. Colours come from classes in the style
 * sheet (the CSP allows no inline styles); every chart has its numbers in
 * text or a table next to it. */
#include "portal_internal.h"
#include "district.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

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

void pt_svg_tile_map(pctx *c, char text[][32], const int *cls, const char *highlight, bool links)
{
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
