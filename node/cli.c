/* Command-line parsing; see cli.h. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

int cli_parse(const char *cmd, int argc, char **argv, const cli_opt *allowed, cli_args *out)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            for (i++; i < argc && out->npos < CLI_MAX; i++)
                out->pos[out->npos++] = argv[i];
            break;
        }
        if (strncmp(a, "--", 2) != 0) {
            if (out->npos == CLI_MAX) {
                fprintf(stderr, "dinet %s: too many arguments\n", cmd);
                return -1;
            }
            out->pos[out->npos++] = a;
            continue;
        }
        char name[64];
        const char *eq = strchr(a + 2, '=');
        size_t nl = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        if (nl >= sizeof name) {
            fprintf(stderr, "dinet %s: unknown option '%s' (see 'dinet %s --help')\n", cmd, a, cmd);
            return -1;
        }
        memcpy(name, a + 2, nl);
        name[nl] = '\0';
        const cli_opt *o = NULL;
        for (const cli_opt *x = allowed; x->name; x++)
            if (strcmp(x->name, name) == 0)
                o = x;
        if (!o) {
            fprintf(stderr, "dinet %s: unknown option '--%s' (see 'dinet %s --help')\n", cmd, name,
                    cmd);
            return -1;
        }
        const char *val = "";
        if (o->takes_value) {
            if (eq)
                val = eq + 1;
            else if (i + 1 < argc)
                val = argv[++i];
            else {
                fprintf(stderr, "dinet %s: option '--%s' needs a value\n", cmd, name);
                return -1;
            }
        } else if (eq) {
            fprintf(stderr, "dinet %s: option '--%s' takes no value\n", cmd, name);
            return -1;
        }
        if (out->n == CLI_MAX) {
            fprintf(stderr, "dinet %s: too many options\n", cmd);
            return -1;
        }
        out->name[out->n] = o->name;
        out->value[out->n] = val;
        out->n++;
    }
    return 0;
}

const char *cli_get(const cli_args *a, const char *name)
{
    const char *v = NULL;
    for (int i = 0; i < a->n; i++)
        if (strcmp(a->name[i], name) == 0)
            v = a->value[i];
    return v;
}

bool cli_has(const cli_args *a, const char *name)
{
    return cli_get(a, name) != NULL;
}
