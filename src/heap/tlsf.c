/* esp32sim — one TLSF heap laid over a byte array (heap.h, docs/heap.md).
 *
 * Two-level segregated fit: free blocks sit in lists by size class. The
 * first level splits sizes by powers of two, the second splits each power
 * of two into 32 equal steps; a bitmap per level says which lists hold a
 * block, so finding a block, splitting it, and merging a freed block with
 * its free neighbours are a fixed number of steps whatever the heap holds.
 *
 * Everything the allocator keeps lives inside the region, as offsets from
 * its first byte: the control structure (counters, bitmaps, list heads) at
 * the start, a 4-byte size word before every block, the list links and a
 * back pointer inside free blocks, a zero-sized sentinel block at the end.
 * All words are little-endian. The host struct only holds the geometry and
 * one simulator-side bitmap that marks where allocated blocks start, so a
 * free of a wrong address is caught instead of corrupting the region. */
#include "esp32sim/heap.h"

#include <stdlib.h>
#include <string.h>

enum {
    ALIGN = 4,
    SL_LOG2 = 5,                        /* 2^5 = 32 second-level classes */
    SL_COUNT = 1 << SL_LOG2,
    SMALL_LIMIT = SL_COUNT * ALIGN,     /* below 128 bytes the classes are 4 bytes wide */
    FL_SHIFT = 7,                       /* log2(SMALL_LIMIT) */
    HDR = 4,                            /* the size word before a block's payload */
    MIN_PAYLOAD = 12,                   /* next, prev and the back pointer of a free block */
    MIN_SPLIT = HDR + MIN_PAYLOAD,
    MIN_REGION = 256,
};

#define MAX_REGION (1u << 30)
#define MAGIC 0x46534c54u               /* "TLSF" */
#define FREE_BIT 1u                     /* this block is free */
#define PREV_FREE_BIT 2u                /* the block just before this one is free */
#define FLAG_BITS 3u

/* The control structure: word offsets from the region's first byte. The
 * second-level bitmaps (one word per first-level class) follow at C_SLMAP,
 * then the list heads, SL_COUNT words per first-level class. */
enum {
    C_MAGIC = 0,
    C_SIZE = 4,
    C_FL_COUNT = 8,
    C_FIRST = 12,
    C_FREE_BYTES = 16,
    C_MIN_FREE = 20,
    C_ALLOC_BYTES = 24,
    C_ALLOC_BLOCKS = 28,
    C_FREE_BLOCKS = 32,
    C_FL_MAP = 36,
    C_SLMAP = 40,
};

struct esim_tlsf {
    uint8_t *mem;
    uint32_t size;       /* usable bytes: the region's size rounded down to 4 */
    uint32_t total;      /* the region's size as given */
    uint32_t base;       /* simulated address of mem[0] */
    uint32_t fl_count;   /* first-level classes */
    uint32_t first;      /* the first block's header: the end of the control structure */
    uint32_t last;       /* the sentinel's header */
    uint8_t *owned;      /* one bit per word, set where an allocated block's header is */
    uint32_t bad_frees;  /* frees of addresses that were not allocated blocks */
};

typedef struct {
    uint32_t fl, sl;
} size_class;

/* ---- words in the region ---- */

static uint32_t get(const esim_tlsf *h, uint32_t off)
{
    if (off > h->size - 4)
        return 0;
    const uint8_t *p = h->mem + off;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put(esim_tlsf *h, uint32_t off, uint32_t v)
{
    if (off > h->size - 4)
        return;
    uint8_t *p = h->mem + off;
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void add(esim_tlsf *h, uint32_t off, int32_t delta)
{
    put(h, off, get(h, off) + (uint32_t)delta);
}

/* ---- size classes ---- */

static unsigned msb(uint32_t v)
{
    return 31u - (unsigned)__builtin_clz(v);
}

static size_class class_of(uint32_t size)
{
    if (size < SMALL_LIMIT)
        return (size_class){0, size / ALIGN};
    unsigned m = msb(size);
    return (size_class){m - FL_SHIFT + 1, (size >> (m - SL_LOG2)) & (SL_COUNT - 1)};
}

/* The first class whose every block holds `size` (good fit: round up to
 * the next class boundary unless `size` is one already). */
static uint32_t round_to_class(uint32_t size)
{
    if (size < SMALL_LIMIT)
        return size;
    return size + (1u << (msb(size) - SL_LOG2)) - 1;
}

/* The largest request a free block of `payload` bytes is sure to serve:
 * the lower bound of its class, as ESP-IDF reports largest_free_block. */
static uint32_t fit_size(uint32_t payload)
{
    if (payload < SMALL_LIMIT)
        return payload;
    return payload & ~((1u << (msb(payload) - SL_LOG2)) - 1);
}

static uint32_t fl_count_for(uint32_t size)
{
    return msb(size) - FL_SHIFT + 2;
}

static uint32_t sl_map_at(uint32_t fl)
{
    return C_SLMAP + 4 * fl;
}

static uint32_t head_at(const esim_tlsf *h, size_class c)
{
    return C_SLMAP + 4 * h->fl_count + 4 * (c.fl * SL_COUNT + c.sl);
}

/* ---- blocks ---- */

static uint32_t payload_of(const esim_tlsf *h, uint32_t b)
{
    return get(h, b) & ~FLAG_BITS;
}

static bool is_free(const esim_tlsf *h, uint32_t b)
{
    return get(h, b) & FREE_BIT;
}

static uint32_t next_phys(const esim_tlsf *h, uint32_t b)
{
    return b + HDR + payload_of(h, b);
}

/* A block header where one can be, with a size that stays in the region:
 * what the lists and back pointers give is checked before it is used, so
 * a damaged region cannot send the allocator astray. */
static bool sane_block(const esim_tlsf *h, uint32_t b)
{
    return b >= h->first && b < h->last && !(b & (ALIGN - 1)) &&
           payload_of(h, b) <= h->last - b - HDR;
}

static void set_prev_free(esim_tlsf *h, uint32_t b, bool prev_free)
{
    uint32_t w = get(h, b) & ~PREV_FREE_BIT;
    put(h, b, prev_free ? w | PREV_FREE_BIT : w);
}

/* A free block: its size word, and its own offset in its last word, where
 * the next block finds it when it is freed and merges backwards. */
static void mark_free(esim_tlsf *h, uint32_t b, uint32_t payload)
{
    put(h, b, payload | FREE_BIT);
    put(h, b + payload, b);
    set_prev_free(h, b + HDR + payload, true);
}

static void mark_used(esim_tlsf *h, uint32_t b, uint32_t payload)
{
    put(h, b, payload);
    set_prev_free(h, b + HDR + payload, false);
}

static uint32_t owned_bit(uint32_t b)
{
    return b / ALIGN;
}

static bool is_owned(const esim_tlsf *h, uint32_t b)
{
    uint32_t bit = owned_bit(b);
    return b < h->size && (h->owned[bit / 8] & (1u << (bit % 8)));
}

static void set_owned(esim_tlsf *h, uint32_t b, bool on)
{
    uint32_t bit = owned_bit(b);
    if (b >= h->size)
        return;
    if (on)
        h->owned[bit / 8] |= (uint8_t)(1u << (bit % 8));
    else
        h->owned[bit / 8] &= (uint8_t)~(1u << (bit % 8));
}

/* ---- free lists ---- */

static void insert(esim_tlsf *h, uint32_t b)
{
    size_class c = class_of(payload_of(h, b));
    uint32_t head = get(h, head_at(h, c));
    put(h, b + 4, head);
    put(h, b + 8, 0);
    if (head)
        put(h, head + 8, b);
    put(h, head_at(h, c), b);
    put(h, sl_map_at(c.fl), get(h, sl_map_at(c.fl)) | 1u << c.sl);
    put(h, C_FL_MAP, get(h, C_FL_MAP) | 1u << c.fl);
}

static void unlink_block(esim_tlsf *h, uint32_t b)
{
    size_class c = class_of(payload_of(h, b));
    uint32_t next = get(h, b + 4), prev = get(h, b + 8);
    if (prev)
        put(h, prev + 4, next);
    else
        put(h, head_at(h, c), next);
    if (next)
        put(h, next + 8, prev);
    if (prev || next)
        return;
    uint32_t sl_map = get(h, sl_map_at(c.fl)) & ~(1u << c.sl);
    put(h, sl_map_at(c.fl), sl_map);
    if (!sl_map)
        put(h, C_FL_MAP, get(h, C_FL_MAP) & ~(1u << c.fl));
}

/* The head of the first non-empty list of class c or above, 0 if none. */
static uint32_t find_block(const esim_tlsf *h, size_class c)
{
    if (c.fl >= h->fl_count)
        return 0;
    uint32_t sl_map = get(h, sl_map_at(c.fl)) & (~0u << c.sl);
    if (!sl_map) {
        uint32_t fl_map = get(h, C_FL_MAP) & (~0u << (c.fl + 1));
        if (!fl_map)
            return 0;
        c.fl = (uint32_t)__builtin_ctz(fl_map);
        sl_map = get(h, sl_map_at(c.fl));
        if (!sl_map)
            return 0;
    }
    c.sl = (uint32_t)__builtin_ctz(sl_map);
    return get(h, head_at(h, c));
}

/* ---- creation ---- */

static void format(esim_tlsf *h)
{
    memset(h->mem, 0, h->first);
    memset(h->owned, 0, h->size / 32 + 1);
    h->bad_frees = 0;
    put(h, C_MAGIC, MAGIC);
    put(h, C_SIZE, h->total);
    put(h, C_FL_COUNT, h->fl_count);
    put(h, C_FIRST, h->first);
    uint32_t payload = h->last - h->first - HDR;
    put(h, h->last, 0);
    mark_free(h, h->first, payload);
    insert(h, h->first);
    put(h, C_FREE_BYTES, payload + HDR);
    put(h, C_MIN_FREE, payload + HDR);
    put(h, C_FREE_BLOCKS, 1);
}

esim_tlsf *esim_tlsf_create(uint8_t *mem, size_t size, uint32_t base)
{
    if (!mem || (base & (ALIGN - 1)) || size < MIN_REGION || size > MAX_REGION ||
        (uint64_t)base + size > UINT32_MAX + (uint64_t)1)
        return NULL;
    uint32_t usable = (uint32_t)size & ~(uint32_t)(ALIGN - 1);
    uint32_t fl_count = fl_count_for(usable);
    uint32_t first = C_SLMAP + 4 * fl_count * (1 + SL_COUNT);
    if (first + HDR + MIN_PAYLOAD + HDR > usable)
        return NULL;
    esim_tlsf *h = calloc(1, sizeof *h);
    uint8_t *owned = calloc(usable / 32 + 1, 1);
    if (!h || !owned) {
        free(h);
        free(owned);
        return NULL;
    }
    *h = (esim_tlsf){.mem = mem, .size = usable, .total = (uint32_t)size, .base = base,
                     .fl_count = fl_count, .first = first, .last = usable - HDR, .owned = owned};
    format(h);
    return h;
}

void esim_tlsf_destroy(esim_tlsf *heap)
{
    if (!heap)
        return;
    free(heap->owned);
    free(heap);
}

/* ---- malloc and free ---- */

static uint32_t adjust(size_t size)
{
    uint32_t s = ((uint32_t)size + ALIGN - 1) & ~(uint32_t)(ALIGN - 1);
    return s < MIN_PAYLOAD ? MIN_PAYLOAD : s;
}

/* Cut the tail of free block b beyond `want` bytes into a free block of
 * its own when it is big enough to be one. Returns b's payload. */
static uint32_t trim(esim_tlsf *h, uint32_t b, uint32_t want)
{
    uint32_t have = payload_of(h, b);
    if (have - want < MIN_SPLIT)
        return have;
    uint32_t rest = b + HDR + want;
    mark_free(h, rest, have - want - HDR);
    insert(h, rest);
    add(h, C_FREE_BLOCKS, 1);
    return want;
}

static void count_malloc(esim_tlsf *h, uint32_t payload)
{
    uint32_t free_bytes = get(h, C_FREE_BYTES) - payload - HDR;
    put(h, C_FREE_BYTES, free_bytes);
    if (free_bytes < get(h, C_MIN_FREE))
        put(h, C_MIN_FREE, free_bytes);
    add(h, C_ALLOC_BYTES, (int32_t)payload);
    add(h, C_ALLOC_BLOCKS, 1);
    add(h, C_FREE_BLOCKS, -1);
}

uint32_t esim_tlsf_malloc(esim_tlsf *heap, size_t size)
{
    if (!heap || size == 0 || size > heap->size)
        return 0;
    uint32_t want = adjust(size);
    uint32_t b = find_block(heap, class_of(round_to_class(want)));
    if (!b || !sane_block(heap, b) || !is_free(heap, b) || payload_of(heap, b) < want)
        return 0;
    unlink_block(heap, b);
    uint32_t payload = trim(heap, b, want);
    mark_used(heap, b, payload);
    count_malloc(heap, payload);
    set_owned(heap, b, true);
    return heap->base + b + HDR;
}

/* The header of the allocated block whose payload starts at addr, 0 if
 * addr is not one. */
static uint32_t block_at(const esim_tlsf *h, uint32_t addr)
{
    if (addr < h->base || (addr & (ALIGN - 1)))
        return 0;
    uint32_t off = addr - h->base;
    if (off < h->first + HDR || off - HDR >= h->last)
        return 0;
    return is_owned(h, off - HDR) ? off - HDR : 0;
}

void esim_tlsf_free(esim_tlsf *heap, uint32_t addr)
{
    if (!heap || addr == 0)
        return;
    uint32_t b = block_at(heap, addr);
    if (!b) {
        heap->bad_frees++;
        return;
    }
    set_owned(heap, b, false);
    uint32_t payload = payload_of(heap, b);
    add(heap, C_FREE_BYTES, (int32_t)(payload + HDR));
    add(heap, C_ALLOC_BYTES, -(int32_t)payload);
    add(heap, C_ALLOC_BLOCKS, -1);
    add(heap, C_FREE_BLOCKS, 1);
    uint32_t prev = get(heap, b - 4);
    if ((get(heap, b) & PREV_FREE_BIT) && sane_block(heap, prev) && is_free(heap, prev) &&
        next_phys(heap, prev) == b) {
        unlink_block(heap, prev);
        payload += HDR + payload_of(heap, prev);
        b = prev;
        add(heap, C_FREE_BLOCKS, -1);
    }
    uint32_t next = b + HDR + payload;
    if (sane_block(heap, next) && is_free(heap, next)) {
        unlink_block(heap, next);
        payload += HDR + payload_of(heap, next);
        add(heap, C_FREE_BLOCKS, -1);
    }
    mark_free(heap, b, payload);
    insert(heap, b);
}

size_t esim_tlsf_block_size(const esim_tlsf *heap, uint32_t addr)
{
    if (!heap)
        return 0;
    uint32_t b = block_at(heap, addr);
    return b ? payload_of(heap, b) : 0;
}

/* ---- information ---- */

/* Every block of the highest non-empty list is larger than any block of
 * the lists below it: the largest free block is in that one list. */
static uint32_t largest_free_payload(const esim_tlsf *h)
{
    uint32_t fl_map = get(h, C_FL_MAP);
    if (!fl_map)
        return 0;
    size_class c = {msb(fl_map), 0};
    uint32_t sl_map = get(h, sl_map_at(c.fl));
    if (!sl_map)
        return 0;
    c.sl = msb(sl_map);
    uint32_t largest = 0, steps = h->size / MIN_SPLIT;
    for (uint32_t b = get(h, head_at(h, c)); b && steps--; b = get(h, b + 4))
        if (payload_of(h, b) > largest)
            largest = payload_of(h, b);
    return largest;
}

void esim_tlsf_info(const esim_tlsf *heap, esim_heap_info *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    if (!heap)
        return;
    out->start = heap->base;
    out->end = heap->base + heap->total;
    out->total_bytes = heap->total;
    out->free_bytes = get(heap, C_FREE_BYTES);
    out->largest_free_block = fit_size(largest_free_payload(heap));
    out->minimum_free_bytes = get(heap, C_MIN_FREE);
    out->allocated_bytes = get(heap, C_ALLOC_BYTES);
    out->allocated_blocks = get(heap, C_ALLOC_BLOCKS);
    out->free_blocks = get(heap, C_FREE_BLOCKS);
    out->total_blocks = out->allocated_blocks + out->free_blocks;
}

/* ---- the integrity check ---- */

typedef struct {
    uint8_t *free_marks;     /* one bit per word, set where a free block's header is */
    uint32_t free_bytes, alloc_bytes, free_blocks, alloc_blocks;
} walk_totals;

static bool check_control(const esim_tlsf *h)
{
    if (get(h, C_MAGIC) != MAGIC || get(h, C_SIZE) != h->total ||
        get(h, C_FL_COUNT) != h->fl_count || get(h, C_FIRST) != h->first)
        return false;
    uint32_t fl_map = get(h, C_FL_MAP);
    if (h->fl_count < 32 && (fl_map >> h->fl_count))
        return false;
    for (uint32_t fl = 0; fl < h->fl_count; fl++)
        if (!(fl_map & (1u << fl)) != !get(h, sl_map_at(fl)))
            return false;
    return true;
}

static void flip_mark(uint8_t *marks, uint32_t b)
{
    marks[owned_bit(b) / 8] ^= (uint8_t)(1u << (owned_bit(b) % 8));
}

static bool has_mark(const uint8_t *marks, uint32_t b)
{
    return marks[owned_bit(b) / 8] & (1u << (owned_bit(b) % 8));
}

static bool check_block(const esim_tlsf *h, uint32_t b, uint32_t prev, bool prev_free)
{
    uint32_t w = get(h, b), payload = w & ~FLAG_BITS;
    if (payload < MIN_PAYLOAD || payload > h->last - b - HDR)
        return false;
    if (!(w & PREV_FREE_BIT) != !prev_free)
        return false;
    if (prev_free && (get(h, b - 4) != prev || (w & FREE_BIT)))
        return false;
    return !is_owned(h, b) == !!(w & FREE_BIT);
}

/* Walk the blocks in address order, from the first to the sentinel. */
static bool walk_blocks(const esim_tlsf *h, walk_totals *t)
{
    uint32_t b = h->first, prev = 0;
    bool prev_free = false;
    while (b < h->last) {
        if (!check_block(h, b, prev, prev_free))
            return false;
        uint32_t payload = payload_of(h, b);
        prev_free = is_free(h, b);
        if (prev_free) {
            flip_mark(t->free_marks, b);
            t->free_bytes += payload + HDR;
            t->free_blocks++;
        } else {
            t->alloc_bytes += payload;
            t->alloc_blocks++;
        }
        prev = b;
        b = next_phys(h, b);
    }
    uint32_t sentinel = get(h, h->last);
    return b == h->last && (sentinel & ~PREV_FREE_BIT) == 0 &&
           !(sentinel & PREV_FREE_BIT) == !prev_free && (!prev_free || get(h, b - 4) == prev);
}

/* Every list holds free blocks of its own class, each once, doubly linked. */
static bool walk_list(const esim_tlsf *h, size_class c, walk_totals *t, uint32_t *seen)
{
    uint32_t prev = 0;
    for (uint32_t b = get(h, head_at(h, c)); b; b = get(h, b + 4)) {
        if (b < h->first || b >= h->last || (b & (ALIGN - 1)) || !has_mark(t->free_marks, b))
            return false;
        flip_mark(t->free_marks, b);
        size_class bc = class_of(payload_of(h, b));
        if (get(h, b + 8) != prev || bc.fl != c.fl || bc.sl != c.sl)
            return false;
        prev = b;
        (*seen)++;
    }
    bool listed = get(h, sl_map_at(c.fl)) & (1u << c.sl);
    return listed == (prev != 0);
}

static bool walk_lists(const esim_tlsf *h, walk_totals *t)
{
    uint32_t seen = 0;
    for (uint32_t fl = 0; fl < h->fl_count; fl++)
        for (uint32_t sl = 0; sl < SL_COUNT; sl++)
            if (!walk_list(h, (size_class){fl, sl}, t, &seen))
                return false;
    return seen == t->free_blocks;
}

static uint32_t owned_count(const esim_tlsf *h)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < h->size / 32 + 1; i++)
        n += (uint32_t)__builtin_popcount(h->owned[i]);
    return n;
}

static bool check_counters(const esim_tlsf *h, const walk_totals *t)
{
    return get(h, C_FREE_BYTES) == t->free_bytes && get(h, C_ALLOC_BYTES) == t->alloc_bytes &&
           get(h, C_FREE_BLOCKS) == t->free_blocks && get(h, C_ALLOC_BLOCKS) == t->alloc_blocks &&
           get(h, C_MIN_FREE) <= t->free_bytes && owned_count(h) == t->alloc_blocks &&
           t->free_bytes + t->alloc_bytes + HDR * t->alloc_blocks + h->first + HDR == h->size;
}

bool esim_tlsf_check(const esim_tlsf *heap)
{
    if (!heap || heap->bad_frees || !check_control(heap))
        return false;
    walk_totals t = {.free_marks = calloc(heap->size / 32 + 1, 1)};
    if (!t.free_marks)
        return false;
    bool ok = walk_blocks(heap, &t) && walk_lists(heap, &t) && check_counters(heap, &t);
    free(t.free_marks);
    return ok;
}
