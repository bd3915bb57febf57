/* esp32sim — the ESP-IDF heap of the simulated ESP32 (heap_caps).
 *
 * Two layers, as in ESP-IDF:
 *  - esim_tlsf: one TLSF heap (two-level segregated fit, constant-time
 *    malloc and free) laid over a byte array that stands for a region of
 *    the chip's RAM. Its control structure and block headers live inside
 *    the region, as ESP-IDF's multi_heap puts them, so "free" is less than
 *    "total" by the same kind of overhead. Addresses are simulated ones:
 *    the region's first byte is at `base`.
 *  - esim_heaps: the ESP32's registered heaps (DRAM, D/IRAM, IRAM) with
 *    their MALLOC_CAP_* capabilities, in ESP-IDF's registration order, and
 *    heap_caps_malloc/free over them (docs/heap.md).
 * Everything is deterministic: the same calls give the same addresses. */
#ifndef ESP32SIM_HEAP_H
#define ESP32SIM_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp32sim/err.h"

/* MALLOC_CAP_* (ESP-IDF esp_heap_caps.h). */
#define ESIM_MALLOC_CAP_EXEC (1u << 0)
#define ESIM_MALLOC_CAP_32BIT (1u << 1)
#define ESIM_MALLOC_CAP_8BIT (1u << 2)
#define ESIM_MALLOC_CAP_DMA (1u << 3)
#define ESIM_MALLOC_CAP_SPIRAM (1u << 10)
#define ESIM_MALLOC_CAP_INTERNAL (1u << 11)
#define ESIM_MALLOC_CAP_DEFAULT (1u << 12)
#define ESIM_MALLOC_CAP_IRAM_8BIT (1u << 13)
#define ESIM_MALLOC_CAP_RETENTION (1u << 14)
#define ESIM_MALLOC_CAP_RTCRAM (1u << 15)
#define ESIM_MALLOC_CAP_INVALID (1u << 31)

/* multi_heap_info_t, plus where the heap is and what it can do. */
typedef struct {
    uint32_t caps;                /* OR of the heap's capability levels */
    uint32_t start, end;          /* simulated addresses, end exclusive */
    size_t total_bytes;           /* end - start */
    size_t free_bytes;            /* total_free_bytes */
    size_t largest_free_block;
    size_t minimum_free_bytes;    /* lifetime low-water mark of free_bytes */
    size_t allocated_bytes;       /* total_allocated_bytes */
    size_t allocated_blocks;
    size_t free_blocks;
    size_t total_blocks;
} esim_heap_info;

/* ---- one TLSF heap ---- */

typedef struct esim_tlsf esim_tlsf;

/* Lay a heap over mem[0 .. size) whose first byte is at simulated address
 * `base` (4-byte aligned). NULL when the region is too small to hold the
 * control structure and one block, or out of host memory. `mem` must stay
 * valid until esim_tlsf_destroy, which does not free it. */
esim_tlsf *esim_tlsf_create(uint8_t *mem, size_t size, uint32_t base);
void esim_tlsf_destroy(esim_tlsf *heap);

/* 0 when no free block is large enough (or size is 0). Blocks are 4-byte
 * aligned, as ESP-IDF's are on the ESP32. */
uint32_t esim_tlsf_malloc(esim_tlsf *heap, size_t size);
/* 0 is ignored; an address that is not an allocated block's is ignored too
 * (ESP-IDF would assert) and reported by esim_tlsf_check. */
void esim_tlsf_free(esim_tlsf *heap, uint32_t addr);
/* Usable size of an allocated block (>= what was asked), 0 for others. */
size_t esim_tlsf_block_size(const esim_tlsf *heap, uint32_t addr);
void esim_tlsf_info(const esim_tlsf *heap, esim_heap_info *out);
/* Walk every block and check the structure (sizes, links, free lists,
 * bitmaps, no two free neighbours). false when damaged. */
bool esim_tlsf_check(const esim_tlsf *heap);

/* ---- the ESP32's heaps ---- */

typedef struct esim_heaps esim_heaps;

/* The heaps ESP-IDF registers on an ESP32 without PSRAM, in its order,
 * over the regions left after the ROM's and the app's static data. */
esp_err_t esim_heaps_create(esim_heaps **out);
void esim_heaps_destroy(esim_heaps *heaps);

/* RAM after a reset: every block free again, low-water marks restarted. */
void esim_heaps_reset(esim_heaps *heaps);

size_t esim_heaps_count(const esim_heaps *heaps);
void esim_heaps_get_info(const esim_heaps *heaps, size_t index, esim_heap_info *out);

/* heap_caps_malloc: the first heap, in ESP-IDF's priority order, whose
 * caps include every bit of `caps` and that has room. 0 when none. */
uint32_t esim_heap_caps_malloc(esim_heaps *heaps, size_t size, uint32_t caps);
void esim_heap_caps_free(esim_heaps *heaps, uint32_t addr);

/* heap_caps_get_total_size / _free_size / _minimum_free_size /
 * _largest_free_block over the heaps whose caps include all of `caps`. */
size_t esim_heap_caps_total_size(const esim_heaps *heaps, uint32_t caps);
size_t esim_heap_caps_free_size(const esim_heaps *heaps, uint32_t caps);
size_t esim_heap_caps_minimum_free_size(const esim_heaps *heaps, uint32_t caps);
size_t esim_heap_caps_largest_free_block(const esim_heaps *heaps, uint32_t caps);

/* Record every malloc/free to `record` (NULL stops), in the trace format
 * of docs/heap.md, for the allocation benchmark. */
typedef void (*esim_heap_recorder)(void *ctx, char op, uint32_t addr, size_t size, uint32_t caps);
void esim_heaps_set_recorder(esim_heaps *heaps, esim_heap_recorder record, void *ctx);

/* ---- what the firmware takes at boot ---- */

/* What ESP-IDF's start-up and MicroPython's main() allocate on an ESP32
 * before boot.py runs (FreeRTOS task stacks and TCBs, the esp_timer and
 * IPC tasks, NVS, the MicroPython task, and its initial GC heap of 56 KiB,
 * MICROPY_GC_INITIAL_HEAP_SIZE), made on freshly reset heaps.
 * *gc_heap / *gc_heap_size say where MicroPython's heap went. */
esp_err_t esim_heaps_boot_firmware(esim_heaps *heaps, uint32_t *gc_heap, size_t *gc_heap_size);

#endif
