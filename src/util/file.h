/*
 * util/file.h: whole-file access for parsers that work over byte buffers.
 *
 * tgx_map_file maps a file read-only (falling back to reading it when mmap is
 * not possible, e.g. a pipe); the caller owns the map and releases it with
 * tgx_unmap. tgx_read_fd reads a descriptor to EOF into a buffer, refusing
 * more than `max` bytes with TG_ELIMIT naming the limit.
 */
#ifndef TG_UTIL_FILE_H
#define TG_UTIL_FILE_H

#include <stddef.h>
#include <stdint.h>
#include "tokgate/error.h"
#include "util/buf.h"

typedef struct tgx_map {
    const uint8_t *data;
    size_t size;
    int mapped; /* 1: munmap on release; 0: free */
} tgx_map;

tg_status tgx_map_file(const char *path, tgx_map *m, tg_error *err);
void tgx_unmap(tgx_map *m);
tg_status tgx_read_fd(int fd, size_t max, tgx_buf *out, tg_error *err);
tg_status tgx_read_file(const char *path, size_t max, tgx_buf *out, tg_error *err);
int tgx_is_dir(const char *path);
int tgx_file_exists(const char *path);

#endif
