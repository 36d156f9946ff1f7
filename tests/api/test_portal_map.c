/* The portal map with real district boundaries (config key map_geojson):
 *  - a state node given a GeoJSON FeatureCollection draws one SVG path per
 *    district instead of the schematic tiles, each linked to its district
 *    page and coloured like the tiles, whatever property names the
 *    Kreisschlüssel (code, RS with 12 digits, AGS as a number); features of
 *    other areas are ignored; Polygon and MultiPolygon both work;
 *  - the data table beside the map still lists all 14 districts;
 *  - without the key the tiles are drawn;
 *  - a file that cannot be used stops `dinet serve` with a message naming
 *    map_geojson and the problem, before anything listens. */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Where each district's square goes (columns/rows, like the tile map). */
static const struct {
    const char *code;
    double x, y;
} where[] = {{"15081", 0.5, 0}, {"15090", 1.5, 0}, {"15083", 0.5, 1}, {"15003", 1.5, 1},
             {"15086", 2.5, 1}, {"15085", 0, 2},   {"15089", 1, 2},   {"15001", 2, 2},
             {"15091", 3, 2},   {"15087", 0.5, 3}, {"15088", 1.5, 3}, {"15082", 2.5, 3},
             {"15002", 2, 4},   {"15084", 1.5, 5}};

static void square(FILE *f, double x, double y)
{
    double lon = 10.6 + x * 0.45, lat = 53.0 - y * 0.35;
    fprintf(f, "[[%.4f,%.4f],[%.4f,%.4f],[%.4f,%.4f],[%.4f,%.4f],[%.4f,%.4f]]", lon, lat,
            lon + 0.4, lat, lon + 0.4, lat - 0.3, lon, lat - 0.3, lon, lat);
}

static void write_geojson(const char *path)
{
    FILE *f = fopen(path, "w");
    fputs("{\"type\":\"FeatureCollection\",\"features\":[", f);
    for (size_t i = 0; i < sizeof where / sizeof where[0]; i++) {
        fputs(i ? "," : "", f);
        fputs("{\"type\":\"Feature\",\"properties\":", f);
        if (i % 3 == 0)
            fprintf(f, "{\"code\":\"%s\"}", where[i].code);
        else if (i % 3 == 1)
            fprintf(f, "{\"RS\":\"%s0000000\",\"GEN\":\"x\"}", where[i].code);
        else
            fprintf(f, "{\"AGS\":%s000}", where[i].code);
        if (i == 3) { /* Magdeburg as a MultiPolygon of two parts */
            fputs(",\"geometry\":{\"type\":\"MultiPolygon\",\"coordinates\":[[", f);
            square(f, where[i].x, where[i].y);
            fputs("],[", f);
            square(f, where[i].x + 0.1, where[i].y + 0.1);
            fputs("]]}}", f);
        } else {
            fputs(",\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[", f);
            square(f, where[i].x, where[i].y);
            fputs("]}}", f);
        }
    }
    /* Berlin: not in Sachsen-Anhalt, ignored. */
    fputs(",{\"type\":\"Feature\",\"properties\":{\"code\":\"11000\"},\"geometry\":{\"type\":"
          "\"Polygon\",\"coordinates\":[",
          f);
    square(f, 8, 2);
    fputs("]}}]}", f);
    fclose(f);
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* The <svg class="tilemap ..."> element of a page, copied. */
static char *map_svg(const char *html)
{
    const char *a = strstr(html, "<svg class=\"tilemap");
    const char *b = a ? strstr(a, "</svg>") : NULL;
    if (!b)
        return strdup("");
    return strndup(a, (size_t)(b - a) + 6);
}

/* Runs `dinet serve` on a node whose map file is bad; returns its exit code
 * and its stderr in out. */
static int serve_fails(const char *data, char *out, size_t outlen)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "timeout 20 '%s' serve --data '%s' --listen 127.0.0.1:%d 2>&1",
             getenv("DINET_BIN"), data, tl_free_port());
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t n = fread(out, 1, outlen - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void set_map(const tl_node *n, const char *file)
{
    char conf[800];
    snprintf(conf, sizeof conf, "%s/dinet.conf", tl_node_data(n));
    FILE *f = fopen(conf, "a");
    fprintf(f, "map_geojson = %s\n", file);
    fclose(f);
}

int main(void)
{
    char *dir = tl_tmpdir("map");
    char good[700], path[800];
    snprintf(good, sizeof good, "%s/kreise.geojson", dir);
    write_geojson(good);
    char line[800];
    snprintf(line, sizeof line, "map_geojson = %s", good);
    const char *conf[] = {line, NULL};

    tl_node s;
    if (tl_node_setup_state(&s, "map-state", conf)) {
        fprintf(stderr, "state node setup failed\n");
        return 1;
    }
    tl_resp r;
    tl_api(&r, &s, "GET", "/", NULL, NULL, NULL);
    CHECK_INT(r.status, 200, "start page");
    char *svg = map_svg(r.body ? r.body : "");
    CHECK(strstr(svg, "class=\"tilemap geomap\"") != NULL, "the map is drawn from the GeoJSON");
    CHECK_INT(count(svg, "<path class=\"c"), 14, "one path per district (Berlin ignored)");
    CHECK_INT(count(svg, "<rect"), 0, "no tiles");
    for (size_t i = 0; i < sizeof where / sizeof where[0]; i++) {
        snprintf(path, sizeof path, "href=\"/kreise/%s\"", where[i].code);
        CHECK(strstr(svg, path) != NULL, "the map links %s", where[i].code);
    }
    /* Magdeburg's two parts are one path with two rings. */
    const char *md = strstr(svg, "/kreise/15003");
    const char *d = md ? strstr(md, " d=\"") : NULL;
    const char *e = d ? strchr(d + 4, '"') : NULL;
    int rings = 0;
    for (const char *q = d; q && q < e; q++)
        rings += *q == 'Z';
    CHECK_INT(rings, 2, "a MultiPolygon becomes one path with both rings");
    CHECK(strstr(r.body, "Karte der Kreise") != NULL, "the caption says it is a map");
    /* The table beside the map names all 14 districts. */
    CHECK(strstr(r.body, "Altmarkkreis Salzwedel") && strstr(r.body, "Burgenlandkreis") &&
              strstr(r.body, "Halle (Saale)"),
          "the data table still lists the districts");
    free(svg);
    tl_resp_free(&r);
    CHECK_INT(tl_server_stop(&s.srv), 0, "the state stops");
    free(s.dir);

    /* Without the key: the tiles. */
    tl_node t;
    if (tl_node_setup_state(&t, "map-tiles", NULL) == 0) {
        tl_api(&r, &t, "GET", "/", NULL, NULL, NULL);
        svg = map_svg(r.body ? r.body : "");
        CHECK_INT(count(svg, "<rect class=\"c"), 14, "the tile map has 14 tiles");
        CHECK_INT(count(svg, "<path"), 0, "and no paths");
        free(svg);
        tl_resp_free(&r);
        tl_server_stop(&t.srv);
        free(t.dir);
    } else {
        CHECK(0, "second state node");
    }

    /* Files that cannot be used stop serve with a clear message. */
    static const struct {
        const char *name, *content, *expect;
    } bad[] = {
        {"broken.geojson", "{\"type\":\"FeatureCollection\",\"features\":[", "not a GeoJSON"},
        {"none.geojson",
         "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"properties\":"
         "{\"code\":\"11000\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[13,52],"
         "[13.5,52],[13.5,52.5],[13,52]]]}}]}",
         "no feature"},
        {"point.geojson",
         "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"properties\":"
         "{\"code\":\"15003\"},\"geometry\":{\"type\":\"Point\",\"coordinates\":[11.6,52.1]}}]}",
         "Polygon or MultiPolygon"},
        {"missing.geojson", NULL, "cannot read"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tl_node b;
        if (tl_node_setup_state(&b, "map-bad", NULL)) {
            CHECK(0, "state node for %s", bad[i].name);
            free(b.dir);
            continue;
        }
        tl_server_stop(&b.srv);
        snprintf(path, sizeof path, "%s/%s", dir, bad[i].name);
        if (bad[i].content) {
            FILE *f = fopen(path, "w");
            fputs(bad[i].content, f);
            fclose(f);
        }
        set_map(&b, path);
        char out[4096];
        int rc = serve_fails(tl_node_data(&b), out, sizeof out);
        CHECK(rc == 1 && strstr(out, "map_geojson") && strstr(out, bad[i].expect),
              "%s: serve refuses with a message (exit %d): %s", bad[i].name, rc, out);
        free(b.dir);
    }
    free(dir);
    return tl_done();
}
