/* Synthetic sample data for demos and benchmarks. Every record says
 * "Beispieldaten" in its description so nobody mistakes it for real data. */
#ifndef DINET_SAMPLE_H
#define DINET_SAMPLE_H

#include "config.h"
#include "db.h"
#include <stddef.h>

/* Loads sample organisations, measures (covering every field of action) and
 * progress entries for the node's district. Returns the number of records
 * written, or -1 with err. */
int sample_load(db *d, const config *cfg, char *err, size_t errlen);

#endif
