/*
 * avro_plan_default.c - what the plan compiler reads of the reader's JSON
 * text: named types, aliases, and field defaults encoded in Avro binary.
 *
 * avro-c parses a schema into types only: it drops "default" and
 * "aliases". Schema resolution needs both (a field the writer lacks takes
 * the reader's default; a renamed record or field is found by its
 * aliases), so the compiler walks the reader's JSON with jansson for them.
 * The reader is repute's own schema, so this runs for a handful of fields
 * when a writer schema is added, never per record. A default is encoded
 * once, by the rules of the specification's "default values" table (a
 * union's default is of one of its branches, the first that fits; bytes
 * and fixed are strings of code points 0-255), and the plan then copies
 * those bytes into every record that lacks the field.
 *
 * It also checks a writer schema's JSON before avro-c parses it, for
 * what avro-c's parser does not survive cleanly: a named type defined
 * twice makes it fail without freeing what it had built (a leak per bad
 * schema, found by fuzz_avro_resolve), so such a schema is refused here.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/avro_plan.h"

const char *rp_avro_unqualified(const char *name) {
    const char *dot = name ? strrchr(name, '.') : NULL;
    return dot ? dot + 1 : name ? name : "";
}

json_t *rp_avro_json_named(json_t *j, const char *name) {
    if (json_is_array(j)) {
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v) {
            json_t *f = rp_avro_json_named(v, name);
            if (f)
                return f;
        }
        return NULL;
    }
    if (!json_is_object(j))
        return NULL;
    const char *n = json_string_value(json_object_get(j, "name"));
    const char *t = json_string_value(json_object_get(j, "type"));
    if (n && t &&
        (!strcmp(t, "record") || !strcmp(t, "enum") || !strcmp(t, "fixed")) &&
        !strcmp(rp_avro_unqualified(n), name))
        return j;
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v) {
        if (json_is_object(v) || json_is_array(v)) {
            json_t *f = rp_avro_json_named(v, name);
            if (f)
                return f;
        }
    }
    return NULL;
}

bool rp_avro_json_in_aliases(json_t *obj, const char *name) {
    json_t *aliases = json_object_get(obj, "aliases");
    size_t i;
    json_t *v;
    json_array_foreach(aliases, i, v) {
        const char *a = json_string_value(v);
        if (a && !strcmp(rp_avro_unqualified(a), name))
            return true;
    }
    return false;
}

static int put_long(rp_buf *out, int64_t v) {
    uint8_t b[10];
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    size_t n = 0;
    while (z >= 0x80) {
        b[n++] = (uint8_t)(z | 0x80);
        z >>= 7;
    }
    b[n++] = (uint8_t)z;
    return rp_buf_append(out, b, n);
}

/* A JSON string of code points 0-255 as bytes (the default of a bytes or
 * fixed field), into dst unless it is NULL. Returns the length, or -1 for
 * a code point above 255. */
static long latin1(const char *s, size_t n, uint8_t *dst) {
    long len = 0;
    for (size_t i = 0; i < n; len++) {
        uint8_t c = (uint8_t)s[i];
        if (c < 0x80) {
            if (dst)
                dst[len] = c;
            i++;
        } else if ((c & 0xfe) == 0xc2 && i + 1 < n) {
            if (dst)
                dst[len] = (uint8_t)((c & 0x03) << 6 | (s[i + 1] & 0x3f));
            i += 2;
        } else {
            return -1;
        }
    }
    return len;
}

typedef struct dflt {
    json_t *rjson;
    char *err;
    size_t err_size;
} dflt;

static int encode(dflt *d, json_t *v, avro_schema_t s, rp_buf *out, int depth);

static int bad(dflt *d, avro_schema_t s) {
    if (d->err && d->err_size)
        snprintf(d->err, d->err_size,
                 "the reader's default value does not fit its %s type",
                 avro_schema_type_name(s));
    return RP_EINVAL;
}

static int encode_record(dflt *d, json_t *v, avro_schema_t s, rp_buf *out,
                         int depth) {
    if (!json_is_object(v))
        return bad(d, s);
    json_t *rj =
        rp_avro_json_named(d->rjson, rp_avro_unqualified(avro_schema_name(s)));
    size_t n = avro_schema_record_size(s);
    for (size_t i = 0; i < n; i++) {
        const char *name = avro_schema_record_field_name(s, (int)i);
        json_t *fv = json_object_get(v, name);
        if (!fv) { /* the field's own default */
            size_t k;
            json_t *f;
            json_array_foreach(json_object_get(rj, "fields"), k, f) {
                const char *fn = json_string_value(json_object_get(f, "name"));
                if (fn && !strcmp(fn, name))
                    fv = json_object_get(f, "default");
            }
        }
        if (!fv)
            return bad(d, s);
        int rc = encode(d, fv, avro_schema_record_field_get_by_index(s, (int)i),
                        out, depth + 1);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* A union's default: the first branch it fits (the specification used to
 * allow only the first branch; later versions allow any). */
static int encode_union(dflt *d, json_t *v, avro_schema_t s, rp_buf *out,
                        int depth) {
    size_t n = avro_schema_union_size(s);
    size_t mark = out->len;
    for (size_t i = 0; i < n; i++) {
        int rc = put_long(out, (int64_t)i);
        if (rc == 0)
            rc = encode(d, v, avro_schema_union_branch(s, (int)i), out,
                        depth + 1);
        if (rc == 0 || rc == RP_ENOMEM)
            return rc;
        out->len = mark;
    }
    return bad(d, s);
}

static int encode_items(dflt *d, json_t *v, avro_schema_t s, rp_buf *out,
                        int depth) {
    bool is_map = avro_typeof(s) == AVRO_MAP;
    avro_schema_t item =
        is_map ? avro_schema_map_values(s) : avro_schema_array_items(s);
    size_t n = is_map ? json_object_size(v) : json_array_size(v);
    if (is_map ? !json_is_object(v) : !json_is_array(v))
        return bad(d, s);
    int rc = n ? put_long(out, (int64_t)n) : 0;
    if (is_map) {
        const char *key;
        json_t *x;
        json_object_foreach(v, key, x) {
            if (rc == 0 && (rc = put_long(out, (int64_t)strlen(key))) == 0)
                rc = rp_buf_append(out, key, strlen(key));
            if (rc == 0)
                rc = encode(d, x, item, out, depth + 1);
        }
    } else {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) {
            if (rc == 0)
                rc = encode(d, x, item, out, depth + 1);
        }
    }
    return rc < 0 ? rc : put_long(out, 0);
}

static int encode_number(dflt *d, json_t *v, avro_schema_t s, rp_buf *out) {
    avro_type_t t = avro_typeof(s);
    if (t == AVRO_INT32 || t == AVRO_INT64) {
        if (!json_is_integer(v))
            return bad(d, s);
        json_int_t x = json_integer_value(v);
        if (t == AVRO_INT32 && (x < INT32_MIN || x > INT32_MAX))
            return bad(d, s);
        return put_long(out, (int64_t)x);
    }
    if (!json_is_number(v))
        return bad(d, s);
    if (t == AVRO_FLOAT) {
        float f = (float)json_number_value(v);
        return rp_buf_append(out, &f, 4); /* little-endian hosts */
    }
    double x = json_number_value(v);
    return rp_buf_append(out, &x, 8);
}

static int encode(dflt *d, json_t *v, avro_schema_t s, rp_buf *out, int depth) {
    while (avro_typeof(s) == AVRO_LINK)
        s = avro_schema_link_target(s);
    if (depth > PLAN_MAX_DEPTH)
        return bad(d, s);
    switch (avro_typeof(s)) {
    case AVRO_NULL: return json_is_null(v) ? 0 : bad(d, s);
    case AVRO_BOOLEAN:
        if (!json_is_boolean(v))
            return bad(d, s);
        return rp_buf_append(out, json_is_true(v) ? "\1" : "\0", 1);
    case AVRO_INT32:
    case AVRO_INT64:
    case AVRO_FLOAT:
    case AVRO_DOUBLE: return encode_number(d, v, s, out);
    case AVRO_STRING: {
        if (!json_is_string(v))
            return bad(d, s);
        size_t n = json_string_length(v);
        int rc = put_long(out, (int64_t)n);
        return rc < 0 ? rc : rp_buf_append(out, json_string_value(v), n);
    }
    case AVRO_BYTES:
    case AVRO_FIXED: {
        const char *str = json_string_value(v);
        size_t len = json_string_length(v);
        long n = str ? latin1(str, len, NULL) : -1;
        bool fixed = avro_typeof(s) == AVRO_FIXED;
        if (n < 0 || (fixed && n != avro_schema_fixed_size(s)))
            return bad(d, s);
        int rc = fixed ? 0 : put_long(out, n);
        if (rc == 0 && (rc = rp_buf_reserve(out, (size_t)n)) == 0) {
            latin1(str, len, (uint8_t *)out->data + out->len);
            out->len += (size_t)n;
        }
        return rc;
    }
    case AVRO_ENUM: {
        const char *sym = json_string_value(v);
        int i = sym ? avro_schema_enum_get_by_name(s, sym) : -1;
        return i < 0 ? bad(d, s) : put_long(out, i);
    }
    case AVRO_UNION: return encode_union(d, v, s, out, depth);
    case AVRO_ARRAY:
    case AVRO_MAP: return encode_items(d, v, s, out, depth);
    case AVRO_RECORD: return encode_record(d, v, s, out, depth);
    default: return bad(d, s);
    }
}

int rp_avro_plan_default(json_t *rjson, json_t *v, avro_schema_t s, rp_buf *out,
                         char *errstr, size_t errstr_size) {
    dflt d = {rjson, errstr, errstr_size};
    return encode(&d, v, s, out, 0);
}

/* ------------------------------------------------------------ names */

typedef struct name_set {
    char **names;
    size_t n, cap;
} name_set;

/* Adds the full name; returns 1 when it was there already, 0, or
 * RP_ENOMEM. */
static int name_add(name_set *s, const char *full) {
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->names[i], full))
            return 1;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        char **names = realloc(s->names, cap * sizeof(*names));
        if (!names)
            return RP_ENOMEM;
        s->names = names;
        s->cap = cap;
    }
    if (!(s->names[s->n] = strdup(full)))
        return RP_ENOMEM;
    s->n++;
    return 0;
}

/* Walks the schema's JSON for definitions of named types, with the
 * namespaces they inherit; a full name defined twice goes to dup. */
static int find_dups(json_t *j, const char *ns, name_set *set, int depth,
                     char *dup, size_t dup_size) {
    if (depth > 64)
        return 0; /* avro-c's own parser rejects or bounds the rest */
    if (json_is_array(j)) {
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v) {
            int rc = find_dups(v, ns, set, depth + 1, dup, dup_size);
            if (rc != 0)
                return rc;
        }
        return 0;
    }
    if (!json_is_object(j))
        return 0;
    const char *t = json_string_value(json_object_get(j, "type"));
    const char *n = json_string_value(json_object_get(j, "name"));
    const char *own = json_string_value(json_object_get(j, "namespace"));
    char full[512];
    if (t && n &&
        (!strcmp(t, "record") || !strcmp(t, "error") || !strcmp(t, "enum") ||
         !strcmp(t, "fixed"))) {
        if (strchr(n, '.'))
            snprintf(full, sizeof(full), "%s", n);
        else {
            const char *space = own ? own : ns;
            snprintf(full, sizeof(full), "%s%s%s", space ? space : "",
                     space && *space ? "." : "", n);
        }
        int rc = name_add(set, full);
        if (rc == 1)
            snprintf(dup, dup_size, "%s", full);
        if (rc != 0)
            return rc;
        /* Nested definitions inherit this type's namespace. */
        const char *dot = strrchr(full, '.');
        if (dot) {
            full[dot - full] = '\0';
            ns = full;
        } else {
            ns = "";
        }
    }
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v) {
        if (json_is_object(v) || json_is_array(v)) {
            int rc = find_dups(v, ns, set, depth + 1, dup, dup_size);
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

int rp_avro_json_check_names(const char *json, char *errstr,
                             size_t errstr_size) {
    json_error_t je;
    json_t *j = json_loads(json, JSON_DECODE_ANY, &je);
    if (!j) {
        snprintf(errstr, errstr_size, "not JSON: %s", je.text);
        return RP_EINVAL;
    }
    name_set set = {0};
    char dup[512] = "";
    int rc = find_dups(j, NULL, &set, 0, dup, sizeof(dup));
    for (size_t i = 0; i < set.n; i++)
        free(set.names[i]);
    free(set.names);
    json_decref(j);
    if (rc == 1) {
        snprintf(errstr, errstr_size, "the type %s is defined twice", dup);
        return RP_EINVAL;
    }
    return rc;
}
