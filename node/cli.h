/* Command-line parsing shared by the subcommands: "--name value" options
 * from an allowed list, and positional arguments. */
#ifndef DINET_CLI_H
#define DINET_CLI_H

#include <stdbool.h>

#define CLI_MAX 24

typedef struct cli_opt {
    const char *name;  /* "data" for --data */
    bool takes_value;
} cli_opt;

typedef struct cli_args {
    const char *name[CLI_MAX];
    const char *value[CLI_MAX]; /* "" for flags */
    int n;
    const char *pos[CLI_MAX];
    int npos;
} cli_args;

/* Parses argv against the allowed options. "--x=v" and "--x v" both work.
 * Returns 0, or -1 after printing "dinet CMD: …" to stderr. */
int cli_parse(const char *cmd, int argc, char **argv, const cli_opt *allowed, cli_args *out);
/* The value of --name, or NULL. */
const char *cli_get(const cli_args *a, const char *name);
bool cli_has(const cli_args *a, const char *name);

#endif
