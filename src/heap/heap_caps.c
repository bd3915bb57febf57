/* esp32sim — the ESP32's registered heaps and heap_caps_malloc over them
 * (heap.h, docs/heap.md).
 *
 * How ESP-IDF builds its heaps (components/heap: heap_caps_init.c and the
 * chip's memory_layout.c), as this file reproduces it:
 *  - The chip's RAM is described as regions of a memory type (DRAM, D/IRAM
 *    which the CPU can also reach on its instruction bus, IRAM). ESP-IDF
 *    cuts out the reserved ranges (ROM data, CPU caches, the app's static
 *    .data/.bss and IRAM code), merges what is left of adjacent regions of
 *    one type, and registers one heap per remaining piece, walking the
 *    region table in address order. That order is the heaps' registration
 *    order, which is the order idf_heap_info lists them in.
 *  - Each memory type carries its capabilities in three priority levels.
 *    heap_caps_malloc tries level 0 of every heap in registration order,
 *    then level 1, then level 2: a heap is tried at a level when that
 *    level has one of the wanted caps, and only if all its levels together
 *    have every wanted cap. So a plain 8BIT request eats the DRAM first
 *    (8BIT is at DRAM's level 0, D/IRAM's level 1), a 32BIT-only request
 *    goes to IRAM first, and an EXEC request to IRAM before D/IRAM.
 *  - EXEC forbids 8BIT and DMA (no memory offers both) and implies 32BIT.
 *    An EXEC block taken from D/IRAM is handed out at its instruction-bus
 *    alias: 4 bytes more are taken, the IRAM alias of the block's end
 *    becomes the address, and the word just before it holds the data
 *    address, which is what free uses to find the block again.
 *  - A request of no caps at all matches no level, so it fails; the size
 *    queries, by contrast, count every heap for caps 0.
 * The D/IRAM heaps also hold the start-up (ROM) stack, so ESP-IDF only
 * registers them once the scheduler runs; this model has them from the
 * start, which makes no difference since DRAM is preferred anyway. */
#include "esp32sim/heap.h"

#include <stdlib.h>
#include <string.h>

enum mem_type { DRAM, DIRAM, IRAM };

/* Capability levels of each memory type, ESP32 without the IRAM_8BIT
 * option: level 0 is tried first. */
static const uint32_t type_levels[3][3] = {
    [DRAM] = {ESIM_MALLOC_CAP_8BIT | ESIM_MALLOC_CAP_DEFAULT,
              ESIM_MALLOC_CAP_INTERNAL | ESIM_MALLOC_CAP_DMA | ESIM_MALLOC_CAP_32BIT, 0},
    [DIRAM] = {0,
               ESIM_MALLOC_CAP_DMA | ESIM_MALLOC_CAP_8BIT | ESIM_MALLOC_CAP_INTERNAL |
                   ESIM_MALLOC_CAP_DEFAULT,
               ESIM_MALLOC_CAP_32BIT | ESIM_MALLOC_CAP_EXEC},
    [IRAM] = {ESIM_MALLOC_CAP_INTERNAL | ESIM_MALLOC_CAP_EXEC | ESIM_MALLOC_CAP_32BIT, 0, 0},
};

typedef struct {
    uint32_t start, end;
} span;

typedef struct {
    uint32_t start, end;
    enum mem_type type;
} chip_region;

/* The ESP32's heap-capable RAM, adjacent regions of one type already
 * merged (ESP-IDF lists them in 8 to 32 KiB pieces). */
static const chip_region chip_regions[] = {
    {0x3FFAE000, 0x3FFE0000, DRAM},
    {0x3FFE0000, 0x40000000, DIRAM},
    {0x40070000, 0x400A0000, IRAM},
};

/* Where the app's static data and IRAM code end. The linker sets these;
 * they are plausible values for MicroPython's ESP32_GENERIC firmware on
 * ESP-IDF 5.x without Bluetooth, not measured ones: 60592 bytes of .data
 * and .bss from the start of the app's DRAM segment (the amount the
 * documented idf_heap_info example implies between its heaps), and IRAM
 * code up to 0x4009B5A8, leaving a 19032-byte IRAM heap. */
#define APP_DRAM_START 0x3FFB0000u
#define APP_HEAP_START (APP_DRAM_START + 60592u)
#define APP_IRAM_START 0x40080000u
#define APP_IRAM_END 0x4009B5A8u

/* Reserved ranges, sorted, not overlapping. */
static const span reserved[] = {
    {0x3FFAE000, 0x3FFAE6E0},           /* ROM's data */
    {APP_DRAM_START, APP_HEAP_START},   /* the app's .data and .bss */
    {0x3FFE0000, 0x3FFE0440},           /* ROM's data for the PRO CPU */
    {0x3FFE3F20, 0x3FFE4350},           /* ROM's data for the APP CPU (dual core) */
    {0x40070000, 0x40078000},           /* PRO CPU cache */
    {0x40078000, 0x40080000},           /* APP CPU cache (dual core) */
    {APP_IRAM_START, APP_IRAM_END},     /* the app's IRAM code */
};

#define MAX_HEAPS 8
#define HEAP_SIZE_MAX 0x400000u         /* the largest contiguous RAM (4 MiB of PSRAM) */
#define DIRAM_DRAM_HIGH 0x40000000u
#define DIRAM_IRAM_LOW 0x400A0000u
#define DIRAM_IRAM_HIGH 0x400C0000u
#define IRAM_ALIAS_WORD 4u

typedef struct {
    uint32_t start, end;
    enum mem_type type;
    uint8_t *mem;
    esim_tlsf *tlsf;
} heap;

struct esim_heaps {
    heap heaps[MAX_HEAPS];
    size_t count;
    esim_heap_recorder record;
    void *record_ctx;
};

static uint32_t all_caps(const heap *h)
{
    const uint32_t *levels = type_levels[h->type];
    return levels[0] | levels[1] | levels[2];
}

static bool caps_match(const heap *h, uint32_t caps)
{
    return (all_caps(h) & caps) == caps;
}

/* ---- building the heaps ---- */

static void add_heap(esim_heaps *hs, uint32_t start, uint32_t end, enum mem_type type)
{
    if (hs->count < MAX_HEAPS && end > start)
        hs->heaps[hs->count++] = (heap){.start = start, .end = end, .type = type};
}

/* The pieces of one chip region left between the reserved ranges. */
static void carve(esim_heaps *hs, const chip_region *r)
{
    uint32_t at = r->start;
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++) {
        const span *s = &reserved[i];
        if (s->end <= at || s->start >= r->end)
            continue;
        add_heap(hs, at, s->start, r->type);
        at = s->end;
    }
    if (at < r->end)
        add_heap(hs, at, r->end, r->type);
}

static esp_err_t open_heap(heap *h)
{
    size_t size = h->end - h->start;
    h->mem = calloc(size, 1);
    if (!h->mem)
        return ESP_ERR_NO_MEM;
    h->tlsf = esim_tlsf_create(h->mem, size, h->start);
    return h->tlsf ? ESP_OK : ESP_ERR_NO_MEM;
}

esp_err_t esim_heaps_create(esim_heaps **out)
{
    if (!out)
        return ESP_ERR_INVALID_ARG;
    *out = NULL;
    esim_heaps *hs = calloc(1, sizeof *hs);
    if (!hs)
        return ESP_ERR_NO_MEM;
    for (size_t i = 0; i < sizeof chip_regions / sizeof chip_regions[0]; i++)
        carve(hs, &chip_regions[i]);
    for (size_t i = 0; i < hs->count; i++) {
        esp_err_t err = open_heap(&hs->heaps[i]);
        if (err) {
            esim_heaps_destroy(hs);
            return err;
        }
    }
    *out = hs;
    return ESP_OK;
}

void esim_heaps_destroy(esim_heaps *heaps)
{
    if (!heaps)
        return;
    for (size_t i = 0; i < heaps->count; i++) {
        esim_tlsf_destroy(heaps->heaps[i].tlsf);
        free(heaps->heaps[i].mem);
    }
    free(heaps);
}

/* A fresh heap over the same bytes; the old one stays if there is no host
 * memory for the new one. */
void esim_heaps_reset(esim_heaps *heaps)
{
    if (!heaps)
        return;
    for (size_t i = 0; i < heaps->count; i++) {
        heap *h = &heaps->heaps[i];
        esim_tlsf *fresh = esim_tlsf_create(h->mem, h->end - h->start, h->start);
        if (!fresh)
            continue;
        esim_tlsf_destroy(h->tlsf);
        h->tlsf = fresh;
    }
}

size_t esim_heaps_count(const esim_heaps *heaps)
{
    return heaps ? heaps->count : 0;
}

void esim_heaps_get_info(const esim_heaps *heaps, size_t index, esim_heap_info *out)
{
    if (!out)
        return;
    if (!heaps || index >= heaps->count) {
        memset(out, 0, sizeof *out);
        return;
    }
    const heap *h = &heaps->heaps[index];
    esim_tlsf_info(h->tlsf, out);
    out->caps = all_caps(h);
}

void esim_heaps_set_recorder(esim_heaps *heaps, esim_heap_recorder record, void *ctx)
{
    if (!heaps)
        return;
    heaps->record = record;
    heaps->record_ctx = record ? ctx : NULL;
}

/* ---- words in simulated RAM ---- */

static heap *heap_holding(esim_heaps *hs, uint32_t addr)
{
    for (size_t i = 0; i < hs->count; i++)
        if (addr >= hs->heaps[i].start && addr < hs->heaps[i].end)
            return &hs->heaps[i];
    return NULL;
}

static void store_word(heap *h, uint32_t addr, uint32_t v)
{
    uint8_t *p = h->mem + (addr - h->start);
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t load_word(const heap *h, uint32_t addr)
{
    const uint8_t *p = h->mem + (addr - h->start);
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The instruction bus sees D/IRAM word by word in reverse: the IRAM word
 * at DIRAM_IRAM_LOW + k is the DRAM word at DIRAM_DRAM_HIGH - 4 - k. */
static uint32_t dram_word_of_iram(uint32_t iaddr)
{
    return DIRAM_DRAM_HIGH - IRAM_ALIAS_WORD - (iaddr - DIRAM_IRAM_LOW);
}

/* An EXEC block of `len` bytes at `dstart` in D/IRAM, as an IRAM address
 * with the data address stored in the word before it. */
static uint32_t iram_alias(heap *h, uint32_t dstart, uint32_t len)
{
    uint32_t dend = dstart + len;
    uint32_t istart = DIRAM_IRAM_LOW + (DIRAM_DRAM_HIGH - dend);
    store_word(h, dram_word_of_iram(istart), dstart);
    return istart + IRAM_ALIAS_WORD;
}

/* The data address behind an IRAM alias, 0 when it leads nowhere. */
static uint32_t from_iram_alias(esim_heaps *hs, uint32_t addr)
{
    uint32_t word = dram_word_of_iram(addr - IRAM_ALIAS_WORD);
    heap *h = heap_holding(hs, word);
    return h && word + 4 <= h->end ? load_word(h, word) : 0;
}

/* ---- heap_caps_malloc and free ---- */

static uint32_t malloc_in(heap *h, size_t size, uint32_t caps)
{
    if ((caps & ESIM_MALLOC_CAP_EXEC) && h->type == DIRAM) {
        uint32_t d = esim_tlsf_malloc(h->tlsf, size + IRAM_ALIAS_WORD);
        return d ? iram_alias(h, d, (uint32_t)size + IRAM_ALIAS_WORD) : 0;
    }
    return esim_tlsf_malloc(h->tlsf, size);
}

static uint32_t malloc_by_priority(esim_heaps *hs, size_t size, uint32_t caps)
{
    for (int level = 0; level < 3; level++) {
        for (size_t i = 0; i < hs->count; i++) {
            heap *h = &hs->heaps[i];
            if (!(type_levels[h->type][level] & caps) || !caps_match(h, caps))
                continue;
            uint32_t addr = malloc_in(h, size, caps);
            if (addr)
                return addr;
        }
    }
    return 0;
}

uint32_t esim_heap_caps_malloc(esim_heaps *heaps, size_t size, uint32_t caps)
{
    if (!heaps || size > HEAP_SIZE_MAX)
        return 0;
    uint32_t want = caps;
    if (want & ESIM_MALLOC_CAP_EXEC) {
        if (want & (ESIM_MALLOC_CAP_8BIT | ESIM_MALLOC_CAP_DMA))
            return 0;
        want |= ESIM_MALLOC_CAP_32BIT;
    }
    size_t rounded = want & ESIM_MALLOC_CAP_32BIT ? (size + 3) & ~(size_t)3 : size;
    uint32_t addr = malloc_by_priority(heaps, rounded, want);
    if (addr && heaps->record)
        heaps->record(heaps->record_ctx, 'a', addr, size, caps);
    return addr;
}

void esim_heap_caps_free(esim_heaps *heaps, uint32_t addr)
{
    if (!heaps || addr == 0)
        return;
    uint32_t given = addr;
    if (addr >= DIRAM_IRAM_LOW && addr < DIRAM_IRAM_HIGH)
        addr = from_iram_alias(heaps, addr);
    heap *h = addr ? heap_holding(heaps, addr) : NULL;
    if (!h)
        return;
    bool allocated = esim_tlsf_block_size(h->tlsf, addr) > 0;
    esim_tlsf_free(h->tlsf, addr);
    if (allocated && heaps->record)
        heaps->record(heaps->record_ctx, 'f', given, 0, 0);
}

/* ---- sizes by caps ---- */

size_t esim_heap_caps_total_size(const esim_heaps *heaps, uint32_t caps)
{
    size_t total = 0;
    for (size_t i = 0; heaps && i < heaps->count; i++)
        if (caps_match(&heaps->heaps[i], caps))
            total += heaps->heaps[i].end - heaps->heaps[i].start;
    return total;
}

/* One figure of the matching heaps' multi_heap_info, added up (or the
 * largest of them). */
typedef enum { FREE_BYTES, MINIMUM_FREE, LARGEST_BLOCK } heap_figure;

static size_t figure_of(const esim_heap_info *info, heap_figure which)
{
    return which == FREE_BYTES ? info->free_bytes
         : which == MINIMUM_FREE ? info->minimum_free_bytes : info->largest_free_block;
}

static size_t over_matching(const esim_heaps *heaps, uint32_t caps, heap_figure which)
{
    size_t result = 0;
    esim_heap_info info;
    for (size_t i = 0; heaps && i < heaps->count; i++) {
        if (!caps_match(&heaps->heaps[i], caps))
            continue;
        esim_tlsf_info(heaps->heaps[i].tlsf, &info);
        size_t v = figure_of(&info, which);
        if (which != LARGEST_BLOCK)
            result += v;
        else if (v > result)
            result = v;
    }
    return result;
}

size_t esim_heap_caps_free_size(const esim_heaps *heaps, uint32_t caps)
{
    return over_matching(heaps, caps, FREE_BYTES);
}

size_t esim_heap_caps_minimum_free_size(const esim_heaps *heaps, uint32_t caps)
{
    return over_matching(heaps, caps, MINIMUM_FREE);
}

size_t esim_heap_caps_largest_free_block(const esim_heaps *heaps, uint32_t caps)
{
    return over_matching(heaps, caps, LARGEST_BLOCK);
}
