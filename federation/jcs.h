/* RFC 8785 JSON Canonicalization Scheme (JCS).
 *
 * Object integrity proofs (FEP-8b32, eddsa-jcs-2022) sign a hash of the JCS
 * form of a JSON value, so two implementations must produce exactly the same
 * bytes for the same data. JCS fixes every degree of freedom JSON leaves open:
 * no whitespace, object members sorted by the UTF-16 code units of their
 * names, a single escaping rule for strings, and numbers printed the way
 * ECMAScript's Number.prototype.toString prints an IEEE-754 double.
 *
 * Thread-safe: no global state. */
#ifndef DINET_JCS_H
#define DINET_JCS_H

#include <stddef.h>
#include <jansson.h>

/* Longest text jcs_format_double() can produce, including the NUL
 * ("-1.2345678901234567e-308" and "-0.0000012345678901234567" stay below). */
#define JCS_NUMBER_MAX 32

/* Canonicalises a jansson value (any type, not only objects).
 *
 * JSON integers (json_int) are treated as the IEEE-754 double they denote,
 * as JCS requires: integers beyond 2^53 lose precision exactly as they would
 * in JavaScript. Nesting deeper than 2048 levels is refused.
 *
 * Returns a malloc'd NUL-terminated string the caller frees (canonical text
 * never contains a raw NUL: U+0000 is escaped, so strlen() gives its length).
 * Returns NULL when the value cannot be canonicalised:
 * a NaN or infinite number, a string or member name that is not valid UTF-8
 * (including encoded surrogates), too deep nesting, or out of memory. */
char *jcs_canonicalize(const json_t *v);

/* Parses JSON text and canonicalises it.
 *
 * Every number is parsed as a double (JSON_DECODE_INT_AS_REAL), which is the
 * JCS number model and also accepts integers too large for json_int. Strings
 * may contain U+0000. Duplicate member names are rejected, because a
 * signature over a document whose meaning depends on which duplicate the
 * reader keeps is worthless (RFC 8785 relies on I-JSON, which forbids them).
 *
 * Returns a malloc'd NUL-terminated string the caller frees, or NULL on
 * error; then `err` (may be NULL, `errlen` bytes) gets a message such as the
 * parser's diagnostic or "number is not finite". */
char *jcs_canonicalize_text(const char *json, size_t len, char *err, size_t errlen);

/* Formats one double as ECMAScript Number::toString does: the shortest digit
 * string that reads back as the same double (ties go to the closer one),
 * plain notation for 1e-6 <= |v| < 1e21, exponent form ("1e+21", "1e-7")
 * otherwise, and "0" for -0.
 *
 * Writes into buf (at least JCS_NUMBER_MAX bytes is always enough) and returns
 * the length written without the NUL, or -1 when v is NaN or infinite or buf
 * is too small. */
int jcs_format_double(double v, char *buf, size_t buflen);

#endif
