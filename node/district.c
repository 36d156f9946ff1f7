/* District table; see district.h. Codes from the Destatis Gemeindeverzeichnis. */
#include "district.h"

#include <string.h>

static const district districts[] = {
    {"15001", "Dessau-Roßlau", "kreisfreie Stadt", "dessau-rosslau"},
    {"15002", "Halle (Saale)", "kreisfreie Stadt", "halle"},
    {"15003", "Magdeburg", "kreisfreie Stadt", "magdeburg"},
    {"15081", "Altmarkkreis Salzwedel", "Landkreis", "altmarkkreis-salzwedel"},
    {"15082", "Anhalt-Bitterfeld", "Landkreis", "anhalt-bitterfeld"},
    {"15083", "Börde", "Landkreis", "boerde"},
    {"15084", "Burgenlandkreis", "Landkreis", "burgenlandkreis"},
    {"15085", "Harz", "Landkreis", "harz"},
    {"15086", "Jerichower Land", "Landkreis", "jerichower-land"},
    {"15087", "Mansfeld-Südharz", "Landkreis", "mansfeld-suedharz"},
    {"15088", "Saalekreis", "Landkreis", "saalekreis"},
    {"15089", "Salzlandkreis", "Landkreis", "salzlandkreis"},
    {"15090", "Stendal", "Landkreis", "stendal"},
    {"15091", "Wittenberg", "Landkreis", "wittenberg"},
    {NULL, NULL, NULL, NULL},
};

static const district state = {"15", "Sachsen-Anhalt", "Land", "sachsen-anhalt"};

const district *district_find(const char *code)
{
    if (!code)
        return NULL;
    if (strcmp(code, "15") == 0)
        return &state;
    for (const district *d = districts; d->code; d++)
        if (strcmp(d->code, code) == 0)
            return d;
    return NULL;
}

const district *district_all(void)
{
    return districts;
}
