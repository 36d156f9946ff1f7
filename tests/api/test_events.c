/* Events on real nodes: a district (15003) registered on a state node.
 *
 *  1. create, validation (problem+json naming the field), roles;
 *  2. the AS2 Event carries the fields Mobilizon reads;
 *  3. the .ics parses with an independent RFC 5545 reader written here
 *     (unfolding, TEXT unescaping) and every field equals the AS2 object,
 *     including commas, semicolons, backslashes, newlines and folding of
 *     non-ASCII text; every physical line is at most 75 octets and ends
 *     with CRLF;
 *  4. update with If-Match, stale writes, delete (410);
 *  5. the event reaches the state through federation, appears in the
 *     state's /api/v1/events and /events.ics, and its deletion follows;
 *  6. an event whose delivery failed reaches the state by the backfill;
 *  7. a node that is not a registered district cannot place events there. */
#include "testlib.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static tl_node S, D, X;

/* ---- a small RFC 5545 reader ------------------------------------------------ */

/* Checks the physical lines: CRLF endings only, at most 75 octets, valid
 * UTF-8 on every line (a fold never splits a character). Returns the number
 * of problems; *folds counts continuation lines. */
static int ics_check_lines(const char *t, int *folds)
{
    int bad = 0;
    *folds = 0;
    const char *p = t;
    while (*p) {
        const char *e = strstr(p, "\r\n");
        if (!e) {
            bad++;
            break;
        }
        size_t n = (size_t)(e - p);
        if (n > 75)
            bad++;
        if (memchr(p, '\n', n) || memchr(p, '\r', n))
            bad++;
        if (*p == ' ')
            (*folds)++;
        /* UTF-8 validity of this line alone. */
        for (size_t i = 0; i < n;) {
            unsigned char c = (unsigned char)p[i];
            size_t k = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
                                  : (c & 0xF8) == 0xF0   ? 4
                                                         : 0;
            if (!k || i + k > n) {
                bad++;
                break;
            }
            for (size_t j = 1; j < k; j++)
                if (((unsigned char)p[i + j] & 0xC0) != 0x80)
                    bad++;
            i += k;
        }
        p = e + 2;
    }
    return bad;
}

static char *unescape_text(const char *v)
{
    char *o = malloc(strlen(v) + 1), *q = o;
    for (const char *p = v; *p; p++) {
        if (*p == '\\' && p[1]) {
            p++;
            *q++ = *p == 'n' || *p == 'N' ? '\n' : *p;
        } else {
            *q++ = *p;
        }
    }
    *q = '\0';
    return o;
}

/* Parses a VCALENDAR into [{PROP: value}] of its VEVENTs (TEXT values
 * unescaped, URL/DT* as they are). */
static json_t *ics_parse(const char *text)
{
    /* Unfold: CRLF followed by a space or tab joins lines. */
    size_t n = strlen(text);
    char *u = malloc(n + 1), *q = u;
    for (size_t i = 0; i < n; i++) {
        if (text[i] == '\r' && text[i + 1] == '\n' && (text[i + 2] == ' ' || text[i + 2] == '\t')) {
            i += 2;
            continue;
        }
        *q++ = text[i];
    }
    *q = '\0';
    json_t *events = json_array(), *cur = NULL;
    char *save = NULL;
    for (char *line = strtok_r(u, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        *colon = '\0';
        char *name = line, *value = colon + 1;
        char *semi = strchr(name, ';');
        if (semi)
            *semi = '\0';
        if (!strcmp(name, "BEGIN") && !strcmp(value, "VEVENT")) {
            cur = json_object();
        } else if (!strcmp(name, "END") && !strcmp(value, "VEVENT") && cur) {
            json_array_append_new(events, cur);
            cur = NULL;
        } else if (cur) {
            bool is_text = !strcmp(name, "SUMMARY") || !strcmp(name, "DESCRIPTION") ||
                           !strcmp(name, "LOCATION") || !strcmp(name, "UID");
            char *v = is_text ? unescape_text(value) : strdup(value);
            json_object_set_new(cur, name, json_string(v));
            free(v);
        }
    }
    json_decref(cur);
    free(u);
    return events;
}

/* "2027-03-01T08:30:00Z" → "20270301T083000Z". */
static void ics_form(const char *iso, char out[20])
{
    snprintf(out, 20, "%.4s%.2s%.2sT%.2s%.2s%.2sZ", iso, iso + 5, iso + 8, iso + 11, iso + 14,
             iso + 17);
}

/* Compares the VEVENT of a calendar with an AS2 Event; returns mismatches. */
static int compare_event(const json_t *ev, const json_t *as2, const char *where)
{
    int bad = 0;
    char s[20], e[20];
    ics_form(tl_jstr(as2, "startTime") ? tl_jstr(as2, "startTime") : "????????????????????", s);
    ics_form(tl_jstr(as2, "endTime") ? tl_jstr(as2, "endTime") : "????????????????????", e);
    const json_t *loc = json_object_get(as2, "location");
    char location[1200];
    snprintf(location, sizeof location, "%s, %s", tl_jstr(loc, "name"), tl_jstr(loc, "address"));
    const char *pairs[][3] = {
        {"UID", tl_jstr(as2, "id"), "UID = id"},
        {"URL", tl_jstr(as2, "url"), "URL = url"},
        {"SUMMARY", tl_jstr(as2, "name"), "SUMMARY = name"},
        {"DTSTART", s, "DTSTART = startTime"},
        {"DTEND", e, "DTEND = endTime"},
        {"DESCRIPTION", tl_jstr(json_object_get(as2, "source"), "content"),
         "DESCRIPTION = source.content"},
        {"LOCATION", location, "LOCATION = location name, address"},
        {"LAST-MODIFIED", NULL, "LAST-MODIFIED = updated"},
    };
    char lm[20];
    if (tl_jstr(as2, "updated")) {
        ics_form(tl_jstr(as2, "updated"), lm);
        pairs[7][1] = lm;
    }
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        const char *got = tl_jstr(ev, pairs[i][0]);
        bool ok = got && pairs[i][1] && !strcmp(got, pairs[i][1]);
        CHECK(ok, "%s: %s: got '%s', want '%s'", where, pairs[i][2], got ? got : "(none)",
              pairs[i][1] ? pairs[i][1] : "(none)");
        bad += !ok;
    }
    const char *stamp = tl_jstr(ev, "DTSTAMP");
    CHECK(stamp && strlen(stamp) == 16 && stamp[8] == 'T' && stamp[15] == 'Z',
          "%s: DTSTAMP in UTC: %s", where, stamp ? stamp : "(none)");
    return bad;
}

/* ---- the tests ----------------------------------------------------------------- */

static const char *NAME = "Fachtag <Sprache>, Teil 1; \"Eltern\" \\ Kita";
static const char *CONTENT =
    "Zeile eins; mit Komma, Semikolon und Backslash \\.\nZweite Zeile: Begrüßung durch die "
    "Integrationsbeauftragte, danach Workshops zu Sprachförderung für Familien – "
    "العربية und Українська willkommen.\n\nDritter Absatz.";
static char event_id[64], event_url[256];

static void validation(void)
{
    struct {
        const char *body, *field, *what;
    } cases[] = {
        {"{\"name\":\"x\",\"start_time\":\"2027-03-01T10:00:00Z\",\"end_time\":"
         "\"2027-03-01T09:00:00Z\"}",
         "end_time", "end before start"},
        {"{\"start_time\":\"2027-03-01T10:00:00Z\",\"end_time\":\"2027-03-01T11:00:00Z\"}", "name",
         "name missing"},
        {"{\"name\":\"x\",\"start_time\":\"morgen\",\"end_time\":\"2027-03-01T11:00:00Z\"}",
         "start_time", "bad start time"},
        {"{\"name\":\"x\",\"start_time\":\"2027-03-01T10:00:00Z\"}", "end_time", "end missing"},
        {"{\"name\":\"x\",\"start_time\":\"2027-03-01T10:00:00Z\",\"end_time\":"
         "\"2027-03-01T11:00:00Z\",\"colour\":\"red\"}",
         "colour", "unknown field"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tl_resp r;
        tl_api(&r, &D, "POST", "/api/v1/events", D.token[TL_EDITOR], cases[i].body, NULL);
        char *ct = tl_header(&r, "Content-Type");
        json_t *e0 = json_array_get(json_object_get(r.json, "errors"), 0);
        CHECK(r.status == 422 && ct && strstr(ct, "application/problem+json") &&
                  tl_jstr(e0, "field") && !strcmp(tl_jstr(e0, "field"), cases[i].field),
              "%s: 422 problem naming %s (got %ld, %s)", cases[i].what, cases[i].field, r.status,
              tl_jstr(e0, "field") ? tl_jstr(e0, "field") : "-");
        free(ct);
        tl_resp_free(&r);
    }
    char longname[400];
    memset(longname, 'a', 201);
    longname[201] = '\0';
    char body[700];
    snprintf(body, sizeof body,
             "{\"name\":\"%s\",\"start_time\":\"2027-03-01T10:00:00Z\",\"end_time\":"
             "\"2027-03-01T11:00:00Z\"}",
             longname);
    tl_resp r;
    tl_api(&r, &D, "POST", "/api/v1/events", D.token[TL_EDITOR], body, NULL);
    CHECK_INT(r.status, 422, "a name of 201 characters");
    tl_resp_free(&r);
    const char *ok = "{\"name\":\"x\",\"start_time\":\"2027-03-01T10:00:00Z\",\"end_time\":"
                     "\"2027-03-01T11:00:00Z\"}";
    tl_api(&r, &D, "POST", "/api/v1/events", D.token[TL_VIEWER], ok, NULL);
    CHECK_INT(r.status, 403, "a viewer cannot create events");
    tl_resp_free(&r);
    tl_api(&r, &D, "POST", "/api/v1/events", NULL, ok, NULL);
    CHECK_INT(r.status, 401, "anonymous cannot create events");
    tl_resp_free(&r);
}

static void create_and_as2(void)
{
    json_t *in = json_pack("{s:s, s:s, s:s, s:{s:s, s:s}, s:s}", "name", NAME, "start_time",
                           "2027-03-01T09:30:00+01:00", "end_time", "2027-03-02T16:00:00Z",
                           "location", "name", "Rathaus Magdeburg, Saal 2",
                           "address", "Alter Markt 6; 39104 Magdeburg", "content", CONTENT);
    char *body = json_dumps(in, JSON_COMPACT);
    json_decref(in);
    tl_resp r;
    tl_api(&r, &D, "POST", "/api/v1/events", D.token[TL_EDITOR], body, NULL);
    free(body);
    CHECK_INT(r.status, 201, "an editor creates an event");
    CHECK_STR(tl_jstr(r.json, "start_time"), "2027-03-01T08:30:00Z", "start time normalised to UTC");
    char *etag = tl_header(&r, "ETag");
    CHECK_STR(etag, "\"1\"", "ETag of the new event");
    free(etag);
    snprintf(event_id, sizeof event_id, "%s", tl_jstr(r.json, "id") ? tl_jstr(r.json, "id") : "");
    snprintf(event_url, sizeof event_url, "%s", tl_jstr(r.json, "url") ? tl_jstr(r.json, "url") : "");
    tl_resp_free(&r);
    CHECK(event_id[0] && strstr(event_url, D.srv.base), "the event has an id and a URL");

    tl_api(&r, &D, "GET", "/api/v1/events", NULL, NULL, NULL);
    CHECK(r.status == 200 && json_array_size(json_object_get(r.json, "items")) == 1,
          "public list of upcoming events");
    tl_resp_free(&r);

    const char *acc[] = {"Accept: application/activity+json", NULL};
    tl_http(&r, "GET", event_url, acc, NULL, NULL);
    CHECK_INT(r.status, 200, "the event URL serves AS2");
    json_t *o = r.json;
    const json_t *loc = json_object_get(o, "location");
    CHECK_STR(tl_jstr(o, "type"), "Event", "type");
    CHECK_STR(tl_jstr(o, "id"), event_url, "id");
    CHECK_STR(tl_jstr(o, "url"), event_url, "url");
    CHECK_STR(tl_jstr(o, "name"), NAME, "name");
    CHECK_STR(tl_jstr(o, "startTime"), "2027-03-01T08:30:00Z", "startTime");
    CHECK_STR(tl_jstr(o, "endTime"), "2027-03-02T16:00:00Z", "endTime");
    CHECK_STR(tl_jstr(loc, "type"), "Place", "location.type");
    CHECK_STR(tl_jstr(loc, "name"), "Rathaus Magdeburg, Saal 2", "location.name");
    CHECK_STR(tl_jstr(loc, "address"), "Alter Markt 6; 39104 Magdeburg", "location.address");
    CHECK(tl_jstr(o, "content") && strstr(tl_jstr(o, "content"), "<p>Zeile eins") &&
              !strstr(tl_jstr(o, "content"), "<Sprache>"),
          "content is HTML with the text escaped");
    CHECK_STR(tl_jstr(json_object_get(o, "source"), "content"), CONTENT, "source.content");
    json_t *as2 = json_incref(o);
    tl_resp_free(&r);

    /* The .ics of the event. */
    char url[300];
    snprintf(url, sizeof url, "%s.ics", event_url);
    tl_http(&r, "GET", url, NULL, NULL, NULL);
    CHECK_INT(r.status, 200, "GET /events/ID.ics");
    char *ct = tl_header(&r, "Content-Type");
    CHECK(ct && !strcmp(ct, "text/calendar; charset=utf-8"), "Content-Type %s", ct ? ct : "");
    free(ct);
    int folds = 0;
    CHECK_INT(ics_check_lines(r.body ? r.body : "", &folds), 0,
              "CRLF lines of at most 75 octets, folds between characters");
    CHECK(folds >= 2, "the long description is folded (%d continuation lines)", folds);
    CHECK(r.body && strstr(r.body, "SUMMARY:Fachtag <Sprache>\\, Teil 1\\; \"Eltern\" \\\\ Kita\r\n"),
          "SUMMARY escapes comma, semicolon and backslash");
    CHECK(r.body && strstr(r.body, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:"),
          "a VCALENDAR with VERSION and PRODID");
    json_t *evs = ics_parse(r.body ? r.body : "");
    CHECK_INT(json_array_size(evs), 1, "one VEVENT");
    compare_event(json_array_get(evs, 0), as2, "district .ics");
    json_decref(evs);
    tl_resp_free(&r);

    /* The portal pages escape the text. */
    snprintf(url, sizeof url, "%s/events", D.srv.base);
    tl_http(&r, "GET", url, NULL, NULL, NULL);
    CHECK(r.status == 200 && r.body && strstr(r.body, "Fachtag &lt;Sprache&gt;") &&
              !strstr(r.body, "<Sprache>") && strstr(r.body, "Kommende Termine"),
          "the events page lists it, escaped, in German");
    tl_resp_free(&r);
    tl_http(&r, "GET", event_url, NULL, NULL, NULL);
    CHECK(r.status == 200 && r.body && strstr(r.body, "Fachtag &lt;Sprache&gt;") &&
              strstr(r.body, "Rathaus Magdeburg") && strstr(r.body, ".ics"),
          "the event page for browsers");
    tl_resp_free(&r);
    snprintf(url, sizeof url, "%s/", D.srv.base);
    tl_http(&r, "GET", url, NULL, NULL, NULL);
    CHECK(r.body && strstr(r.body, "href=\"/events\""), "the navigation links the events page");
    tl_resp_free(&r);
    json_decref(as2);
}

typedef struct state_want {
    const char *needle;
    bool present;
} state_want;

static bool state_has(void *arg)
{
    state_want *w = arg;
    tl_resp r;
    tl_api(&r, &S, "GET", "/api/v1/events", NULL, NULL, NULL);
    bool found = false;
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(r.json, "items"), i, e)
    {
        if (tl_jstr(e, "id") && !strcmp(tl_jstr(e, "id"), event_id) && tl_jstr(e, "name") &&
            strstr(tl_jstr(e, "name"), w->needle))
            found = true;
    }
    tl_resp_free(&r);
    return found == w->present;
}

static void update_and_federate(void)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/events/%s", event_id);
    state_want w = {"Teil 1", true};
    CHECK(tl_eventually(state_has, &w, 20), "the event reaches the state");

    tl_resp r;
    const char *upd = "{\"name\":\"Fachtag Sprache, Teil 2; neu\"}";
    tl_api(&r, &D, "PATCH", path, D.token[TL_EDITOR], upd, "If-Match: \"1\"");
    CHECK_INT(r.status, 200, "PATCH with If-Match");
    CHECK_INT(json_integer_value(json_object_get(r.json, "version")), 2, "version 2");
    tl_resp_free(&r);
    tl_api(&r, &D, "PATCH", path, D.token[TL_EDITOR], upd, "If-Match: \"1\"");
    CHECK_INT(r.status, 412, "a stale If-Match");
    tl_resp_free(&r);
    tl_api(&r, &D, "PATCH", path, D.token[TL_EDITOR], "{\"end_time\":\"2027-02-01T00:00:00Z\"}",
           NULL);
    json_t *e0 = json_array_get(json_object_get(r.json, "errors"), 0);
    CHECK(r.status == 422 && tl_jstr(e0, "field") && !strcmp(tl_jstr(e0, "field"), "end_time"),
          "PATCH to an end before the start: 422 naming end_time");
    tl_resp_free(&r);
    tl_api(&r, &D, "PATCH", path, D.token[TL_VIEWER], upd, NULL);
    CHECK_INT(r.status, 403, "a viewer cannot change events");
    tl_resp_free(&r);

    state_want w2 = {"Teil 2", true};
    CHECK(tl_eventually(state_has, &w2, 20), "the update reaches the state");
    tl_api(&r, &S, "GET", path, NULL, NULL, NULL);
    CHECK(r.status == 200 && tl_jstr(r.json, "district") && !strcmp(tl_jstr(r.json, "district"), "15003") &&
              tl_jstr(r.json, "home_url") && !strcmp(tl_jstr(r.json, "home_url"), event_url),
          "the state keeps the district and the home URL");
    tl_resp_free(&r);
    tl_api(&r, &S, "PATCH", path, S.token[TL_ADMIN], upd, NULL);
    CHECK_INT(r.status, 409, "the state never edits a district's event");
    tl_resp_free(&r);

    /* The state's calendar: parse it and compare with the district's AS2. */
    const char *acc[] = {"Accept: application/activity+json", NULL};
    tl_http(&r, "GET", event_url, acc, NULL, NULL);
    json_t *as2 = json_incref(r.json);
    tl_resp_free(&r);
    char url[300];
    snprintf(url, sizeof url, "%s/events.ics", S.srv.base);
    tl_http(&r, "GET", url, NULL, NULL, NULL);
    int folds = 0;
    CHECK_INT(ics_check_lines(r.body ? r.body : "", &folds), 0, "the state's .ics lines");
    json_t *evs = ics_parse(r.body ? r.body : "");
    tl_resp_free(&r);
    json_t *mine = NULL;
    size_t i;
    json_t *ev;
    json_array_foreach(evs, i, ev)
    {
        if (tl_jstr(ev, "UID") && !strcmp(tl_jstr(ev, "UID"), event_url))
            mine = ev;
    }
    CHECK(mine != NULL, "the state's /events.ics has the district's event");
    if (mine)
        compare_event(mine, as2, "state .ics");
    json_decref(evs);
    json_decref(as2);
    /* The state serves the district's object at its own /events/ID. */
    snprintf(url, sizeof url, "%s/events/%s", S.srv.base, event_id);
    tl_http(&r, "GET", url, acc, NULL, NULL);
    CHECK(r.status == 200 && tl_jstr(r.json, "id") && !strcmp(tl_jstr(r.json, "id"), event_url),
          "the state serves the district's Event (id on the district)");
    tl_resp_free(&r);

    /* Delete. */
    tl_api(&r, &D, "DELETE", path, D.token[TL_EDITOR], NULL, NULL);
    CHECK_INT(r.status, 200, "DELETE");
    tl_resp_free(&r);
    tl_api(&r, &D, "GET", path, NULL, NULL, NULL);
    CHECK_INT(r.status, 410, "a deleted event is gone");
    tl_resp_free(&r);
    tl_http(&r, "GET", event_url, acc, NULL, NULL);
    CHECK(r.status == 410 && tl_jstr(r.json, "type") && !strcmp(tl_jstr(r.json, "type"), "Tombstone"),
          "its URL answers a Tombstone");
    tl_resp_free(&r);
    state_want w3 = {"Teil", false};
    CHECK(tl_eventually(state_has, &w3, 20), "the deletion reaches the state");
    tl_http(&r, "GET", url, NULL, NULL, NULL);
    snprintf(url, sizeof url, "%s/events.ics", S.srv.base);
    tl_resp_free(&r);
    tl_http(&r, "GET", url, NULL, NULL, NULL);
    CHECK(r.body && !strstr(r.body, event_url), "and the state's calendar drops it");
    tl_resp_free(&r);

    /* The district's outbox holds Create, Update and Delete of the Event. */
    snprintf(url, sizeof url, "%s/actor/outbox?page=true", D.srv.base);
    tl_http(&r, "GET", url, acc, NULL, NULL);
    int seen = 0;
    json_array_foreach(json_object_get(r.json, "orderedItems"), i, ev)
    {
        json_t *o = json_object_get(ev, "object");
        const char *t = tl_jstr(ev, "type"), *ot = tl_jstr(o, "type");
        if (!t || !ot || !tl_jstr(o, "id") || strcmp(tl_jstr(o, "id"), event_url))
            continue;
        if (!strcmp(t, "Create") && !strcmp(ot, "Event"))
            seen |= 1;
        if (!strcmp(t, "Update") && !strcmp(ot, "Event"))
            seen |= 2;
        if (!strcmp(t, "Delete") && !strcmp(ot, "Tombstone"))
            seen |= 4;
    }
    CHECK_INT(seen, 7, "Create, Update and Delete of the Event in the outbox");
    tl_resp_free(&r);
}

static char late_id[64];

static bool state_has_late(void *arg)
{
    (void)arg;
    tl_resp r;
    char path[128];
    snprintf(path, sizeof path, "/api/v1/events/%s", late_id);
    tl_api(&r, &S, "GET", path, NULL, NULL, NULL);
    bool ok = r.status == 200 && tl_jstr(r.json, "name") && !strcmp(tl_jstr(r.json, "name"), "Nachgeholt");
    tl_resp_free(&r);
    return ok;
}

/* An event whose delivery failed (the state was down, and the district's
 * next retry is minutes away) reaches the state through the backfill from
 * the district's outbox when the state starts. */
static void backfill(void)
{
    CHECK_INT(tl_server_stop(&S.srv), 0, "stop the state");
    tl_resp r;
    tl_api(&r, &D, "POST", "/api/v1/events", D.token[TL_EDITOR],
           "{\"name\":\"Nachgeholt\",\"start_time\":\"2027-05-01T10:00:00Z\",\"end_time\":"
           "\"2027-05-01T12:00:00Z\"}",
           NULL);
    CHECK_INT(r.status, 201, "an event while the state is down");
    snprintf(late_id, sizeof late_id, "%s", tl_jstr(r.json, "id") ? tl_jstr(r.json, "id") : "");
    tl_resp_free(&r);
    usleep(1500000); /* the district's first delivery attempt fails */
    CHECK_INT(tl_node_restart(&S), 0, "restart the state");
    CHECK(tl_eventually(state_has_late, NULL, 20), "the state backfills the missed event");
}

static bool log_has(void *arg)
{
    return tl_log_count(&S, arg) > 0;
}

/* A node the state follows but that is not a registered district: its
 * events are refused. */
static void unregistered(void)
{
    const char *conf[] = {NULL};
    if (tl_node_setup_role(&X, "ev15088", "district", "15088", conf)) {
        CHECK(0, "setup of the unregistered node");
        return;
    }
    char actor[128];
    snprintf(actor, sizeof actor, "%s/actor", X.srv.base);
    const char *argv[] = {"follow", "--data", tl_node_data(&S), actor, NULL};
    CHECK_INT(tl_dinet(NULL, NULL, argv), 0, "the state follows an unregistered node");
    usleep(1500000); /* the Follow is delivered and accepted */
    tl_resp r;
    tl_api(&r, &X, "POST", "/api/v1/events", X.token[TL_EDITOR],
           "{\"name\":\"Fremdtermin\",\"start_time\":\"2027-06-01T10:00:00Z\",\"end_time\":"
           "\"2027-06-01T12:00:00Z\"}",
           NULL);
    CHECK_INT(r.status, 201, "the unregistered node creates an event");
    tl_resp_free(&r);
    char needle[200];
    snprintf(needle, sizeof needle, "%s is not a registered district", actor);
    CHECK(tl_eventually(log_has, needle, 20),
          "the state refuses its event");
    tl_api(&r, &S, "GET", "/api/v1/events", NULL, NULL, NULL);
    CHECK(r.body && !strstr(r.body, "Fremdtermin"), "and does not list it");
    tl_resp_free(&r);
    CHECK_INT(tl_server_stop(&X.srv), 0, "the unregistered node exits cleanly");
}

static bool state_follows(void *arg)
{
    (void)arg;
    tl_resp r;
    tl_api(&r, &S, "GET", "/api/v1/districts", NULL, NULL, NULL);
    json_t *d0 = json_array_get(r.json, 0);
    if (!d0)
        d0 = json_array_get(json_object_get(r.json, "items"), 0);
    bool ok = d0 && json_is_null(json_object_get(d0, "last_error")) &&
              json_object_get(d0, "last_sync") && !json_is_null(json_object_get(d0, "last_sync"));
    tl_resp_free(&r);
    tl_api(&r, &S, "GET", "/api/v1/federation/following", S.token[TL_VIEWER], NULL, NULL);
    json_t *f0 = json_array_get(json_object_get(r.json, "items"), 0);
    ok = ok && tl_jstr(f0, "state") && !strcmp(tl_jstr(f0, "state"), "accepted");
    tl_resp_free(&r);
    return ok;
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int fail = tl_node_setup_state(&S, "evstate", NULL);
    if (!fail)
    {
        /* Retries far apart, so that only the backfill can bring a missed
         * event (section backfill). */
        const char *conf[] = {"retry_base_ms = 600000", NULL};
        fail = tl_node_setup_role(&D, "ev15003", "district", "15003", conf);
    }
    if (fail) {
        CHECK(0, "node setup");
        return tl_done();
    }
    tl_resp r;
    char body[256];
    snprintf(body, sizeof body, "{\"code\":\"15003\",\"actor\":\"%s/actor\"}", D.srv.base);
    tl_api(&r, &S, "POST", "/api/v1/districts", S.token[TL_ADMIN], body, NULL);
    CHECK_INT(r.status, 201, "register the district");
    tl_resp_free(&r);
    CHECK(tl_eventually(state_follows, NULL, 20), "the state follows the district");
    validation();
    create_and_as2();
    update_and_federate();
    backfill();
    unregistered();
    CHECK_INT(tl_server_stop(&S.srv), 0, "the state exits cleanly");
    CHECK_INT(tl_server_stop(&D.srv), 0, "the district exits cleanly");
    curl_global_cleanup();
    return tl_done();
}
