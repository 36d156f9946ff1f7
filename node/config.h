/* Node configuration: `dinet.conf` in the data directory, "key = value"
 * lines, '#' comments. Command-line flags override the file. */
#ifndef DINET_CONFIG_H
#define DINET_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

typedef struct config {
    char data_dir[1024];
    char role[16];      /* "district" | "state" */
    char district[8];   /* Kreisschlüssel, "15" for the state */
    char name[256];     /* display name of the node */
    char base_url[512]; /* public origin, no trailing slash */
    char handle[64];    /* preferredUsername of the node's actor */
    char listen[128];   /* HOST:PORT */
    char allow_private[512]; /* CIDR list the SSRF guard lets through */
    long max_body;      /* request body limit in bytes */
    int threads;        /* HTTP worker threads; 0 = number of cores */
    bool manual_approve; /* hold incoming Follows for approval */
    long retry_base_ms;  /* first delivery retry delay (tests lower it) */
    long sync_interval;  /* state: seconds between district reconciliations */
    char map_geojson[1024]; /* portal map: district boundaries (GeoJSON); "" = tile map */
} config;

/* Fills c with defaults (no data dir, role district, listen 127.0.0.1:8080). */
void config_defaults(config *c);

/* Applies one setting. Returns 0, or -1 with a message in err naming the key
 * and what is wrong (unknown key, bad value, unknown district code). */
int config_set(config *c, const char *key, const char *value, char *err, size_t errlen);

/* Loads DIR/dinet.conf over the current values. Returns 0, or -1 with err
 * naming the file, line and problem. */
int config_load(config *c, const char *dir, char *err, size_t errlen);

/* Checks cross-field rules (a district node needs a district code, the state
 * node has code 15, base_url is http(s)). Returns 0 or -1 with err. */
int config_validate(const config *c, char *err, size_t errlen);

/* Writes the configuration to DIR/dinet.conf (mode 0640). */
int config_save(const config *c);

/* Path of a file inside the data directory into out. */
void config_path(const config *c, const char *name, char *out, size_t outlen);

#endif
