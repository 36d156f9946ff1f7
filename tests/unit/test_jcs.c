/* Unit tests for federation/jcs: RFC 8785 canonicalisation.
 *
 * The vectors under tests/vectors/jcs come from cyberphone/json-canonicalization
 * (Apache-2.0); the number cases below are the ones RFC 8785 Appendix B lists
 * as IEEE-754 bit patterns, plus edge cases of ECMAScript's Number::toString. */
#include "jcs.h"
#include "testlib.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double from_bits(uint64_t bits)
{
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

static void check_number(double v, const char *want)
{
    char buf[JCS_NUMBER_MAX];
    int n = jcs_format_double(v, buf, sizeof buf);
    CHECK(n == (int)strlen(want), "length for %s: %d", want, n);
    CHECK_STR(n >= 0 ? buf : NULL, want, "number");
}

static void check_text(const char *in, const char *want)
{
    char err[200] = "";
    char *got = jcs_canonicalize_text(in, strlen(in), err, sizeof err);
    if (!got)
        fprintf(stderr, "  jcs error for %s: %s\n", in, err);
    CHECK_STR(got, want, in);
    free(got);
}

static void check_rejected(const char *in, size_t len, const char *what)
{
    char err[200] = "";
    char *got = jcs_canonicalize_text(in, len, err, sizeof err);
    CHECK(got == NULL, "%s must be rejected, got '%s'", what, got ? got : "");
    CHECK(err[0] != '\0', "%s: an error message is given", what);
    free(got);
}

static void test_vectors(void)
{
    static const char *const names[] = {"arrays",  "french", "structures",
                                        "unicode", "values", "weird"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char rel[128];
        size_t inlen = 0, outlen = 0;
        snprintf(rel, sizeof rel, "jcs/input/%s.json", names[i]);
        char *in = tl_read_file(tl_vector(rel), &inlen);
        snprintf(rel, sizeof rel, "jcs/output/%s.json", names[i]);
        char *want = tl_read_file(tl_vector(rel), &outlen);
        CHECK(in && want, "vector %s readable", names[i]);
        if (in && want) {
            if (outlen && want[outlen - 1] == '\n')
                want[--outlen] = '\0';
            char err[200] = "";
            char *got = jcs_canonicalize_text(in, inlen, err, sizeof err);
            CHECK(got != NULL, "vector %s canonicalises (%s)", names[i], err);
            CHECK(got && strlen(got) == outlen && memcmp(got, want, outlen) == 0,
                  "vector %s byte-exact:\n got  %s\n want %s", names[i], got ? got : "(null)",
                  want);
            free(got);
        }
        free(in);
        free(want);
    }
}

static void test_numbers(void)
{
    /* RFC 8785 Appendix B. */
    check_number(from_bits(0x0000000000000000ULL), "0");
    check_number(from_bits(0x8000000000000000ULL), "0");
    check_number(from_bits(0x0000000000000001ULL), "5e-324");
    check_number(from_bits(0x8000000000000001ULL), "-5e-324");
    check_number(from_bits(0x7fefffffffffffffULL), "1.7976931348623157e+308");
    check_number(from_bits(0xffefffffffffffffULL), "-1.7976931348623157e+308");
    check_number(from_bits(0x4340000000000000ULL), "9007199254740992");
    check_number(from_bits(0xc340000000000000ULL), "-9007199254740992");
    check_number(from_bits(0x4430000000000000ULL), "295147905179352830000");
    check_number(from_bits(0x44b52d02c7e14af5ULL), "9.999999999999997e+22");
    check_number(from_bits(0x44b52d02c7e14af6ULL), "1e+23");
    check_number(from_bits(0x44b52d02c7e14af7ULL), "1.0000000000000001e+23");
    check_number(from_bits(0x444b1ae4d6e2ef4eULL), "999999999999999700000");
    check_number(from_bits(0x444b1ae4d6e2ef4fULL), "999999999999999900000");
    check_number(from_bits(0x444b1ae4d6e2ef50ULL), "1e+21");
    check_number(from_bits(0x3eb0c6f7a0b5ed8cULL), "9.999999999999997e-7");
    check_number(from_bits(0x3eb0c6f7a0b5ed8dULL), "0.000001");
    check_number(from_bits(0x41b3de4355555553ULL), "333333333.3333332");
    check_number(from_bits(0x41b3de4355555554ULL), "333333333.33333325");
    check_number(from_bits(0x41b3de4355555555ULL), "333333333.3333333");
    check_number(from_bits(0x41b3de4355555556ULL), "333333333.3333334");
    check_number(from_bits(0x41b3de4355555557ULL), "333333333.33333343");
    check_number(from_bits(0xbecbf647612f3696ULL), "-0.0000033333333333333333");
    check_number(from_bits(0x43143ff3c1cb0959ULL), "1424953923781206.2");

    /* Exponent thresholds and shortest round trip. */
    check_number(1e21, "1e+21");
    check_number(1e20, "100000000000000000000");
    check_number(1e-7, "1e-7");
    check_number(0.000001, "0.000001");
    check_number(1.5e-7, "1.5e-7");
    check_number(123456789012345680000.0, "123456789012345680000");
    check_number(5e-324, "5e-324");
    check_number(1.7976931348623157e308, "1.7976931348623157e+308");
    check_number(0.1 + 0.2, "0.30000000000000004");
    check_number(-0.0, "0");
    check_number(0.1, "0.1");
    check_number(-1.5, "-1.5");
    check_number(100, "100");
    check_number(1e30, "1e+30");
    check_number(4.5, "4.5");
    check_number(2e-3, "0.002");
    check_number(-71.184902, "-71.184902");
    check_number(25.273962, "25.273962");
    check_number(2.2250738585072014e-308, "2.2250738585072014e-308");
    check_number(9007199254740993.0, "9007199254740992");
    check_number(1e23, "1e+23");
    check_number(5e-7, "5e-7");

    char small[4];
    CHECK(jcs_format_double(NAN, small, sizeof small) == -1, "NaN refused");
    CHECK(jcs_format_double(INFINITY, small, sizeof small) == -1, "Infinity refused");
    CHECK(jcs_format_double(-INFINITY, small, sizeof small) == -1, "-Infinity refused");
    CHECK(jcs_format_double(12345.0, small, sizeof small) == -1, "short buffer refused");

    /* Numbers in documents: integers and reals are the same doubles. */
    check_text("[1e21,1E-7,0.000001,123456789012345678901,-0,-0.0,5e-324,0.30000000000000004]",
               "[1e+21,1e-7,0.000001,123456789012345680000,0,0,5e-324,0.30000000000000004]");
    check_text("[10.0,1e2,100000000000000000000000000000000]", "[10,100,1e+32]");
    check_text("[9007199254740993,-9223372036854775808,18446744073709551616]",
               "[9007199254740992,-9223372036854776000,18446744073709552000]");

    json_t *ints = json_pack("[I,I,I]", (json_int_t)9007199254740993LL, (json_int_t)INT64_MAX,
                             (json_int_t)-42);
    char *got = jcs_canonicalize(ints);
    CHECK_STR(got, "[9007199254740992,9223372036854776000,-42]", "json_int as double");
    free(got);
    json_decref(ints);
}

/* Compares against many random doubles printed by the C library with 17
 * digits: the shortest form must read back as the same value and must not be
 * longer than the 17-digit one. */
static void test_number_roundtrip(void)
{
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    int bad = 0;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double d = from_bits(x);
        if (!isfinite(d))
            continue;
        char buf[JCS_NUMBER_MAX];
        int n = jcs_format_double(d, buf, sizeof buf);
        if (n < 0 || strtod(buf, NULL) != d) {
            if (bad++ < 5)
                fprintf(stderr, "  round trip failed for %.17g: %s\n", d, n < 0 ? "-" : buf);
        }
    }
    CHECK_INT(bad, 0, "random doubles read back exactly");
}

static void test_strings_and_keys(void)
{
    /* Escaping: short forms, \u00xx lowercase for other controls, raw rest. */
    check_text("\"\\u0000\\u001f\\b\\f\\n\\r\\t\\\"\\\\\\/\\u007f\\u00e9\\u20ac\"",
               "\"\\u0000\\u001f\\b\\f\\n\\r\\t\\\"\\\\/\x7f\xc3\xa9\xe2\x82\xac\"");
    check_text("\"\\ud83d\\ude02<\\/script>\"", "\"\xf0\x9f\x98\x82</script>\"");
    check_text("\"\\u000b\\u001B\"", "\"\\u000b\\u001b\"");

    /* UTF-16 order: U+FB33 (0xFB33) sorts after U+1F602 (0xD83D 0xDE02),
     * although its code point and UTF-8 bytes are smaller. */
    check_text("{\"\\ufb33\":1,\"\\ud83d\\ude02\":2,\"\\u00f6\":3,\"a\":4,\"\":5}",
               "{\"\":5,\"a\":4,\"\xc3\xb6\":3,\"\xf0\x9f\x98\x82\":2,\"\xef\xac\xb3\":1}");
    /* Two astral names keep code point order; a prefix sorts first. */
    check_text("{\"\\ud83d\\ude03\":1,\"\\ud83c\\udf89\":2,\"\\ud83d\\ude03x\":3,\"\\ud7ff\":4}",
               "{\"\xed\x9f\xbf\":4,\"\xf0\x9f\x8e\x89\":2,\"\xf0\x9f\x98\x83\":1,"
               "\"\xf0\x9f\x98\x83x\":3}");
    /* U+E000 (private use) is above every surrogate pair. */
    check_text("{\"\\ue000\":1,\"\\udbff\\udfff\":2}",
               "{\"\xf4\x8f\xbf\xbf\":2,\"\xee\x80\x80\":1}");
    check_text("{\"b\":[],\"a\":{\"z\":null,\"y\":true,\"x\":false}}",
               "{\"a\":{\"x\":false,\"y\":true,\"z\":null},\"b\":[]}");
    check_text("  \"scalar\"  ", "\"scalar\"");
    check_text("[]", "[]");
    check_text("{}", "{}");

    /* Member names built in code, with a NUL inside one of them. */
    json_t *o = json_object();
    json_object_setn_new(o, "a\0b", 3, json_integer(1));
    json_object_set_new(o, "a", json_integer(2));
    char *got = jcs_canonicalize(o);
    CHECK_STR(got, "{\"a\":2,\"a\\u0000b\":1}", "NUL in a member name");
    free(got);
    json_decref(o);

    /* Invalid input. */
    check_rejected("{\"a\":1,\"a\":2}", 13, "duplicate member names");
    check_rejected("\"\\ud800\"", 8, "lone surrogate");
    check_rejected("\"\xc3\x28\"", 4, "invalid UTF-8");
    check_rejected("\"\xed\xa0\x80\"", 5, "encoded surrogate");
    check_rejected("[1e400]", 7, "number overflow");
    check_rejected("[1,]", 4, "syntax error");

    json_t *s = json_stringn_nocheck("\xff", 1);
    got = jcs_canonicalize(s);
    CHECK(got == NULL, "invalid UTF-8 in a built string is refused");
    free(got);
    json_decref(s);
    CHECK(jcs_canonicalize(NULL) == NULL, "NULL value refused");

    /* Deep nesting is refused instead of overflowing the stack. */
    json_t *deep = json_array(), *cur = deep;
    for (int i = 0; i < 3000; i++) {
        json_t *n = json_array();
        json_array_append_new(cur, n);
        cur = n;
    }
    got = jcs_canonicalize(deep);
    CHECK(got == NULL, "nesting deeper than 2048 refused");
    free(got);
    json_decref(deep);
}

int main(void)
{
    test_vectors();
    test_numbers();
    test_number_roundtrip();
    test_strings_and_keys();
    return tl_done();
}
