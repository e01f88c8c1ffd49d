/*
 * repute/assets.h - the dashboard's static files, embedded in the binary.
 *
 * cmake/embed_assets.cmake turns every file of src/http/assets/ into one
 * entry of rp_assets[], a table ended by an entry whose name is NULL. The
 * bytes are static and read-only: nothing to free.
 */
#ifndef REPUTE_ASSETS_H
#define REPUTE_ASSETS_H

#include <stddef.h>

typedef struct rp_asset {
    const char *name;         /* file name, e.g. "index.html" */
    const char *content_type; /* by extension */
    const unsigned char *data;
    size_t len;
} rp_asset;

extern const rp_asset rp_assets[];

#endif
