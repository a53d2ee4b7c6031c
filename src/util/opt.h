/*
 * util/opt.h: option tables. One static array of tgx_opt entries describes a
 * set of settings once: the command-line flag (and an alias), the config-file
 * key, the kind of value, its bounds, where it is stored and its help line
 * (curl's src/tool_getparam.c aliases[] is the model). One parser reads a
 * flag's text and a config key's JSON value through the same entry, so a flag
 * and its key accept the same values, store the same result and refuse the
 * same values with the same bound in the message; the help text and the docs'
 * key table are generated from the same entries.
 *
 * Tables in use: policy/settings_keys.h (per-model policy settings),
 * limits/limits_keys.h (limits derivation inputs), gateway/options.h (the
 * daemon: listen, timeouts, sizes, admission, model sections), and the few
 * flags private to `tokgate check` and `tokgate limits`.
 *
 * Kinds, text on the command line and JSON in the file:
 *   BOOL    a flag without a value sets it; true / false
 *   UINT    whole decimal number, no sign ("8192"); a JSON integer (or a
 *           whole real) in lo..hi
 *   NUM     decimal number ("0.5"); a JSON number; in lo..hi, or (lo, hi]
 *           with TGX_OPT_OPEN_LO
 *   ENUM    a name `parse` accepts (`arg` lists them: "clamp|reject"); a
 *           JSON string
 *   STR     any string (non-empty with TGX_OPT_NONEMPTY); a JSON string
 *   LIST    strings: a repeated flag; a JSON array of strings
 *   CUSTOM  the entry's `set` reads the text or the JSON value itself
 *           (host:port, URL, a list of MiB figures or "nvml", ...)
 * A HEADING entry (no key, no flag) is only a heading line in the help.
 *
 * Stored value = value x scale (MiB -> bytes, milliseconds -> seconds); PPM
 * stores a fraction in parts per million, rounded to nearest.
 *
 * Messages, the same for both ways in ("WHERE" is the flag as written, or
 * "config PATH"):
 *   --tp: '0' is not a whole number in 1..1024
 *   config models[0].hardware.tp: 0 is not a whole number in 1..1024
 *   config models[0].upstrem: unknown key (want name, aliases, ...)
 *
 * Ownership: STR values are malloc'd copies owned by the target (free them
 * with the target); BORROW stores the pointer it was given (argv, or a string
 * inside a JSON value the caller keeps). The tgx_ tier is shared by the
 * library, the CLI, the daemon and the tests; it is not public API.
 */
#ifndef TG_UTIL_OPT_H
#define TG_UTIL_OPT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "tokgate/error.h"
#include "util/buf.h"

typedef enum tgx_opt_kind {
    TGX_OPT_HEADING = 0,
    TGX_OPT_BOOL,
    TGX_OPT_UINT,
    TGX_OPT_NUM,
    TGX_OPT_ENUM,
    TGX_OPT_STR,
    TGX_OPT_LIST,
    TGX_OPT_CUSTOM
} tgx_opt_kind;

typedef enum tgx_opt_store {
    TGX_ST_NONE = 0, /* nothing stored (CUSTOM, or handled by the caller) */
    TGX_ST_INT,      /* int (BOOL, ENUM) */
    TGX_ST_U32,
    TGX_ST_U64,
    TGX_ST_SIZE,
    TGX_ST_DOUBLE,
    TGX_ST_PPM,      /* uint32_t parts per million */
    TGX_ST_STR,      /* char *, owned */
    TGX_ST_BORROW,   /* const char *, borrowed */
    TGX_ST_STRV      /* char **, owned, with its size_t count at off_n */
} tgx_opt_store;

#define TGX_OPT_OPEN_LO 1u  /* NUM: lo itself is refused: (lo, hi] */
#define TGX_OPT_NONEMPTY 2u /* STR, LIST: an empty string is refused */

typedef struct tgx_opt tgx_opt;

/* CUSTOM: reads TEXT (a flag's value) or V (a JSON value), exactly one not
 * NULL, into TARGET. WHERE names the value in messages. */
typedef tg_status (*tgx_opt_set_fn)(const tgx_opt *o, void *target, const char *where, const char *text,
                                    json_t *v, tg_error *err);
/* CUSTOM: appends the stored value as flag text ("" when unset). */
typedef void (*tgx_opt_format_fn)(const tgx_opt *o, const void *target, tgx_buf *b);

struct tgx_opt {
    const char *key;    /* config key, dotted below its table's object ("timeouts.connect"); NULL: flag only */
    const char *flag;   /* "--connect-timeout"; NULL: file only */
    const char *alias;  /* another accepted flag, or NULL */
    tgx_opt_kind kind;
    tgx_opt_store store;
    size_t off;         /* where in the target */
    size_t off_n;       /* STRV: its count */
    double lo, hi;      /* UINT, NUM */
    double scale;       /* stored = value x scale; 0 means 1 */
    unsigned flags;     /* TGX_OPT_* */
    int (*parse)(const char *s);  /* ENUM: the value (>= 0), or -1 */
    const char *arg;    /* the value in help: "N", "S", "clamp|reject" */
    const char *help;   /* one line */
    const char *example; /* an accepted value as flag text (CUSTOM, STR); NULL: derived from the bounds */
    tgx_opt_set_fn set;
    tgx_opt_format_fn format;
};

typedef struct tgx_opt_table {
    const tgx_opt *v;
    size_t n;
} tgx_opt_table;

/* A flag's value: TEXT is NULL for a BOOL flag. */
tg_status tgx_opt_from_text(const tgx_opt *o, void *target, const char *where, const char *text, tg_error *err);
/* A config value; WHERE is "config PATH". */
tg_status tgx_opt_from_json(const tgx_opt *o, void *target, const char *where, json_t *v, tg_error *err);

/* The entry whose flag or alias is NAME / whose key is KEY, or NULL. */
const tgx_opt *tgx_opt_by_flag(const tgx_opt *t, size_t n, const char *name);
const tgx_opt *tgx_opt_by_key(const tgx_opt *t, size_t n, const char *key);

/* The bit of the entry with KEY in a GIVEN mask (0 when there is none). */
uint64_t tgx_opt_bit(const tgx_opt *t, size_t n, const char *key);

/* Every member of the JSON object OBJ (at PATH: "" for the top level,
 * "models[0].policy") through table T into TARGET. A member whose name
 * prefixes keys of the table ("timeouts" for "timeouts.connect") must be an
 * object and is read the same way. Unknown members are refused with their
 * path and the names the table knows there. GIVEN, when not NULL, gets bit i
 * for each entry i set (tables have at most 64 entries). */
tg_status tgx_opt_object(const tgx_opt *t, size_t n, void *target, uint64_t *given, const char *path,
                         json_t *obj, tg_error *err);

/* One command-line option at argv[*i]: "--flag VALUE" or "--flag=VALUE",
 * looked up in TABS in order. On success *i is the index of the last argv
 * entry used. TG_ENOTFOUND when no table knows it; TG_EINVAL when its value
 * is missing or a BOOL flag got one. */
typedef struct tgx_opt_arg {
    size_t table;       /* index into the tables */
    const tgx_opt *opt;
    const char *name;   /* the flag as written, without "=VALUE" */
    const char *value;  /* NULL for a BOOL */
    char buf[64];
} tgx_opt_arg;
tg_status tgx_opt_next(const tgx_opt_table *tabs, size_t ntabs, int argc, char **argv, int *i, tgx_opt_arg *a,
                       tg_error *err);

/* Frees what TARGET owns for the table's STR and STRV entries. */
void tgx_opt_free(const tgx_opt *t, size_t n, void *target);
/* Empties a STRV entry (a list on the command line replaces the file's). */
void tgx_opt_clear(const tgx_opt *o, void *target);

/* The stored value as flag text ("8192", "0.8", "clamp", "a,b"; "" when an
 * unset string or empty list). */
tg_status tgx_opt_format(const tgx_opt *o, const void *target, tgx_buf *b);
/* What the value must be: "a whole number in 1..1024", "one of clamp|reject". */
tg_status tgx_opt_want(const tgx_opt *o, tgx_buf *b);
/* A number as the messages print bounds: whole numbers in full, else %g. */
void tgx_opt_num_text(double d, char *out, size_t cap);
/* The name of the I-th value of an ENUM's arg list ("clamp" of "clamp|reject"), in OUT. */
int tgx_opt_enum_value(const tgx_opt *o, size_t i, char *out, size_t cap);

/* Help lines for the table: "  --flag ARG  help (default D)", one per entry
 * with a flag, a heading line for each HEADING. DEFAULTS, when not NULL, is a
 * target holding the defaults; a default that formats as "" or "0" is left
 * out. */
tg_status tgx_opt_help(tgx_buf *b, const tgx_opt *t, size_t n, const void *defaults);

#endif
