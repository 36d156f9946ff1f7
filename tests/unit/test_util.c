/* Unit tests for helpers of node/util.c: activity ids sort by creation time
 * (so the outbox's unique index grows at its end), random ids keep their
 * documented shape, and deadlines for timed waits are normalised. */
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

    struct timespec before, at;
    clock_gettime(CLOCK_REALTIME, &before);
    util_deadline_ms(&at, 1750);
    double d = (double)(at.tv_sec - before.tv_sec) + (double)(at.tv_nsec - before.tv_nsec) / 1e9;
    CHECK(d >= 1.749 && d < 1.9 && at.tv_nsec >= 0 && at.tv_nsec < 1000000000L,
          "a deadline 1750 ms ahead is 1.75 s ahead, normalised (%.4f s, %ld ns)", d,
          (long)at.tv_nsec);

    char rid[40];
    util_random_id("m-15085-", rid, sizeof rid);
    CHECK(strlen(rid) == 24 && !strncmp(rid, "m-15085-", 8) && all_from(rid + 8, alphabet),
          "a random id is the prefix and 16 characters: %s", rid);
    return tl_done();
}
