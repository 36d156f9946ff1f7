/* The response cache: a hit shares the body, an entry expires after a
 * second, and dropping expired entries (when the node becomes idle) frees
 * them without taking the body from a response that still holds it. */
#include "testlib.h"

#include "pagecache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int main(void)
{
    char *dir = tl_tmpdir("pagecache");
    char path[600];
    snprintf(path, sizeof path, "%s/none.db", dir);
    pagecache_init(path);

    pagecache_stamp st;
    pagecache_stamp_now(&st);
    pagecache_put("/a", "alpha", 5, &st);
    pagecache_put("/b", "beta", 4, &st);
    pagecache_blob *a = pagecache_get("/a");
    CHECK(a != NULL, "a fresh entry is served");
    pagecache_drop_expired();
    pagecache_blob *b = pagecache_get("/b");
    CHECK(b != NULL, "fresh entries are not dropped");
    pagecache_blob_release(b);

    nap_ms(1100);
    CHECK(pagecache_get("/a") == NULL, "an entry older than a second is not served");
    pagecache_drop_expired();
    /* The held reference outlives the dropped entry (ASan checks the read). */
    CHECK(a && pagecache_blob_len(a) == 5 && !memcmp(pagecache_blob_data(a), "alpha", 5),
          "a body still being sent stays valid after the drop");
    pagecache_blob_release(a);

    pagecache_stamp_now(&st);
    pagecache_put("/a", "again", 5, &st);
    a = pagecache_get("/a");
    CHECK(a && !memcmp(pagecache_blob_data(a), "again", 5), "the slot is reused after the drop");
    pagecache_blob_release(a);
    free(dir);
    return tl_done();
}
