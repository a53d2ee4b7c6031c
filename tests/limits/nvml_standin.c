/* nvml_standin.c: a STAND-IN for libnvidia-ml, used only by
 * test_nvml.sh on machines without a GPU: it exports the NVML v2 entry points
 * tokgate resolves with dlopen (limits/nvml.c) and reports the free memory
 * listed in $TG_NVML_STANDIN_FREE_MIB ("9254,12000": one card per figure). It
 * proves the loading and the arithmetic, not NVML itself. */
#include <stdlib.h>
#include <string.h>

typedef struct nvml_memory { unsigned long long total, free, used; } nvml_memory;

static unsigned long long figures[16];
static unsigned int n_figures;

int nvmlInit_v2(void);
int nvmlDeviceGetCount_v2(unsigned int *count);
int nvmlDeviceGetHandleByIndex_v2(unsigned int index, void **dev);
int nvmlDeviceGetMemoryInfo(void *dev, nvml_memory *mem);
const char *nvmlErrorString(int r);

int nvmlInit_v2(void) {
    const char *s = getenv("TG_NVML_STANDIN_FREE_MIB");
    if (!s) return 9; /* NVML_ERROR_DRIVER_NOT_LOADED */
    while (*s && n_figures < 16) {
        char *end;
        figures[n_figures++] = strtoull(s, &end, 10) * 1048576ull;
        s = *end == ',' ? end + 1 : end + strlen(end);
    }
    return 0;
}
int nvmlDeviceGetCount_v2(unsigned int *count) { *count = n_figures; return 0; }
int nvmlDeviceGetHandleByIndex_v2(unsigned int index, void **dev) {
    if (index >= n_figures) return 2; /* NVML_ERROR_INVALID_ARGUMENT */
    *dev = &figures[index];
    return 0;
}
int nvmlDeviceGetMemoryInfo(void *dev, nvml_memory *mem) {
    mem->free = *(unsigned long long *)dev;
    mem->total = mem->free * 2;
    mem->used = mem->total - mem->free;
    return 0;
}
const char *nvmlErrorString(int r) { return r == 9 ? "Driver Not Loaded" : "Unknown Error"; }
