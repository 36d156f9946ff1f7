/* Sample data; see sample.h. Texts are invented but realistic. */
#include "sample.h"
#include "district.h"
#include "record.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

struct sample_org {
    const char *name_fmt; /* %s = district name */
    const char *kind;
    const char *description;
    const char *fields; /* comma list */
    const char *languages;
};

static const struct sample_org orgs[] = {
    {"Integrationsbüro %s", "administration",
     "Koordinierungsstelle der Kommune für Integration: Netzwerkarbeit, Berichtswesen zum "
     "Landesintegrationskonzept und Ansprechpartner für Träger.",
     "HF1,HF2,HF5", "de,en"},
    {"Migrationsberatung für Erwachsene %s", "welfare",
     "Beratung zu Aufenthalt, Sprachkursen, Arbeit und Wohnen für Zugewanderte ab 27 Jahren.",
     "HF2,HF4", "de,ar,uk,ru,fa"},
    {"Volkshochschule %s", "education",
     "Integrationskurse, Berufssprachkurse und Alphabetisierungskurse mit Kinderbetreuung.",
     "HF3,HF4", "de,en,ar"},
    {"Verein Brücken bauen %s e. V.", "migrant_organisation",
     "Migrantenselbstorganisation mit Elterncafé, Hausaufgabenhilfe und Kulturabenden.",
     "HF3,HF5", "de,ar,ku,tr"},
    {"Ukrainische Gemeinschaft %s e. V.", "migrant_organisation",
     "Selbsthilfe, Lotsendienste und Begegnungsangebote für Geflüchtete aus der Ukraine.",
     "HF1,HF5", "uk,ru,de"},
    {"Jobcenter %s", "administration",
     "Vermittlung in Arbeit und Ausbildung, Anerkennungsberatung in Zusammenarbeit mit dem "
     "IQ Netzwerk.",
     "HF4", "de,en"},
    {"Gesundheitsamt %s", "administration",
     "Gesundheitsuntersuchungen, Impfberatung und mehrsprachige Gesundheitsinformationen.",
     "HF6", "de,en,ar"},
    {"Netzwerk für Demokratie und Toleranz %s", "civil_society",
     "Bündnis aus Vereinen, Kirchen und Verwaltung gegen Diskriminierung und Rassismus.",
     "HF7,HF5", "de"},
    {"Handwerkskammer-Beratungsstelle %s", "business",
     "Ausbildungsberatung und Begleitung von Betrieben, die Zugewanderte ausbilden.",
     "HF4", "de,en"},
};

struct sample_measure {
    const char *title;
    const char *description;
    const char *fields;
    const char *themes;
    const char *status;
    int progress;
    const char *start, *end;
    int lead;     /* index into orgs */
    int partner;  /* index or -1 */
    const char *target_groups;
    const char *indicator, *unit;
    double baseline, target, value;
    const char *ptitle, *ptext;
};

static const struct sample_measure measures[] = {
    {"Willkommenslotsen für Neuzugewanderte",
     "Ehrenamtliche Lotsinnen und Lotsen begleiten neu angekommene Familien in den ersten "
     "Wochen zu Ämtern, Schulen und Ärzten.",
     "HF1", "QT3", "active", 60, "2024-03-01", "2026-12-31", 4, 0,
     "Neuzugewanderte Familien,Geflüchtete", "Begleitete Familien", "Familien", 0, 120, 74,
     "Zweite Schulungsrunde abgeschlossen",
     "18 neue Lotsinnen und Lotsen haben die Schulung zu Behördenwegen abgeschlossen."},
    {"Mehrsprachige Erstorientierung im Bürgerbüro",
     "Orientierungsmappe in sechs Sprachen und feste Sprechzeiten mit Sprachmittlung im "
     "Bürgerbüro.",
     "HF1,HF2", "QT2", "completed", 100, "2023-01-15", "2024-06-30", 0, 1,
     "Neuzugewanderte", "Ausgegebene Orientierungsmappen", "Stück", 0, 1500, 1820,
     "Abschlussbericht vorgelegt",
     "Die Mappe wurde 1.820 Mal ausgegeben; die Sprechzeiten werden in den Regelbetrieb "
     "übernommen."},
    {"Aufsuchende Beratung in Gemeinschaftsunterkünften",
     "Beratungsteams kommen wöchentlich in die Unterkünfte und klären Fragen zu Aufenthalt, "
     "Schule und Arbeit.",
     "HF2", "QT2", "active", 45, "2025-01-01", "2027-12-31", 1, 0,
     "Bewohnerinnen und Bewohner von Gemeinschaftsunterkünften", "Beratungskontakte",
     "Kontakte", 0, 900, 410, "Sprechstunde in zweiter Unterkunft gestartet",
     "Seit Oktober gibt es auch dienstags eine Sprechstunde mit Dolmetscherin für Dari."},
    {"Sprachcafé und Hausaufgabenhilfe",
     "Wöchentliches Sprachcafé für Erwachsene und Hausaufgabenhilfe für Schulkinder in den "
     "Räumen des Vereins.",
     "HF3", "QT1,QT3", "active", 70, "2024-09-01", NULL, 3, 2,
     "Schulkinder,Eltern", "Teilnehmende pro Woche", "Personen", 10, 40, 33,
     "Neue Ehrenamtliche für Mathematik",
     "Zwei Lehramtsstudierende unterstützen jetzt die Hausaufgabenhilfe in Mathematik."},
    {"Berufssprachkurs Pflege",
     "Berufsbezogener Deutschkurs B2 mit Praxisphasen in Pflegeeinrichtungen der Region.",
     "HF3,HF6", "", "planned", 10, "2026-02-01", "2026-12-15", 2, 6,
     "Pflegekräfte mit ausländischem Abschluss", "Kursplätze", "Plätze", 0, 24, 0,
     "Kooperationsvertrag mit drei Pflegeheimen",
     "Drei Einrichtungen stellen Praxisplätze bereit; der Kursbeginn ist für Februar "
     "geplant."},
    {"Anerkennungslotsen für ausländische Berufsabschlüsse",
     "Begleitung durch das Anerkennungsverfahren bis zur Anpassungsqualifizierung.",
     "HF4", "QT2", "active", 55, "2024-05-01", "2026-04-30", 5, 8,
     "Fachkräfte mit ausländischem Abschluss", "Eingeleitete Anerkennungsverfahren",
     "Verfahren", 0, 150, 87, "Sprechtag in der Handwerkskammer",
     "Beim Sprechtag wurden 23 Personen zu Anerkennung im Handwerk beraten."},
    {"Ausbildungspatenschaften im Handwerk",
     "Betriebe und Ehrenamtliche begleiten junge Geflüchtete durch die Ausbildung.",
     "HF4", "QT3", "paused", 30, "2023-09-01", "2026-08-31", 8, 3,
     "Junge Geflüchtete,Ausbildungsbetriebe", "Laufende Patenschaften", "Patenschaften", 0,
     40, 14, "Pause wegen Personalwechsel",
     "Die Koordinationsstelle ist bis zur Neubesetzung im Frühjahr nicht besetzt."},
    {"Interkulturelle Woche",
     "Jährliche Veranstaltungswoche mit Vereinen, Schulen und Religionsgemeinschaften.",
     "HF5", "QT1,QT3", "completed", 100, "2025-09-20", "2025-09-28", 0, 7,
     "Allgemeine Öffentlichkeit", "Veranstaltungen", "Veranstaltungen", 12, 25, 31,
     "Rückblick auf die Interkulturelle Woche",
     "31 Veranstaltungen mit rund 2.400 Besucherinnen und Besuchern."},
    {"Beteiligungsforum Migrantenorganisationen",
     "Regelmäßiges Forum, in dem Migrantenorganisationen Empfehlungen an Verwaltung und "
     "Kreistag geben.",
     "HF5", "QT3", "active", 40, "2025-04-01", NULL, 0, 4,
     "Migrantenorganisationen", "Forumssitzungen", "Sitzungen", 0, 8, 3,
     "Empfehlung zur Kita-Platzvergabe",
     "Das Forum hat eine Empfehlung zu mehrsprachigen Informationen bei der "
     "Kita-Platzvergabe beschlossen."},
    {"Gesundheitslotsen mit Migrationsgeschichte",
     "Geschulte Lotsinnen und Lotsen informieren in ihrer Muttersprache über das "
     "Gesundheitssystem.",
     "HF6", "QT2", "active", 50, "2024-10-01", "2026-09-30", 6, 1,
     "Zugewanderte Familien", "Informationsveranstaltungen", "Veranstaltungen", 0, 30, 16,
     "Veranstaltung zu Kinderfrüherkennung",
     "Die Veranstaltung auf Arabisch und Kurdisch besuchten 27 Eltern."},
    {"Dolmetscherpool für Gesundheit und Pflege",
     "Abrufbarer Pool geschulter Sprachmittlerinnen und Sprachmittler für Arztpraxen und "
     "Pflegedienste.",
     "HF6,HF2", "QT2", "planned", 5, "2026-03-01", NULL, 6, -1,
     "Patientinnen und Patienten mit geringen Deutschkenntnissen", "Vermittelte Einsätze",
     "Einsätze", 0, 200, 0, "Förderantrag gestellt",
     "Der Antrag beim Land ist eingereicht; die Entscheidung wird im Januar erwartet."},
    {"Antidiskriminierungsberatung vor Ort",
     "Monatliche Beratungstage für Menschen, die Diskriminierung erlebt haben, mit "
     "Verweisberatung.",
     "HF7", "QT1", "active", 35, "2025-02-01", "2027-01-31", 7, 0,
     "Betroffene von Diskriminierung", "Beratungsfälle", "Fälle", 0, 60, 19,
     "Beratungstag im Stadtteilzentrum",
     "Der Beratungstag findet jetzt auch im Stadtteilzentrum statt."},
    {"Fortbildung Interkulturelle Öffnung der Verwaltung",
     "Fortbildungsreihe für Mitarbeitende der Kreisverwaltung zu Vielfalt und "
     "diskriminierungssensibler Sprache.",
     "HF7,HF1", "QT1", "cancelled", 20, "2024-01-10", "2024-12-31", 0, 7,
     "Mitarbeitende der Verwaltung", "Geschulte Mitarbeitende", "Personen", 0, 120, 25,
     "Reihe eingestellt",
     "Die Reihe wurde zugunsten eines landesweiten Angebots eingestellt."},
};

static json_t *split(const char *list)
{
    json_t *a = json_array();
    if (!list || !*list)
        return a;
    char copy[512], *save = NULL;
    snprintf(copy, sizeof copy, "%s", list);
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
        json_array_append_new(a, json_string(t));
    return a;
}

int sample_load(db *d, const config *cfg, char *err, size_t errlen)
{
    const district *dist = district_find(cfg->district);
    const char *dname = dist && strcmp(cfg->district, "15") ? dist->name : "Sachsen-Anhalt";
    /* Loading twice would duplicate everything. */
    sqlite3_stmt *st = db_stmt(d, "SELECT 1 FROM history WHERE actor='system:sample' LIMIT 1");
    bool loaded = st && sqlite3_step(st) == SQLITE_ROW;
    db_done(st);
    if (loaded) {
        snprintf(err, errlen, "the sample data is loaded already");
        return -1;
    }
    enum { NORG = sizeof orgs / sizeof orgs[0] };
    char ids[NORG][40];
    int n = 0;
    const char *actor = "system:sample";
    for (size_t i = 0; i < NORG; i++) {
        char name[256], desc[1024];
        snprintf(name, sizeof name, orgs[i].name_fmt, dname);
        snprintf(desc, sizeof desc, "%s (Beispieldaten)", orgs[i].description);
        json_t *in = json_pack("{s:s, s:s, s:s, s:o, s:o, s:{s:s}}", "name", name, "kind",
                               orgs[i].kind, "description", desc, "fields_of_action",
                               split(orgs[i].fields), "languages", split(orgs[i].languages),
                               "contact", "email", "kontakt@example.org");
        json_t *out = NULL, *errors = NULL;
        rec_status rs = record_create(d, REC_ORGANISATION, NULL, in, actor, &out, &errors);
        json_decref(in);
        if (rs != REC_OK) {
            char *e = errors ? json_dumps(errors, 0) : NULL;
            snprintf(err, errlen, "organisation %zu: status %d %s", i, rs, e ? e : "");
            free(e);
            json_decref(errors);
            return -1;
        }
        snprintf(ids[i], sizeof ids[i], "%s", json_string_value(json_object_get(out, "id")));
        json_decref(out);
        n++;
    }
    for (size_t i = 0; i < sizeof measures / sizeof measures[0]; i++) {
        const struct sample_measure *m = &measures[i];
        char desc[2048];
        snprintf(desc, sizeof desc, "%s (Beispieldaten, %s)", m->description, dname);
        json_t *partners = json_array();
        if (m->partner >= 0)
            json_array_append_new(partners, json_string(ids[m->partner]));
        json_t *ind = json_pack("[{s:s, s:s, s:f, s:f, s:[{s:s, s:f}]}]", "name", m->indicator,
                                "unit", m->unit, "baseline", m->baseline, "target", m->target,
                                "values", "date", "2025-06-30", "value", m->value);
        json_t *in = json_pack("{s:s, s:s, s:o, s:o, s:s, s:i, s:s?, s:s?, s:s, s:o, s:o, s:o}",
                               "title", m->title, "description", desc, "fields_of_action",
                               split(m->fields), "themes", split(m->themes), "status", m->status,
                               "progress", m->progress, "start_date", m->start, "end_date", m->end,
                               "lead_organisation", ids[m->lead], "partner_organisations",
                               partners, "target_groups", split(m->target_groups), "indicators",
                               ind);
        json_t *out = NULL, *errors = NULL;
        rec_status rs = record_create(d, REC_MEASURE, NULL, in, actor, &out, &errors);
        json_decref(in);
        if (rs != REC_OK) {
            char *e = errors ? json_dumps(errors, 0) : NULL;
            snprintf(err, errlen, "measure %zu: status %d %s", i, rs, e ? e : "");
            free(e);
            json_decref(errors);
            return -1;
        }
        n++;
        char ptext[1024];
        snprintf(ptext, sizeof ptext, "%s (Beispieldaten)", m->ptext);
        json_t *p = json_pack("{s:s, s:s, s:s, s:i}", "date", "2025-10-15", "title", m->ptitle,
                              "text", ptext, "progress", m->progress);
        json_t *pout = NULL;
        rs = record_create(d, REC_PROGRESS, json_string_value(json_object_get(out, "id")), p,
                           actor, &pout, &errors);
        json_decref(p);
        json_decref(pout);
        json_decref(out);
        if (rs != REC_OK) {
            json_decref(errors);
            snprintf(err, errlen, "progress entry %zu: status %d", i, rs);
            return -1;
        }
        n++;
    }
    return n;
}
