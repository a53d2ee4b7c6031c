/* file.c: mmap/read whole files and descriptors; see util/file.h. */
#include "util/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

tg_status tgx_read_fd(int fd, size_t max, tgx_buf *out, tg_error *err) {
    for (;;) {
        if (tgx_buf_reserve(out, 65536) != TG_OK) {
            /* Near the ceiling: allow a final short read to detect EOF. */
            if (out->len >= out->max)
                return tg_error_set(err, TG_ELIMIT, "input exceeds the %zu-byte limit", max);
            if (tgx_buf_reserve(out, out->max - out->len) != TG_OK)
                return tg_error_set(err, TG_ENOMEM, "out of memory reading input");
        }
        size_t room = out->cap - out->len - 1;
        ssize_t n = read(fd, out->data + out->len, room);
        if (n < 0) {
            if (errno == EINTR) continue;
            return tg_error_set(err, TG_EIO, "read failed: %s", strerror(errno));
        }
        if (n == 0) break;
        out->len += (size_t)n;
        out->data[out->len] = '\0';
        if (out->len >= max) {
            char probe;
            ssize_t more = read(fd, &probe, 1);
            if (more > 0) return tg_error_set(err, TG_ELIMIT, "input exceeds the %zu-byte limit", max);
            break;
        }
    }
    if (!out->data) return tgx_buf_append(out, "", 0);
    return TG_OK;
}

tg_status tgx_read_file(const char *path, size_t max, tgx_buf *out, tg_error *err) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return tg_error_set(err, TG_EIO, "%s: %s", path, strerror(errno));
    tgx_buf_init(out, max);
    tg_status st = tgx_read_fd(fd, max, out, err);
    close(fd);
    if (st) {
        tgx_buf_free(out);
        return tg_error_wrap(err, "%s", path);
    }
    return TG_OK;
}

tg_status tgx_map_file(const char *path, tgx_map *m, tg_error *err) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return tg_error_set(err, TG_EIO, "%s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return tg_error_set(err, TG_EIO, "%s: %s", path, strerror(e));
    }
    if (S_ISDIR(sb.st_mode)) {
        close(fd);
        return tg_error_set(err, TG_EIO, "%s: is a directory", path);
    }
    if (S_ISREG(sb.st_mode) && sb.st_size > 0) {
        void *p = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p != MAP_FAILED) {
            close(fd);
            m->data = p;
            m->size = (size_t)sb.st_size;
            m->mapped = 1;
            return TG_OK;
        }
    }
    tgx_buf b;
    tgx_buf_init(&b, (size_t)1 << 40);
    tg_status st = tgx_read_fd(fd, b.max, &b, err);
    close(fd);
    if (st) {
        tgx_buf_free(&b);
        return tg_error_wrap(err, "%s", path);
    }
    size_t len;
    m->data = (const uint8_t *)tgx_buf_detach(&b, &len);
    m->size = len;
    m->mapped = 0;
    return TG_OK;
}

void tgx_unmap(tgx_map *m) {
    if (!m->data) return;
    if (m->mapped)
        munmap((void *)(uintptr_t)m->data, m->size);
    else
        free((void *)(uintptr_t)m->data);
    m->data = NULL;
    m->size = 0;
}

int tgx_is_dir(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

int tgx_file_exists(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}
