/* Tests for the heap (heap.h): the TLSF allocator against a shadow model,
 * the ESP32's heaps and heap_caps_malloc's priority order, and what the
 * firmware takes at boot. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "esp32sim/heap.h"

#define BASE 0x3FFB0000u
#define HDR 4u
#define IRAM_ALIAS_LOW 0x400A0000u
#define IRAM_ALIAS_HIGH 0x400C0000u

typedef struct {
    uint8_t *mem;
    esim_tlsf *heap;
    size_t size;
} region;

static region open_region(size_t size)
{
    region r = {.mem = calloc(size, 1), .size = size};
    assert_non_null(r.mem);
    r.heap = esim_tlsf_create(r.mem, size, BASE);
    assert_non_null(r.heap);
    return r;
}

static void close_region(region *r)
{
    esim_tlsf_destroy(r->heap);
    free(r->mem);
}

static esim_heap_info info_of(const esim_tlsf *heap)
{
    esim_heap_info info;
    esim_tlsf_info(heap, &info);
    return info;
}

static void assert_same_info(const esim_heap_info *a, const esim_heap_info *b)
{
    assert_int_equal(a->free_bytes, b->free_bytes);
    assert_int_equal(a->largest_free_block, b->largest_free_block);
    assert_int_equal(a->allocated_bytes, b->allocated_bytes);
    assert_int_equal(a->allocated_blocks, b->allocated_blocks);
    assert_int_equal(a->free_blocks, b->free_blocks);
    assert_int_equal(a->minimum_free_bytes, b->minimum_free_bytes);
}

static uint32_t next_random(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}

/* ---- one TLSF heap ---- */

static void test_tlsf_create_rejects_bad_regions(void **state)
{
    (void)state;
    uint8_t *mem = calloc(8192, 1);
    assert_non_null(mem);
    assert_null(esim_tlsf_create(NULL, 8192, BASE));
    assert_null(esim_tlsf_create(mem, 8192, BASE + 2));
    assert_null(esim_tlsf_create(mem, 100, BASE));
    assert_null(esim_tlsf_create(mem, (size_t)1 << 31, BASE));
    assert_null(esim_tlsf_create(mem, 8192, 0xFFFFF000u));
    esim_tlsf *heap = esim_tlsf_create(mem, 8192, BASE);
    assert_non_null(heap);
    assert_true(esim_tlsf_check(heap));
    esim_tlsf_destroy(heap);
    esim_tlsf_destroy(NULL);
    assert_int_equal(esim_tlsf_malloc(NULL, 16), 0);
    assert_false(esim_tlsf_check(NULL));
    free(mem);
}

static void test_tlsf_fresh_heap(void **state)
{
    (void)state;
    region r = open_region(4096);
    esim_heap_info info = info_of(r.heap);
    assert_int_equal(info.start, BASE);
    assert_int_equal(info.end, BASE + 4096);
    assert_int_equal(info.total_bytes, 4096);
    /* the control structure and headers live in the region */
    assert_true(info.free_bytes < 4096);
    assert_true(info.free_bytes > 4096 - 1024);
    assert_true(info.largest_free_block <= info.free_bytes);
    assert_int_equal(info.minimum_free_bytes, info.free_bytes);
    assert_int_equal(info.allocated_bytes, 0);
    assert_int_equal(info.allocated_blocks, 0);
    assert_int_equal(info.free_blocks, 1);
    assert_int_equal(info.total_blocks, 1);
    close_region(&r);
}

static void test_tlsf_alloc_and_free(void **state)
{
    (void)state;
    region r = open_region(4096);
    esim_heap_info fresh = info_of(r.heap);
    uint32_t a = esim_tlsf_malloc(r.heap, 100);
    assert_true(a >= BASE && a + 100 <= BASE + 4096);
    assert_int_equal(a % 4, 0);
    assert_true(esim_tlsf_block_size(r.heap, a) >= 100);
    esim_heap_info used = info_of(r.heap);
    assert_int_equal(used.allocated_blocks, 1);
    assert_int_equal(used.allocated_bytes, esim_tlsf_block_size(r.heap, a));
    assert_int_equal(used.free_bytes, fresh.free_bytes - used.allocated_bytes - HDR);
    assert_true(esim_tlsf_check(r.heap));
    esim_tlsf_free(r.heap, a);
    esim_heap_info after = info_of(r.heap);
    assert_int_equal(after.free_bytes, fresh.free_bytes);
    assert_int_equal(after.largest_free_block, fresh.largest_free_block);
    assert_int_equal(after.free_blocks, 1);
    assert_int_equal(after.allocated_blocks, 0);
    assert_true(esim_tlsf_check(r.heap));
    close_region(&r);
}

static void test_tlsf_coalesces_neighbours(void **state)
{
    (void)state;
    region r = open_region(4096);
    esim_heap_info fresh = info_of(r.heap);
    uint32_t a = esim_tlsf_malloc(r.heap, 64);
    uint32_t b = esim_tlsf_malloc(r.heap, 64);
    uint32_t c = esim_tlsf_malloc(r.heap, 64);
    assert_true(a && b && c);
    assert_int_equal(b, a + 64 + HDR);
    assert_int_equal(c, b + 64 + HDR);
    esim_tlsf_free(r.heap, a);
    assert_int_equal(info_of(r.heap).free_blocks, 2);
    /* the freed block is reused for a request of its class */
    assert_int_equal(esim_tlsf_malloc(r.heap, 64), a);
    esim_tlsf_free(r.heap, a);
    esim_tlsf_free(r.heap, c);      /* merges with the free tail */
    assert_int_equal(info_of(r.heap).free_blocks, 2);
    assert_true(esim_tlsf_check(r.heap));
    esim_tlsf_free(r.heap, b);      /* merges both ways: one block again */
    esim_heap_info after = info_of(r.heap);
    assert_int_equal(after.free_blocks, 1);
    assert_int_equal(after.free_bytes, fresh.free_bytes);
    assert_int_equal(after.largest_free_block, fresh.largest_free_block);
    assert_true(esim_tlsf_check(r.heap));
    close_region(&r);
}

static void test_tlsf_exhaustion_returns_zero(void **state)
{
    (void)state;
    region r = open_region(8192);
    esim_heap_info fresh = info_of(r.heap);
    assert_int_equal(esim_tlsf_malloc(r.heap, 0), 0);
    assert_int_equal(esim_tlsf_malloc(r.heap, SIZE_MAX), 0);
    assert_int_equal(esim_tlsf_malloc(r.heap, 8192), 0);
    assert_int_equal(esim_tlsf_malloc(r.heap, fresh.free_bytes), 0);
    uint32_t got[256];
    size_t n = 0;
    while (n < 256 && (got[n] = esim_tlsf_malloc(r.heap, 60)) != 0)
        n++;
    assert_true(n > 50 && n < 256);
    assert_int_equal(esim_tlsf_malloc(r.heap, 60), 0);
    esim_heap_info full = info_of(r.heap);
    assert_true(full.largest_free_block < 60);
    assert_true(esim_tlsf_check(r.heap));
    for (size_t i = 0; i < n; i++)
        esim_tlsf_free(r.heap, got[i]);
    assert_int_equal(info_of(r.heap).free_bytes, fresh.free_bytes);
    assert_int_equal(info_of(r.heap).free_blocks, 1);
    assert_true(esim_tlsf_check(r.heap));
    close_region(&r);
}

static void test_tlsf_alignment_and_sizes(void **state)
{
    (void)state;
    region r = open_region(16384);
    for (size_t size = 1; size < 200; size += 3) {
        uint32_t a = esim_tlsf_malloc(r.heap, size);
        assert_true(a != 0);
        assert_int_equal(a % 4, 0);
        size_t usable = esim_tlsf_block_size(r.heap, a);
        assert_true(usable >= size && usable >= 12);
        assert_int_equal(usable % 4, 0);
    }
    assert_true(esim_tlsf_check(r.heap));
    close_region(&r);
}

/* largest_free_block is the largest request sure to succeed. */
static void test_tlsf_largest_block_is_what_fits(void **state)
{
    (void)state;
    region r = open_region(20000);
    size_t largest = info_of(r.heap).largest_free_block;
    assert_int_equal(esim_tlsf_malloc(r.heap, largest + 4), 0);
    uint32_t a = esim_tlsf_malloc(r.heap, largest);
    assert_true(a != 0);
    esim_tlsf_free(r.heap, a);
    close_region(&r);
}

static void test_tlsf_minimum_free_watermark(void **state)
{
    (void)state;
    region r = open_region(16384);
    size_t start = info_of(r.heap).free_bytes;
    uint32_t a = esim_tlsf_malloc(r.heap, 1000);
    uint32_t b = esim_tlsf_malloc(r.heap, 2000);
    esim_heap_info low = info_of(r.heap);
    assert_int_equal(low.minimum_free_bytes, low.free_bytes);
    esim_tlsf_free(r.heap, a);
    esim_tlsf_free(r.heap, b);
    esim_heap_info back = info_of(r.heap);
    assert_int_equal(back.free_bytes, start);
    assert_int_equal(back.minimum_free_bytes, low.free_bytes);
    uint32_t c = esim_tlsf_malloc(r.heap, 100);
    assert_int_equal(info_of(r.heap).minimum_free_bytes, low.free_bytes);
    esim_tlsf_free(r.heap, c);
    close_region(&r);
}

static void test_tlsf_bad_frees_are_ignored_and_reported(void **state)
{
    (void)state;
    region r = open_region(4096);
    uint32_t a = esim_tlsf_malloc(r.heap, 64);
    esim_heap_info before = info_of(r.heap);
    esim_tlsf_free(r.heap, 0);
    assert_true(esim_tlsf_check(r.heap));
    esim_tlsf_free(r.heap, a + 4);              /* inside a block */
    esim_tlsf_free(r.heap, BASE - 64);          /* below the region */
    esim_tlsf_free(r.heap, BASE + 8);           /* the control structure */
    esim_tlsf_free(r.heap, BASE + 4096 + 64);   /* above the region */
    esim_heap_info after = info_of(r.heap);
    assert_same_info(&before, &after);
    assert_false(esim_tlsf_check(r.heap));
    assert_int_equal(esim_tlsf_block_size(r.heap, a), 64);
    assert_int_equal(esim_tlsf_block_size(r.heap, a + 4), 0);
    assert_true(esim_tlsf_malloc(r.heap, 64) != 0);
    close_region(&r);
}

static void test_tlsf_double_free_is_ignored(void **state)
{
    (void)state;
    region r = open_region(4096);
    esim_heap_info fresh = info_of(r.heap);
    uint32_t a = esim_tlsf_malloc(r.heap, 200);
    esim_tlsf_free(r.heap, a);
    assert_true(esim_tlsf_check(r.heap));
    esim_tlsf_free(r.heap, a);
    esim_heap_info after = info_of(r.heap);
    assert_int_equal(after.free_bytes, fresh.free_bytes);
    assert_int_equal(after.free_blocks, 1);
    assert_int_equal(esim_tlsf_block_size(r.heap, a), 0);
    assert_false(esim_tlsf_check(r.heap));
    close_region(&r);
}

/* ---- random operations against a shadow model ---- */

typedef struct {
    uint32_t addr[256];
    size_t asked[256];
    size_t count;
} shadow;

static int by_address(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* The live blocks lie inside the region and do not overlap, headers
 * included; the heap's counters agree with them. */
static void assert_matches_shadow(const region *r, const shadow *s)
{
    uint32_t sorted[256];
    size_t usable_total = 0;
    memcpy(sorted, s->addr, s->count * sizeof sorted[0]);
    qsort(sorted, s->count, sizeof sorted[0], by_address);
    for (size_t i = 0; i < s->count; i++) {
        size_t usable = esim_tlsf_block_size(r->heap, sorted[i]);
        assert_true(usable > 0);
        assert_true(sorted[i] >= BASE + HDR && sorted[i] + usable <= BASE + r->size);
        if (i + 1 < s->count)
            assert_true(sorted[i] + usable + HDR <= sorted[i + 1]);
        usable_total += usable;
    }
    for (size_t i = 0; i < s->count; i++)
        assert_true(esim_tlsf_block_size(r->heap, s->addr[i]) >= s->asked[i]);
    esim_heap_info info = info_of(r->heap);
    assert_int_equal(info.allocated_blocks, s->count);
    assert_int_equal(info.allocated_bytes, usable_total);
    assert_int_equal(info.total_blocks, info.allocated_blocks + info.free_blocks);
    assert_true(info.minimum_free_bytes <= info.free_bytes);
}

static size_t random_size(uint32_t *rng)
{
    uint32_t pick = next_random(rng) % 100;
    if (pick < 60)
        return 1 + next_random(rng) % 64;
    if (pick < 95)
        return 1 + next_random(rng) % 1024;
    return 1 + next_random(rng) % 12000;
}

/* A failed request must be one no free block is sure to serve. */
static void step_alloc(region *r, shadow *s, uint32_t *rng)
{
    size_t size = random_size(rng);
    size_t largest = info_of(r->heap).largest_free_block;
    uint32_t a = esim_tlsf_malloc(r->heap, size);
    if (!a) {
        assert_true(size > largest);
        return;
    }
    s->addr[s->count] = a;
    s->asked[s->count++] = size;
}

static void step_free(region *r, shadow *s, uint32_t *rng)
{
    size_t i = next_random(rng) % s->count;
    esim_tlsf_free(r->heap, s->addr[i]);
    s->addr[i] = s->addr[--s->count];
    s->asked[i] = s->asked[s->count];
}

static void test_tlsf_random_against_shadow(void **state)
{
    (void)state;
    region r = open_region(65536 + 1234);
    esim_heap_info fresh = info_of(r.heap);
    size_t overhead = fresh.total_bytes - fresh.free_bytes;
    shadow s = {.count = 0};
    uint32_t rng = 0x2545F491u;
    for (int step = 0; step < 6000; step++) {
        bool alloc = s.count == 0 || (s.count < 256 && next_random(&rng) % 100 < 55);
        if (alloc)
            step_alloc(&r, &s, &rng);
        else
            step_free(&r, &s, &rng);
        assert_true(esim_tlsf_check(r.heap));
        assert_matches_shadow(&r, &s);
        esim_heap_info info = info_of(r.heap);
        /* free + allocated + per-block headers + fixed overhead = total */
        assert_int_equal(info.free_bytes + info.allocated_bytes + HDR * info.allocated_blocks + overhead,
                         info.total_bytes);
    }
    while (s.count)
        step_free(&r, &s, &rng);
    esim_heap_info end = info_of(r.heap);
    assert_int_equal(end.free_bytes, fresh.free_bytes);
    assert_int_equal(end.free_blocks, 1);
    assert_true(end.minimum_free_bytes < fresh.free_bytes / 4);
    assert_true(esim_tlsf_check(r.heap));
    close_region(&r);
}

/* Damage in the region is found, and never crashes the host. */
static void test_tlsf_check_finds_damage(void **state)
{
    (void)state;
    region r = open_region(4096);
    uint32_t a = esim_tlsf_malloc(r.heap, 64);
    uint32_t b = esim_tlsf_malloc(r.heap, 64);
    esim_tlsf_free(r.heap, a);
    assert_true(esim_tlsf_check(r.heap));
    uint8_t *header = r.mem + (b - BASE - HDR);
    header[1] ^= 0x40;                       /* b's size word */
    assert_false(esim_tlsf_check(r.heap));
    header[1] ^= 0x40;
    assert_true(esim_tlsf_check(r.heap));
    memset(r.mem + 36, 0xff, 8);             /* the bitmaps */
    assert_false(esim_tlsf_check(r.heap));
    /* whatever the region holds, the allocator stays inside it (ASan) */
    for (int fill = 0; fill < 256; fill += 0x5A) {
        memset(r.mem, fill, 4096);
        assert_false(esim_tlsf_check(r.heap));
        uint32_t c = esim_tlsf_malloc(r.heap, 64);
        assert_true(c == 0 || (c >= BASE && c < BASE + 4096));
        esim_tlsf_free(r.heap, b);
        esim_tlsf_free(r.heap, c);
        esim_heap_info info = info_of(r.heap);
        assert_int_equal(info.total_bytes, 4096);
    }
    close_region(&r);
}

/* ---- the ESP32's heaps ---- */

typedef struct {
    esim_heaps *heaps;
    esim_heap_info fresh[8];
    size_t count;
} board;

static board open_board(void)
{
    board b = {0};
    assert_int_equal(esim_heaps_create(&b.heaps), ESP_OK);
    b.count = esim_heaps_count(b.heaps);
    assert_true(b.count <= 8);
    for (size_t i = 0; i < b.count; i++)
        esim_heaps_get_info(b.heaps, i, &b.fresh[i]);
    return b;
}

static esim_heap_info heap_info(const board *b, size_t i)
{
    esim_heap_info info;
    esim_heaps_get_info(b->heaps, i, &info);
    return info;
}

/* The index of the heap that holds addr, -1 if none. */
static int heap_of(const board *b, uint32_t addr)
{
    for (size_t i = 0; i < b->count; i++)
        if (addr >= b->fresh[i].start && addr < b->fresh[i].end)
            return (int)i;
    return -1;
}

static void assert_board_fresh(const board *b)
{
    for (size_t i = 0; i < b->count; i++) {
        esim_heap_info now = heap_info(b, i);
        assert_same_info(&b->fresh[i], &now);
    }
}

enum { DRAM0, DRAM1, DIRAM0, DIRAM1, IRAM0 };

static void test_heaps_layout(void **state)
{
    (void)state;
    board b = open_board();
    assert_int_equal(b.count, 5);
    const uint32_t caps[] = {0x180E, 0x180E, 0x180F, 0x180F, 0x0803};
    for (size_t i = 0; i < b.count; i++) {
        assert_int_equal(b.fresh[i].caps, caps[i]);
        assert_int_equal(b.fresh[i].total_bytes, b.fresh[i].end - b.fresh[i].start);
        if (i > 0)
            assert_true(b.fresh[i].start >= b.fresh[i - 1].end);
    }
    assert_int_equal(b.fresh[DRAM0].start, 0x3FFAE6E0);
    assert_int_equal(b.fresh[DRAM0].end, 0x3FFB0000);
    assert_true(b.fresh[DRAM1].start > 0x3FFB0000);
    assert_int_equal(b.fresh[DRAM1].end, 0x3FFE0000);
    assert_int_equal(b.fresh[DIRAM0].start, 0x3FFE0440);
    assert_int_equal(b.fresh[DIRAM0].total_bytes, 15072);
    assert_int_equal(b.fresh[DIRAM1].start, 0x3FFE4350);
    assert_int_equal(b.fresh[DIRAM1].total_bytes, 113840);
    assert_true(b.fresh[IRAM0].start > 0x40080000);
    assert_int_equal(b.fresh[IRAM0].end, 0x400A0000);
    esim_heap_info none;
    esim_heaps_get_info(b.heaps, 5, &none);
    assert_int_equal(none.total_bytes, 0);
    assert_int_equal(esim_heaps_create(NULL), ESP_ERR_INVALID_ARG);
    esim_heaps_destroy(b.heaps);
}

static size_t sum_total(const board *b, const int *which, size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += b->fresh[which[i]].total_bytes;
    return total;
}

static void test_caps_matching(void **state)
{
    (void)state;
    board b = open_board();
    const int all[] = {DRAM0, DRAM1, DIRAM0, DIRAM1, IRAM0};
    const int data[] = {DRAM0, DRAM1, DIRAM0, DIRAM1};
    const int exec[] = {DIRAM0, DIRAM1, IRAM0};
    const int diram[] = {DIRAM0, DIRAM1};
    assert_int_equal(esim_heap_caps_total_size(b.heaps, 0), sum_total(&b, all, 5));
    assert_int_equal(esim_heap_caps_total_size(b.heaps, ESIM_MALLOC_CAP_INTERNAL), sum_total(&b, all, 5));
    assert_int_equal(esim_heap_caps_total_size(b.heaps, ESIM_MALLOC_CAP_INVALID), 0);
    assert_int_equal(esim_heap_caps_total_size(b.heaps, 0xFFFFFFFFu), 0);
    assert_int_equal(esim_heap_caps_total_size(b.heaps, 4), sum_total(&b, data, 4));
    assert_int_equal(esim_heap_caps_total_size(b.heaps, ESIM_MALLOC_CAP_DMA), sum_total(&b, data, 4));
    assert_int_equal(esim_heap_caps_total_size(b.heaps, 1), sum_total(&b, exec, 3));
    assert_int_equal(esim_heap_caps_total_size(b.heaps, 1 | 4), sum_total(&b, diram, 2));
    assert_int_equal(esim_heap_caps_total_size(b.heaps, ESIM_MALLOC_CAP_SPIRAM), 0);
    size_t free_all = 0, largest = 0;
    for (size_t i = 0; i < b.count; i++) {
        free_all += b.fresh[i].free_bytes;
        if (b.fresh[i].largest_free_block > largest)
            largest = b.fresh[i].largest_free_block;
    }
    assert_int_equal(esim_heap_caps_free_size(b.heaps, 0), free_all);
    assert_int_equal(esim_heap_caps_minimum_free_size(b.heaps, 0), free_all);
    assert_int_equal(esim_heap_caps_largest_free_block(b.heaps, 0), largest);
    assert_int_equal(esim_heap_caps_free_size(b.heaps, 1),
                     b.fresh[DIRAM0].free_bytes + b.fresh[DIRAM1].free_bytes + b.fresh[IRAM0].free_bytes);
    assert_int_equal(esim_heap_caps_largest_free_block(b.heaps, 1u << 31), 0);
    assert_int_equal(esim_heap_caps_free_size(b.heaps, 1u << 31), 0);
    esim_heaps_destroy(b.heaps);
}

static void test_malloc_priority_order(void **state)
{
    (void)state;
    board b = open_board();
    /* 8BIT and DEFAULT are at DRAM's first level: the first DRAM heap */
    assert_int_equal(heap_of(&b, esim_heap_caps_malloc(b.heaps, 100, ESIM_MALLOC_CAP_8BIT)), DRAM0);
    assert_int_equal(heap_of(&b, esim_heap_caps_malloc(b.heaps, 100, ESIM_MALLOC_CAP_DEFAULT)), DRAM0);
    /* 32BIT and EXEC are at IRAM's first level */
    assert_int_equal(heap_of(&b, esim_heap_caps_malloc(b.heaps, 100, ESIM_MALLOC_CAP_32BIT)), IRAM0);
    assert_int_equal(heap_of(&b, esim_heap_caps_malloc(b.heaps, 100, ESIM_MALLOC_CAP_EXEC)), IRAM0);
    /* DMA is at no first level; DRAM's second level comes first */
    assert_int_equal(heap_of(&b, esim_heap_caps_malloc(b.heaps, 100, ESIM_MALLOC_CAP_DMA)), DRAM0);
    /* no caps match no level; impossible combinations fail */
    assert_int_equal(esim_heap_caps_malloc(b.heaps, 100, 0), 0);
    assert_int_equal(esim_heap_caps_malloc(b.heaps, 100, ESIM_MALLOC_CAP_INVALID), 0);
    assert_int_equal(esim_heap_caps_malloc(b.heaps, 100, ESIM_MALLOC_CAP_EXEC | ESIM_MALLOC_CAP_8BIT), 0);
    assert_int_equal(esim_heap_caps_malloc(b.heaps, 100, ESIM_MALLOC_CAP_EXEC | ESIM_MALLOC_CAP_DMA), 0);
    assert_int_equal(esim_heap_caps_malloc(b.heaps, 100, ESIM_MALLOC_CAP_SPIRAM), 0);
    assert_int_equal(esim_heap_caps_malloc(b.heaps, 0x400001, ESIM_MALLOC_CAP_8BIT), 0);
    /* too big for the first DRAM heap: the next one */
    assert_int_equal(heap_of(&b, esim_heap_caps_malloc(b.heaps, 8000, ESIM_MALLOC_CAP_8BIT)), DRAM1);
    /* when DRAM is full, 8BIT goes to D/IRAM in registration order */
    int where = DRAM0;
    while (where == DRAM0 || where == DRAM1)
        where = heap_of(&b, esim_heap_caps_malloc(b.heaps, 4000, ESIM_MALLOC_CAP_8BIT));
    assert_int_equal(where, DIRAM0);
    assert_true(heap_info(&b, DRAM1).largest_free_block < 4000);
    esim_heaps_destroy(b.heaps);
}

/* EXEC memory from D/IRAM comes at its instruction-bus alias. */
static void test_exec_from_diram_uses_iram_alias(void **state)
{
    (void)state;
    board b = open_board();
    uint32_t a = 0;
    while (heap_of(&b, a = esim_heap_caps_malloc(b.heaps, 1024, ESIM_MALLOC_CAP_EXEC)) == IRAM0)
        ;
    assert_true(a >= IRAM_ALIAS_LOW && a < IRAM_ALIAS_HIGH);
    assert_int_equal(a % 4, 0);
    esim_heap_info taken = heap_info(&b, DIRAM0);
    assert_int_equal(taken.allocated_blocks, 1);
    assert_true(taken.allocated_bytes >= 1024 + 4);
    uint32_t second = esim_heap_caps_malloc(b.heaps, 1024, ESIM_MALLOC_CAP_EXEC);
    assert_true(second >= IRAM_ALIAS_LOW && second < IRAM_ALIAS_HIGH && second != a);
    esim_heap_caps_free(b.heaps, a);
    esim_heap_caps_free(b.heaps, second);
    esim_heap_info back = heap_info(&b, DIRAM0);
    assert_int_equal(back.allocated_blocks, 0);
    assert_int_equal(back.free_bytes, b.fresh[DIRAM0].free_bytes);
    esim_heaps_destroy(b.heaps);
}

static void test_free_by_address(void **state)
{
    (void)state;
    board b = open_board();
    uint32_t got[6] = {
        esim_heap_caps_malloc(b.heaps, 300, ESIM_MALLOC_CAP_8BIT),
        esim_heap_caps_malloc(b.heaps, 9000, ESIM_MALLOC_CAP_8BIT),
        esim_heap_caps_malloc(b.heaps, 64, ESIM_MALLOC_CAP_EXEC),
        esim_heap_caps_malloc(b.heaps, 64, ESIM_MALLOC_CAP_DMA),
        esim_heap_caps_malloc(b.heaps, 20000, ESIM_MALLOC_CAP_32BIT),
        esim_heap_caps_malloc(b.heaps, 50000, ESIM_MALLOC_CAP_8BIT),
    };
    for (int i = 0; i < 6; i++)
        assert_true(heap_of(&b, got[i]) >= 0);
    assert_int_equal(heap_of(&b, got[4]), DRAM1);   /* too big for IRAM */
    size_t free_before = esim_heap_caps_free_size(b.heaps, 0);
    esim_heap_caps_free(b.heaps, 0);
    esim_heap_caps_free(b.heaps, 0x12345678);
    esim_heap_caps_free(b.heaps, got[1] + 8);
    esim_heap_caps_free(b.heaps, IRAM_ALIAS_LOW + 0x100);
    assert_int_equal(esim_heap_caps_free_size(b.heaps, 0), free_before);
    for (int i = 5; i >= 0; i--)
        esim_heap_caps_free(b.heaps, got[i]);
    for (size_t i = 0; i < b.count; i++) {
        esim_heap_info now = heap_info(&b, i);
        assert_int_equal(now.free_bytes, b.fresh[i].free_bytes);
        assert_int_equal(now.allocated_blocks, 0);
        assert_int_equal(now.free_blocks, 1);
    }
    esim_heaps_destroy(b.heaps);
}

static void test_reset_frees_everything(void **state)
{
    (void)state;
    board b = open_board();
    for (int i = 0; i < 40; i++)
        esim_heap_caps_malloc(b.heaps, 1000 + 100 * (size_t)i, i % 3 ? ESIM_MALLOC_CAP_8BIT : ESIM_MALLOC_CAP_32BIT);
    assert_true(esim_heap_caps_free_size(b.heaps, 0) < esim_heap_caps_total_size(b.heaps, 0) - 40000);
    esim_heaps_reset(b.heaps);
    assert_board_fresh(&b);
    esim_heaps_reset(NULL);
    esim_heaps_destroy(b.heaps);
}

typedef struct {
    char op[16];
    uint32_t addr[16];
    size_t size[16];
    uint32_t caps[16];
    int count;
} recording;

static void record(void *ctx, char op, uint32_t addr, size_t size, uint32_t caps)
{
    recording *r = ctx;
    if (r->count >= 16)
        return;
    r->op[r->count] = op;
    r->addr[r->count] = addr;
    r->size[r->count] = size;
    r->caps[r->count++] = caps;
}

static void test_recorder_sees_mallocs_and_frees(void **state)
{
    (void)state;
    board b = open_board();
    recording rec = {.count = 0};
    esim_heaps_set_recorder(b.heaps, record, &rec);
    uint32_t a = esim_heap_caps_malloc(b.heaps, 10, ESIM_MALLOC_CAP_8BIT);
    uint32_t x = esim_heap_caps_malloc(b.heaps, 33, ESIM_MALLOC_CAP_EXEC);
    esim_heap_caps_malloc(b.heaps, 10, 0);              /* fails: not recorded */
    esim_heap_caps_free(b.heaps, a + 4);                /* not a block: not recorded */
    esim_heap_caps_free(b.heaps, a);
    assert_int_equal(rec.count, 3);
    assert_int_equal(rec.op[0], 'a');
    assert_int_equal(rec.addr[0], a);
    assert_int_equal(rec.size[0], 10);
    assert_int_equal(rec.caps[0], ESIM_MALLOC_CAP_8BIT);
    assert_int_equal(rec.op[1], 'a');
    assert_int_equal(rec.addr[1], x);
    assert_int_equal(rec.size[1], 33);
    assert_int_equal(rec.caps[1], ESIM_MALLOC_CAP_EXEC);
    assert_int_equal(rec.op[2], 'f');
    assert_int_equal(rec.addr[2], a);
    esim_heaps_set_recorder(b.heaps, NULL, NULL);
    esim_heap_caps_free(b.heaps, x);
    assert_int_equal(rec.count, 3);
    esim_heaps_destroy(b.heaps);
}

/* ---- the firmware at boot ---- */

static void test_boot_firmware(void **state)
{
    (void)state;
    board b = open_board();
    esim_heap_caps_malloc(b.heaps, 5000, ESIM_MALLOC_CAP_8BIT);   /* boot starts from a reset */
    uint32_t gc = 0;
    size_t gc_size = 0;
    assert_int_equal(esim_heaps_boot_firmware(b.heaps, &gc, &gc_size), ESP_OK);
    assert_int_equal(gc_size, 56 * 1024);   /* MICROPY_GC_INITIAL_HEAP_SIZE */
    /* malloc prefers DRAM: MicroPython's heap sits there beside the tasks,
     * and the big D/IRAM heap is left whole for the split heap to grow into */
    assert_int_equal(heap_of(&b, gc), DRAM1);
    esim_heap_info diram = heap_info(&b, DIRAM1);
    assert_int_equal(diram.allocated_blocks, 0);
    assert_true(esim_heap_caps_largest_free_block(b.heaps, ESIM_MALLOC_CAP_8BIT) > 100000);
    /* the tasks live in DRAM; the small D/IRAM heap and IRAM are untouched */
    assert_true(heap_info(&b, DRAM0).allocated_blocks + heap_info(&b, DRAM1).allocated_blocks >= 20);
    assert_true(heap_info(&b, DRAM1).allocated_bytes > 16384 + 2 * 1536);
    assert_int_equal(heap_info(&b, DIRAM0).allocated_blocks, 0);
    assert_true(heap_info(&b, DRAM1).allocated_bytes > 56 * 1024 + 16384);
    assert_int_equal(heap_info(&b, IRAM0).allocated_blocks, 0);
    for (size_t i = 0; i < b.count; i++) {
        esim_heap_info now = heap_info(&b, i);
        size_t overhead = b.fresh[i].total_bytes - b.fresh[i].free_bytes;
        assert_int_equal(now.free_bytes + now.allocated_bytes + HDR * now.allocated_blocks + overhead,
                         now.total_bytes);
        assert_true(now.minimum_free_bytes <= now.free_bytes);
    }
    /* the main task was freed: DRAM's low-water mark is below its free bytes */
    assert_true(heap_info(&b, DRAM1).minimum_free_bytes < heap_info(&b, DRAM1).free_bytes);
    assert_int_equal(esim_heaps_boot_firmware(NULL, &gc, &gc_size), ESP_ERR_INVALID_ARG);
    assert_int_equal(gc, 0);
    esim_heaps_destroy(b.heaps);
}

static void assert_boards_equal(const board *x, const board *y)
{
    for (size_t i = 0; i < x->count; i++) {
        esim_heap_info a = heap_info(x, i), c = heap_info(y, i);
        assert_same_info(&a, &c);
    }
}

static void test_determinism(void **state)
{
    (void)state;
    board x = open_board(), y = open_board();
    uint32_t gx, gy;
    size_t sx, sy;
    assert_int_equal(esim_heaps_boot_firmware(x.heaps, &gx, &sx), ESP_OK);
    assert_int_equal(esim_heaps_boot_firmware(y.heaps, &gy, &sy), ESP_OK);
    assert_int_equal(gx, gy);
    assert_int_equal(sx, sy);
    assert_boards_equal(&x, &y);
    uint32_t rng = 7, live_x[64] = {0}, live_y[64] = {0};
    static const uint32_t caps[] = {ESIM_MALLOC_CAP_8BIT, ESIM_MALLOC_CAP_32BIT, ESIM_MALLOC_CAP_EXEC,
                                    ESIM_MALLOC_CAP_DMA};
    for (int step = 0; step < 2000; step++) {
        uint32_t slot = next_random(&rng) % 64, r = next_random(&rng);
        esim_heap_caps_free(x.heaps, live_x[slot]);
        esim_heap_caps_free(y.heaps, live_y[slot]);
        live_x[slot] = esim_heap_caps_malloc(x.heaps, 1 + r % 3000, caps[r % 4]);
        live_y[slot] = esim_heap_caps_malloc(y.heaps, 1 + r % 3000, caps[r % 4]);
        assert_int_equal(live_x[slot], live_y[slot]);
    }
    assert_boards_equal(&x, &y);
    /* a second boot of the same heaps gives the same picture again */
    uint32_t again;
    assert_int_equal(esim_heaps_boot_firmware(x.heaps, &again, &sx), ESP_OK);
    assert_int_equal(again, gy);
    assert_int_equal(esim_heaps_boot_firmware(y.heaps, &again, &sy), ESP_OK);
    assert_boards_equal(&x, &y);
    esim_heaps_destroy(x.heaps);
    esim_heaps_destroy(y.heaps);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tlsf_create_rejects_bad_regions),
        cmocka_unit_test(test_tlsf_fresh_heap),
        cmocka_unit_test(test_tlsf_alloc_and_free),
        cmocka_unit_test(test_tlsf_coalesces_neighbours),
        cmocka_unit_test(test_tlsf_exhaustion_returns_zero),
        cmocka_unit_test(test_tlsf_alignment_and_sizes),
        cmocka_unit_test(test_tlsf_largest_block_is_what_fits),
        cmocka_unit_test(test_tlsf_minimum_free_watermark),
        cmocka_unit_test(test_tlsf_bad_frees_are_ignored_and_reported),
        cmocka_unit_test(test_tlsf_double_free_is_ignored),
        cmocka_unit_test(test_tlsf_random_against_shadow),
        cmocka_unit_test(test_tlsf_check_finds_damage),
        cmocka_unit_test(test_heaps_layout),
        cmocka_unit_test(test_caps_matching),
        cmocka_unit_test(test_malloc_priority_order),
        cmocka_unit_test(test_exec_from_diram_uses_iram_alias),
        cmocka_unit_test(test_free_by_address),
        cmocka_unit_test(test_reset_frees_everything),
        cmocka_unit_test(test_recorder_sees_mallocs_and_frees),
        cmocka_unit_test(test_boot_firmware),
        cmocka_unit_test(test_determinism),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
