/*
 * gateway/path.h: the request path in one canonical spelling (path.c), so
 * the router matches and the upstream receives the same path however the
 * client spelled it.
 *
 *   percent-escapes of unreserved characters (RFC 3986 2.3: ALPHA DIGIT
 *   - . _ ~) are decoded; every other escape is kept, its hex in upper case
 *   (a decoded '?' or '#' would change what the target means); %2F (an
 *   encoded '/'), %00 and malformed escapes are errors;
 *   repeated slashes become one;
 *   dot segments are removed (RFC 3986 5.2.4 remove_dot_segments, after the
 *   decoding, so %2E%2E is ".."); a ".." above the root is an error;
 *   the query (after the first '?') is kept byte for byte.
 *
 * The router (routes.c) answers an error with 400 invalid_path and the
 * message; the canonical target replaces the request's for routing, the
 * access log and the upstream request line.
 */
#ifndef TG_GATEWAY_PATH_H
#define TG_GATEWAY_PATH_H

#include <stddef.h>

/* target[0..n) (origin-form, "/..." with an optional "?query") into out
 * (NUL-terminated; outsz >= 3 * n + 2 always suffices). Returns the length
 * written, or -1 with *why set to a static message naming what was wrong.
 * keep_slash: %2F is kept as it is instead (GET /v1/models/{id}: an id may
 * hold '/'; that route is answered by tokgate and never forwarded). */
long tg__path_normalize(const char *target, size_t n, char *out, size_t outsz, int keep_slash, const char **why);
/* The same without the shortcut for a path already canonical (every path
 * decoded and rebuilt): the reference the tests and fuzz_path hold
 * tg__path_normalize to. */
long tg__path_normalize_ref(const char *target, size_t n, char *out, size_t outsz, int keep_slash, const char **why);

#endif
