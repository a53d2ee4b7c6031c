/*
 * limits/nvml.c: free VRAM per card from NVIDIA's management library, loaded
 * with dlopen at run time so tokgate has no build dependency on it and runs
 * unchanged on machines without a GPU (the caller then falls back to a
 * configured figure).
 *
 * NVML's C API (nvml.h, stable since the _v2 entry points of CUDA 5.5):
 *   nvmlReturn_t nvmlInit_v2(void);
 *   nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *count);
 *   nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *dev);
 *   nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t dev, nvmlMemory_t *mem);
 *   const char  *nvmlErrorString(nvmlReturn_t r);
 *   nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t dev, char *uuid, unsigned int length);
 *                (optional here: "GPU-" + 36 hex and dashes, NUL-terminated;
 *                NVML_DEVICE_UUID_V2_BUFFER_SIZE is 96)
 * with NVML_SUCCESS = 0 and nvmlMemory_t = {unsigned long long total, free, used}
 * in bytes. The library is opened and initialised once per process (NVML
 * reference-counts nvmlInit) and kept; each call reads memory afresh, so the
 * gateway's limit loop sees live figures. TG_NVML_LIB overrides the library
 * path (tests point it at a stand-in that reports fixed figures).
 *
 * tg_nvml_cards (issue 20) reads every card with its own status, so a card
 * that fails (NVML_ERROR_GPU_IS_LOST = 15 after an Xid fault, or any other
 * error for that handle) is reported in place and the callers degrade only
 * the models on that card; tg_nvml_free_vram keeps its all-or-nothing
 * contract for the CLI.
 */
#include "tokgate/limits.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int nvml_ret;
typedef struct nvml_device_st *nvml_device;
typedef struct nvml_memory {
    unsigned long long total, free, used;
} nvml_memory;

static struct {
    pthread_once_t once;
    int ok;
    char why[200];
    nvml_ret (*count)(unsigned int *);
    nvml_ret (*handle)(unsigned int, nvml_device *);
    nvml_ret (*meminfo)(nvml_device, nvml_memory *);
    const char *(*errstr)(nvml_ret);
    nvml_ret (*uuid)(nvml_device, char *, unsigned int);
} nv = {PTHREAD_ONCE_INIT, 0, "", NULL, NULL, NULL, NULL, NULL};

/* dlsym returns void *; converting it to a function pointer is what POSIX
 * requires to work, done through memcpy to stay within ISO C. */
static int sym(void *lib, const char *name, void *fnptr, size_t size) {
    void *p = dlsym(lib, name);
    if (!p) return -1;
    memcpy(fnptr, &p, size);
    return 0;
}

static void nvml_open(void) {
    const char *path = getenv("TG_NVML_LIB");
    if (!path || !*path) path = "libnvidia-ml.so.1";
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        const char *e = dlerror();
        snprintf(nv.why, sizeof nv.why, "NVML not available (%s)", e ? e : path);
        return;
    }
    nvml_ret (*init)(void) = NULL;
    if (sym(lib, "nvmlInit_v2", &init, sizeof init) || sym(lib, "nvmlDeviceGetCount_v2", &nv.count, sizeof nv.count) ||
        sym(lib, "nvmlDeviceGetHandleByIndex_v2", &nv.handle, sizeof nv.handle) ||
        sym(lib, "nvmlDeviceGetMemoryInfo", &nv.meminfo, sizeof nv.meminfo)) {
        snprintf(nv.why, sizeof nv.why, "%s lacks the NVML v2 entry points", path);
        dlclose(lib);
        return;
    }
    sym(lib, "nvmlErrorString", &nv.errstr, sizeof nv.errstr);
    sym(lib, "nvmlDeviceGetUUID", &nv.uuid, sizeof nv.uuid);
    nvml_ret r = init();
    if (r != 0) {
        snprintf(nv.why, sizeof nv.why, "nvmlInit_v2 failed: %s", nv.errstr ? nv.errstr(r) : "error");
        dlclose(lib);
        return;
    }
    nv.ok = 1; /* kept open for the life of the process */
}

tg_status tg_nvml_free_vram(uint64_t *free_bytes, size_t cap, size_t *n_cards, tg_error *err) {
    pthread_once(&nv.once, nvml_open);
    *n_cards = 0;
    if (!nv.ok) return tg_error_set(err, TG_ENOTFOUND, "%s", nv.why);
    unsigned int count = 0;
    nvml_ret r = nv.count(&count);
    if (r != 0)
        return tg_error_set(err, TG_EIO, "nvmlDeviceGetCount_v2: %s", nv.errstr ? nv.errstr(r) : "error");
    if (count == 0) return tg_error_set(err, TG_ENOTFOUND, "NVML reports no GPU");
    if (count > cap)
        return tg_error_set(err, TG_ELIMIT, "NVML reports %u GPUs, over the %zu-card limit", count, cap);
    for (unsigned int i = 0; i < count; i++) {
        nvml_device dev = NULL;
        nvml_memory mem;
        memset(&mem, 0, sizeof mem);
        if ((r = nv.handle(i, &dev)) != 0 || (r = nv.meminfo(dev, &mem)) != 0)
            return tg_error_set(err, TG_EIO, "NVML GPU %u: %s", i, nv.errstr ? nv.errstr(r) : "error");
        free_bytes[i] = (uint64_t)mem.free;
    }
    *n_cards = count;
    return TG_OK;
}

/* NVML's name for an error code (nvml.h), for libraries without
 * nvmlErrorString. */
static const char *err_text(nvml_ret r) {
    if (nv.errstr) {
        const char *t = nv.errstr(r);
        if (t) return t;
    }
    return r == 15 ? "GPU is lost" : r == 9 ? "Driver Not Loaded" : "error";
}

static void card_read(unsigned int i, tg_nvml_card *c) {
    memset(c, 0, sizeof *c);
    c->index = i;
    nvml_device dev = NULL;
    nvml_memory mem;
    memset(&mem, 0, sizeof mem);
    nvml_ret r = nv.handle(i, &dev);
    if (r == 0 && nv.uuid && nv.uuid(dev, c->uuid, (unsigned)sizeof c->uuid) != 0) c->uuid[0] = '\0';
    c->uuid[sizeof c->uuid - 1] = '\0';
    if (r == 0) r = nv.meminfo(dev, &mem);
    if (r != 0) {
        c->status = r;
        snprintf(c->error, sizeof c->error, "%s (NVML error %d)", err_text(r), r);
        return;
    }
    c->free_bytes = (uint64_t)mem.free;
    c->total_bytes = (uint64_t)mem.total;
}

tg_status tg_nvml_cards(tg_nvml_card *cards, size_t cap, size_t *n_cards, tg_error *err) {
    pthread_once(&nv.once, nvml_open);
    *n_cards = 0;
    if (!nv.ok) return tg_error_set(err, TG_ENOTFOUND, "%s", nv.why);
    unsigned int count = 0;
    nvml_ret r = nv.count(&count);
    if (r != 0) return tg_error_set(err, TG_EIO, "nvmlDeviceGetCount_v2: %s", err_text(r));
    if (count == 0) return tg_error_set(err, TG_ENOTFOUND, "NVML reports no GPU");
    if (count > cap)
        return tg_error_set(err, TG_ELIMIT, "NVML reports %u GPUs, over the %zu-card limit", count, cap);
    for (unsigned int i = 0; i < count; i++) card_read(i, &cards[i]);
    *n_cards = count;
    return TG_OK;
}
