/* nvml_standin.c: a STAND-IN for libnvidia-ml, used only by tokgate's tests
 * on machines without a GPU (test_nvml.sh, gateway/test_vram.c,
 * gateway/test_vram_ollama.sh): it exports the NVML entry points tokgate
 * resolves with dlopen (limits/nvml.c) and reports the free memory listed in
 * $TG_NVML_STANDIN_FREE_MIB ("9254,12000": one card per figure), or, when
 * $TG_NVML_STANDIN_FILE names a file, the figures in that file, read afresh
 * at every nvmlDeviceGetCount_v2 (a test changes the readings of a running
 * daemon by rewriting it). A figure "lost" is a card whose handle answers
 * NVML_ERROR_GPU_IS_LOST (15, nvml.h) from nvmlDeviceGetMemoryInfo, as NVML
 * does after an Xid fault. Card i's UUID is GPU-5a1d0000-0000-4000-8000-
 * 0000000000ii (NVML's "GPU-" + 8-4-4-4-12 hex shape), its total twice its
 * free. It proves the loading, the card selection and the arithmetic, not
 * NVML itself (tests/gpu/nvml_check.sh does that on a real GPU). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct nvml_memory { unsigned long long total, free, used; } nvml_memory;

#define LOST ~0ull
static unsigned long long figures[16];
static unsigned int n_figures;

int nvmlInit_v2(void);
int nvmlDeviceGetCount_v2(unsigned int *count);
int nvmlDeviceGetHandleByIndex_v2(unsigned int index, void **dev);
int nvmlDeviceGetMemoryInfo(void *dev, nvml_memory *mem);
int nvmlDeviceGetUUID(void *dev, char *uuid, unsigned int length);
const char *nvmlErrorString(int r);

static void parse(const char *s) {
    n_figures = 0;
    while (*s && *s != '\n' && n_figures < 16) {
        const char *end;
        if (!strncmp(s, "lost", 4)) {
            figures[n_figures++] = LOST;
            end = s + 4;
        } else {
            char *e;
            figures[n_figures++] = strtoull(s, &e, 10) * 1048576ull;
            end = e;
        }
        s = *end == ',' ? end + 1 : end + strlen(end);
    }
}

static void reread(void) {
    const char *path = getenv("TG_NVML_STANDIN_FILE");
    if (!path) return;
    FILE *f = fopen(path, "r");
    char line[512] = "";
    if (f) {
        if (!fgets(line, sizeof line, f)) line[0] = '\0';
        fclose(f);
    }
    parse(line);
}

int nvmlInit_v2(void) {
    const char *s = getenv("TG_NVML_STANDIN_FREE_MIB");
    if (getenv("TG_NVML_STANDIN_FILE")) {
        reread();
        return 0;
    }
    if (!s) return 9; /* NVML_ERROR_DRIVER_NOT_LOADED */
    parse(s);
    return 0;
}
int nvmlDeviceGetCount_v2(unsigned int *count) {
    reread();
    *count = n_figures;
    return 0;
}
int nvmlDeviceGetHandleByIndex_v2(unsigned int index, void **dev) {
    if (index >= n_figures) return 2; /* NVML_ERROR_INVALID_ARGUMENT */
    *dev = &figures[index];
    return 0;
}
int nvmlDeviceGetMemoryInfo(void *dev, nvml_memory *mem) {
    if (*(unsigned long long *)dev == LOST) return 15; /* NVML_ERROR_GPU_IS_LOST */
    mem->free = *(unsigned long long *)dev;
    mem->total = mem->free * 2;
    mem->used = mem->total - mem->free;
    return 0;
}
int nvmlDeviceGetUUID(void *dev, char *uuid, unsigned int length) {
    unsigned int i = (unsigned int)((unsigned long long *)dev - figures);
    if (length < 41) return 7; /* NVML_ERROR_INSUFFICIENT_SIZE */
    snprintf(uuid, length, "GPU-5a1d0000-0000-4000-8000-%012u", i);
    return 0;
}
const char *nvmlErrorString(int r) {
    return r == 9 ? "Driver Not Loaded" : r == 15 ? "GPU is lost" : "Unknown Error";
}
