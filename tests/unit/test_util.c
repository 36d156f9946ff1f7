/* Unit tests for the id helpers of node/util.c: activity ids sort by creation
 * time (so the outbox's unique index grows at its end), and random ids keep
 * their documented shape. */
#include "testlib.h"
#include "util.h"

#include <sodium.h>
#include <string.h>
#include <time.h>

static bool all_from(const char *s, const char *alphabet)
{
    for (; *s; s++)
        if (!strchr(alphabet, *s))
            return false;
    return true;
}

int main(void)
{
    if (sodium_init() < 0) {
        CHECK(0, "sodium_init");
        return tl_done();
    }
    const char *alphabet = "abcdefghijkmnpqrstuvwxyz23456789";
    char prev[40] = "", id[40];
    int ordered = 0, distinct = 0;
    for (int i = 0; i < 50; i++) {
        util_ordered_id(id, sizeof id);
        if (i == 0) {
            CHECK_INT((long)strlen(id), 18, "an ordered id has 18 characters");
            CHECK(all_from(id, alphabet), "only the id alphabet: %s", id);
        }
        if (prev[0]) {
            ordered += strcmp(prev, id) < 0;
            distinct += strcmp(prev, id) != 0;
        }
        snprintf(prev, sizeof prev, "%s", id);
        struct timespec ts = {0, 2 * 1000 * 1000}; /* 2 ms: the time part moves on */
        nanosleep(&ts, NULL);
    }
    CHECK_INT(ordered, 49, "each id sorts after the one made before it");
    CHECK_INT(distinct, 49, "no two ids are equal");
    char small[10];
    util_ordered_id(small, sizeof small);
    CHECK_STR(small, "", "a buffer under 19 bytes gets an empty string");

    char rid[40];
    util_random_id("m-15085-", rid, sizeof rid);
    CHECK(strlen(rid) == 24 && !strncmp(rid, "m-15085-", 8) && all_from(rid + 8, alphabet),
          "a random id is the prefix and 16 characters: %s", rid);
    return tl_done();
}
