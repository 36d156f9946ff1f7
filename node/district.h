/* The 14 districts of Sachsen-Anhalt (Kreisschlüssel) and the state (15). */
#ifndef DINET_DISTRICT_H
#define DINET_DISTRICT_H

typedef struct district {
    const char *code; /* "15003" */
    const char *name; /* "Magdeburg" */
    const char *kind; /* "kreisfreie Stadt" | "Landkreis" | "Land" */
    const char *slug; /* ASCII handle default, e.g. "magdeburg" */
} district;

/* Returns the district with this code ("15" is the state), or NULL. */
const district *district_find(const char *code);
/* The table of the 14 districts, terminated by an entry with code NULL. */
const district *district_all(void);

#endif
