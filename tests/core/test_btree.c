/* Tests for the btree engine (btree.h): round trips, many keys and tree
 * levels, overflow items, deletes, ordered cursor moves, reopening the bytes
 * written, page sizes, and every check against corrupt files. After each
 * scenario an independent walker reads the bytes written and checks the
 * Berkeley DB 1.85 layout (docs/btree.md): sorted keys, entries inside their
 * pages, separators that bound their children, leaves at one depth linked
 * in order, overflow chains, the free list. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp32sim/btree.h"

/* ---- a stream in memory ---- */

typedef struct mem {
    uint8_t *buf;
    size_t len;
    unsigned flushes;
} mem;

static esp_err_t mem_read(void *ctx, uint64_t off, void *buf, size_t len, size_t *got)
{
    mem *m = ctx;
    *got = 0;
    if (off < m->len) {
        *got = m->len - off < len ? m->len - (size_t)off : len;
        memcpy(buf, m->buf + off, *got);
    }
    return ESP_OK;
}

static esp_err_t mem_write(void *ctx, uint64_t off, const void *buf, size_t len)
{
    mem *m = ctx;
    if (off + len > m->len) {
        m->buf = realloc(m->buf, off + len);
        assert_non_null(m->buf);
        memset(m->buf + m->len, 0, off + len - m->len);
        m->len = off + len;
    }
    memcpy(m->buf + off, buf, len);
    return ESP_OK;
}

static esp_err_t mem_size(void *ctx, uint64_t *size)
{
    *size = ((mem *)ctx)->len;
    return ESP_OK;
}

static esp_err_t mem_flush(void *ctx)
{
    ((mem *)ctx)->flushes++;
    return ESP_OK;
}

static esim_btree_io mem_io(mem *m)
{
    esim_btree_io io = {mem_read, mem_write, mem_size, mem_flush, m};
    return io;
}

static esim_btree *open_mem(mem *m, uint32_t pagesize)
{
    esim_btree_io io = mem_io(m);
    esim_btree_config cfg = {.pagesize = pagesize};
    esim_btree *db = NULL;
    assert_int_equal(esim_btree_open(&io, &cfg, &db), ESP_OK);
    return db;
}

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static void wr32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24); }
static void wr16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }

static int cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    return esim_btree_compare(a, an, b, bn);
}

/* ---- the independent layout walker ---- */

typedef struct walk {
    const uint8_t *f;
    uint32_t psize, npages;
    uint8_t *seen;            /* page -> used by the tree or the free list */
    uint32_t leaf_depth;      /* 0: no leaf yet */
    uint32_t leaves[100000];
    uint32_t nleaves;
    size_t records;
    uint32_t levels;
} walk;

static const uint8_t *page(walk *w, uint32_t no)
{
    assert_true(no < w->npages);
    return w->f + (size_t)no * w->psize;
}

/* Bytes of an item: in place, or the overflow chain a reference names. */
static uint8_t *item_bytes(walk *w, const uint8_t *p, uint32_t n, bool big, size_t *len)
{
    if (!big) {
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, p, n);
        *len = n;
        return copy;
    }
    assert_int_equal(n, 8);
    uint32_t no = rd32(p), total = rd32(p + 4), plen = w->psize - 20;
    uint8_t *buf = malloc(total);
    for (uint32_t done = 0; done < total; done += plen) {
        const uint8_t *pg = page(w, no);
        assert_int_equal(rd32(pg), no);
        assert_int_equal(rd32(pg + 12) & 0x1f, 0x04);     /* P_OVERFLOW */
        assert_int_equal(rd16(pg + 16), 0);
        assert_int_equal(rd16(pg + 18), 0);
        w->seen[no] = 1;
        uint32_t n2 = total - done < plen ? total - done : plen;
        memcpy(buf + done, pg + 20, n2);
        no = rd32(pg + 8);
        if (done + plen >= total)
            assert_int_equal(no, 0);
    }
    *len = total;
    return buf;
}

typedef struct span { uint32_t off, len; } span;
static int span_cmp(const void *a, const void *b)
{
    return (int)((const span *)a)->off - (int)((const span *)b)->off;
}

static void check_page(walk *w, const uint8_t *pg, uint32_t no, bool leaf)
{
    uint32_t lower = rd16(pg + 16), upper = rd16(pg + 18), n = (lower - 20) / 2;
    if (upper == 0 && w->psize == 65536)
        upper = 65536;
    assert_int_equal(rd32(pg), no);
    assert_true(lower >= 20 && lower <= upper && upper <= w->psize && (lower % 2) == 0);
    span *s = malloc((n + 1) * sizeof *s);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t off = rd16(pg + 20 + 2 * i);
        assert_true(off >= upper && off + 9 <= w->psize);
        uint32_t len = leaf ? 9 + rd32(pg + off) + rd32(pg + off + 4) : 9 + rd32(pg + off);
        len = (len + 3) & ~3u;
        assert_true(off + len <= w->psize);
        s[i].off = off;
        s[i].len = len;
    }
    qsort(s, n, sizeof *s, span_cmp);
    for (uint32_t i = 1; i < n; i++)
        assert_true(s[i - 1].off + s[i - 1].len <= s[i].off);
    free(s);
}

static void walk_page(walk *w, uint32_t no, const uint8_t *lo, size_t lon, const uint8_t *hi, size_t hin,
                      uint32_t depth)
{
    assert_true(depth < 50);
    assert_false(w->seen[no]);
    w->seen[no] = 1;
    const uint8_t *pg = page(w, no);
    uint32_t type = rd32(pg + 12) & 0x1f;
    assert_true(type == 0x01 || type == 0x02);
    bool leaf = type == 0x02;
    check_page(w, pg, no, leaf);
    uint32_t n = (rd16(pg + 16) - 20) / 2;
    if (depth > w->levels)
        w->levels = depth;
    if (leaf) {
        if (w->leaf_depth == 0)
            w->leaf_depth = depth;
        assert_int_equal(w->leaf_depth, depth);
        if (no != 1)
            assert_true(n > 0);     /* empty leaves leave the tree */
        w->leaves[w->nleaves++] = no;
        uint8_t *prev = NULL;
        size_t prevn = 0;
        for (uint32_t i = 0; i < n; i++) {
            const uint8_t *e = pg + rd16(pg + 20 + 2 * i);
            uint32_t ks = rd32(e), ds = rd32(e + 4);
            size_t kn, dn;
            uint8_t *k = item_bytes(w, e + 9, ks, e[8] & 0x02, &kn);
            free(item_bytes(w, e + 9 + ks, ds, e[8] & 0x01, &dn));
            if (prev)
                assert_true(cmp(prev, prevn, k, kn) < 0);
            if (lo)
                assert_true(cmp(lo, lon, k, kn) <= 0);
            if (hi)
                assert_true(cmp(k, kn, hi, hin) < 0);
            free(prev);
            prev = k;
            prevn = kn;
            w->records++;
        }
        free(prev);
        return;
    }
    assert_true(n >= 1);
    uint8_t **keys = calloc(n + 1, sizeof *keys);
    size_t *lens = calloc(n + 1, sizeof *lens);
    for (uint32_t i = 1; i < n; i++) {
        const uint8_t *e = pg + rd16(pg + 20 + 2 * i);
        keys[i] = item_bytes(w, e + 9, rd32(e), e[8] & 0x02, &lens[i]);
        if (i > 1)
            assert_true(cmp(keys[i - 1], lens[i - 1], keys[i], lens[i]) < 0);
        if (lo)
            assert_true(cmp(lo, lon, keys[i], lens[i]) <= 0);
        if (hi)
            assert_true(cmp(keys[i], lens[i], hi, hin) < 0);
    }
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *e = pg + rd16(pg + 20 + 2 * i);
        const uint8_t *clo = i ? keys[i] : lo;
        size_t clon = i ? lens[i] : lon;
        const uint8_t *chi = i + 1 < n ? keys[i + 1] : hi;
        size_t chin = i + 1 < n ? lens[i + 1] : hin;
        walk_page(w, rd32(e + 4), clo, clon, chi, chin, depth + 1);
    }
    for (uint32_t i = 0; i <= n; i++)
        free(keys[i]);
    free(keys);
    free(lens);
}

/* Walk the whole file; returns how many pairs it holds. */
static size_t verify(const mem *m)
{
    walk *w = calloc(1, sizeof *w);
    w->f = m->buf;
    assert_true(m->len >= 24);
    assert_int_equal(rd32(m->buf), 0x053162);
    assert_int_equal(rd32(m->buf + 4), 3);
    w->psize = rd32(m->buf + 8);
    assert_int_equal(rd32(m->buf + 16), 0);       /* nrecs: recno only */
    assert_int_equal(rd32(m->buf + 20), 0x20);    /* B_NODUPS */
    assert_int_equal(m->len % w->psize, 0);
    w->npages = (uint32_t)(m->len / w->psize);
    w->seen = calloc(w->npages, 1);
    walk_page(w, 1, NULL, 0, NULL, 0, 1);
    for (uint32_t i = 0; i < w->nleaves; i++) {
        const uint8_t *pg = page(w, w->leaves[i]);
        assert_int_equal(rd32(pg + 4), i ? w->leaves[i - 1] : 0);
        assert_int_equal(rd32(pg + 8), i + 1 < w->nleaves ? w->leaves[i + 1] : 0);
    }
    uint32_t steps = 0;
    for (uint32_t no = rd32(m->buf + 12); no; no = rd32(page(w, no) + 8)) {
        assert_true(no >= 2 && no < w->npages);
        assert_false(w->seen[no]);
        w->seen[no] = 1;
        assert_true(++steps <= w->npages);
    }
    size_t records = w->records;
    free(w->seen);
    free(w);
    return records;
}

static uint32_t tree_levels(const mem *m)
{
    uint32_t psize = rd32(m->buf + 8), levels = 1, no = 1;
    while ((rd32(m->buf + (size_t)no * psize + 12) & 0x1f) == 0x01) {
        const uint8_t *pg = m->buf + (size_t)no * psize;
        no = rd32(pg + rd16(pg + 20) + 4);
        levels++;
    }
    return levels;
}

/* ---- helpers ---- */

static void put_s(esim_btree *db, const char *k, const char *v)
{
    assert_int_equal(esim_btree_put(db, k, strlen(k), v, strlen(v)), ESP_OK);
}

static void expect(esim_btree *db, const void *k, size_t kn, const void *v, size_t vn)
{
    uint8_t *got = NULL;
    size_t n = 0;
    assert_int_equal(esim_btree_get(db, k, kn, &got, &n), ESP_OK);
    assert_int_equal(n, vn);
    assert_memory_equal(got, v, vn);
    free(got);
}

static void expect_s(esim_btree *db, const char *k, const char *v) { expect(db, k, strlen(k), v, strlen(v)); }

static esp_err_t seq_s(esim_btree *db, esim_btree_move mv, const char *key, char *out)
{
    uint8_t *k = NULL;
    size_t kn = 0;
    esp_err_t err = esim_btree_seq(db, mv, key, key ? strlen(key) : 0, &k, &kn, NULL, NULL);
    if (!err) {
        memcpy(out, k, kn);
        out[kn] = 0;
        free(k);
    }
    return err;
}

static void key_of(unsigned i, char *buf) { sprintf(buf, "key%07u", i); }

/* ---- scenarios ---- */

static void test_round_trip_and_bytes(void **state)
{
    (void)state;
    mem m = {0};
    esim_btree *db = open_mem(&m, 0);
    assert_int_equal(esim_btree_pagesize(db), 4096);
    assert_int_equal(esim_btree_flush(db), ESP_OK);
    assert_int_equal(m.len, 0);                   /* nothing changed: nothing written */
    put_s(db, "a", "1");
    assert_int_equal(esim_btree_close(db), ESP_OK);
    assert_int_equal(m.len, 2 * 4096);
    assert_true(m.flushes >= 1);
    const uint8_t meta[24] = {0x62, 0x31, 0x05, 0, 3, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20, 0, 0, 0};
    assert_memory_equal(m.buf, meta, 24);
    const uint8_t *root = m.buf + 4096;
    const uint8_t hdr[24] = {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 22, 0, 0xf4, 0x0f, 0xf4, 0x0f, 0, 0};
    assert_memory_equal(root, hdr, 24);
    const uint8_t entry[12] = {1, 0, 0, 0, 1, 0, 0, 0, 0, 'a', '1', 0};
    assert_memory_equal(root + 4084, entry, 12);
    assert_int_equal(verify(&m), 1);

    db = open_mem(&m, 512);                       /* the file's page size wins */
    assert_int_equal(esim_btree_pagesize(db), 4096);
    expect_s(db, "a", "1");
    put_s(db, "b", "");
    put_s(db, "", "empty key");
    put_s(db, "a", "replaced");
    expect_s(db, "a", "replaced");
    expect_s(db, "b", "");
    expect_s(db, "", "empty key");
    uint8_t *v = NULL;
    size_t n;
    assert_int_equal(esim_btree_get(db, "c", 1, &v, &n), ESP_ERR_NOT_FOUND);
    assert_int_equal(esim_btree_delete(db, "c", 1), ESP_ERR_NOT_FOUND);
    assert_int_equal(esim_btree_close(db), ESP_OK);
    assert_int_equal(verify(&m), 3);
    free(m.buf);
}

static void test_open_arguments(void **state)
{
    (void)state;
    mem m = {0};
    esim_btree_io io = mem_io(&m);
    esim_btree *db;
    esim_btree_config bad[] = {{.pagesize = 511}, {.pagesize = 513}, {.pagesize = 65538}, {.minkeypage = 1},
                               {.flags = 4}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(esim_btree_open(&io, &bad[i], &db), ESP_ERR_INVALID_ARG);
    esim_btree_config dup = {.flags = 1};
    assert_int_equal(esim_btree_open(&io, &dup, &db), ESP_ERR_NOT_SUPPORTED);
    esim_btree_io no_read = io;
    no_read.read = NULL;
    assert_int_equal(esim_btree_open(&no_read, NULL, &db), ESP_ERR_INVALID_ARG);
    assert_int_equal(esim_btree_close(NULL), ESP_OK);
}

/* Thousands of keys in a scrambled order on small pages: many splits,
 * several levels; then deletes of every other key and re-inserts. */
static void many_keys(uint32_t psize, unsigned count, uint32_t min_levels)
{
    mem m = {0};
    esim_btree *db = open_mem(&m, psize);
    char k[32], v[64];
    for (unsigned j = 0; j < count; j++) {
        unsigned i = (j * 7919u) % count;
        key_of(i, k);
        sprintf(v, "value-%u-%s", i * 3u, i % 5 ? "" : "with a longer tail to vary entry sizes");
        put_s(db, k, v);
    }
    assert_int_equal(esim_btree_flush(db), ESP_OK);
    assert_int_equal(verify(&m), count);
    assert_true(tree_levels(&m) >= min_levels);
    for (unsigned i = 0; i < count; i += 2) {
        key_of(i, k);
        assert_int_equal(esim_btree_delete(db, k, strlen(k)), ESP_OK);
    }
    assert_int_equal(esim_btree_flush(db), ESP_OK);
    assert_int_equal(verify(&m), count / 2);
    key_of(0, k);
    assert_int_equal(esim_btree_get(db, k, strlen(k), &(uint8_t *){NULL}, &(size_t){0}), ESP_ERR_NOT_FOUND);
    for (unsigned i = 0; i < count; i += 2) {
        key_of(i, k);
        put_s(db, k, "again");
    }
    assert_int_equal(esim_btree_close(db), ESP_OK);
    assert_int_equal(verify(&m), count);

    db = open_mem(&m, 0);
    unsigned seen = 0;
    char got[64];
    esp_err_t err;
    while ((err = seq_s(db, ESIM_BTREE_NEXT, NULL, got)) == ESP_OK) {
        key_of(seen, k);
        assert_string_equal(got, k);
        seen++;
    }
    assert_int_equal(err, ESP_ERR_NOT_FOUND);
    assert_int_equal(seen, count);
    key_of(1, k);
    sprintf(v, "value-%u-%s", 3u, "");
    expect_s(db, k, v);
    key_of(2, k);
    expect_s(db, k, "again");
    assert_int_equal(esim_btree_close(db), ESP_OK);
    free(m.buf);
}

static void test_many_keys_small_pages(void **state) { (void)state; many_keys(512, 6000, 3); }
static void test_many_keys_default_pages(void **state) { (void)state; many_keys(4096, 20000, 2); }
static void test_many_keys_2k_pages(void **state) { (void)state; many_keys(2048, 5000, 2); }

/* Delete everything: pages leave the tree for the free list, the root
 * becomes an empty leaf; new inserts take freed pages first. */
static void test_delete_all_frees_pages(void **state)
{
    (void)state;
    mem m = {0};
    esim_btree *db = open_mem(&m, 512);
    char k[32];
    for (unsigned i = 0; i < 2000; i++) {
        key_of(i, k);
        put_s(db, k, "v");
    }
    assert_int_equal(esim_btree_flush(db), ESP_OK);
    size_t len = m.len;
    for (unsigned i = 0; i < 2000; i++) {
        key_of(i, k);
        assert_int_equal(esim_btree_delete(db, k, strlen(k)), ESP_OK);
    }
    assert_int_equal(esim_btree_flush(db), ESP_OK);
    assert_int_equal(verify(&m), 0);
    assert_int_equal(rd32(m.buf + 512 + 12) & 0x1f, 0x02);   /* root: a leaf again */
    assert_int_equal(rd16(m.buf + 512 + 16), 20);
    assert_int_not_equal(rd32(m.buf + 12), 0);                /* a free list */
    char got[64];
    assert_int_equal(seq_s(db, ESIM_BTREE_FIRST, NULL, got), ESP_ERR_NOT_FOUND);
    assert_int_equal(seq_s(db, ESIM_BTREE_LAST, NULL, got), ESP_ERR_NOT_FOUND);
    for (unsigned i = 0; i < 2000; i++) {
        key_of(i, k);
        put_s(db, k, "w");
    }
    assert_int_equal(esim_btree_close(db), ESP_OK);
    assert_int_equal(m.len, len);                              /* freed pages were reused */
    assert_int_equal(verify(&m), 2000);
    free(m.buf);
}

static uint8_t *pattern(size_t n, unsigned seed)
{
    uint8_t *p = malloc(n);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 31u + seed + (i >> 8));
    return p;
}

static void overflow_items(uint32_t psize)
{
    mem m = {0};
    esim_btree *db = open_mem(&m, psize);
    uint8_t *bigk = pattern(3000, 1), *bigv = pattern(20000, 2), *midv = pattern(psize, 3);
    assert_int_equal(esim_btree_put(db, bigk, 3000, bigv, 20000), ESP_OK);
    assert_int_equal(esim_btree_put(db, "small", 5, midv, psize), ESP_OK);
    assert_int_equal(esim_btree_put(db, bigv, 5000, "tiny", 4), ESP_OK);
    char k[32];
    for (unsigned i = 0; i < 300; i++) {     /* splits around big keys */
        key_of(i, k);
        bigk[0] = (uint8_t)i;
        bigk[1] = (uint8_t)(i >> 8);
        assert_int_equal(esim_btree_put(db, bigk, 1000 + i, k, strlen(k)), ESP_OK);
    }
    bigk[0] = 1;
    bigk[1] = 0;
    assert_int_equal(esim_btree_close(db), ESP_OK);
    assert_int_equal(verify(&m), 303);
    db = open_mem(&m, 0);
    expect(db, "small", 5, midv, psize);
    expect(db, bigv, 5000, "tiny", 4);
    bigk[0] = 0x01;
    bigk[1] = 0x00;
    uint8_t *orig = pattern(3000, 1);
    expect(db, orig, 3000, bigv, 20000);
    assert_int_equal(esim_btree_delete(db, orig, 3000), ESP_OK);
    assert_int_equal(esim_btree_put(db, "small", 5, "now short", 9), ESP_OK);
    for (unsigned i = 0; i < 300; i += 3) {
        bigk[0] = (uint8_t)i;
        bigk[1] = (uint8_t)(i >> 8);
        assert_int_equal(esim_btree_delete(db, bigk, 1000 + i), ESP_OK);
    }
    assert_int_equal(esim_btree_close(db), ESP_OK);
    assert_int_equal(verify(&m), 202);
    assert_int_not_equal(rd32(m.buf + 12), 0);
    free(orig);
    free(bigk);
    free(bigv);
    free(midv);
    free(m.buf);
}

static void test_overflow_512(void **state) { (void)state; overflow_items(512); }
static void test_overflow_4096(void **state) { (void)state; overflow_items(4096); }

/* Berkeley DB's threshold: a pair longer than (psize - 20) / minkeypage -
 * 14 bytes sends its data to overflow pages. */
static void test_minkeypage_sets_the_overflow_threshold(void **state)
{
    (void)state;
    mem m = {0};
    esim_btree_io io = mem_io(&m);
    esim_btree_config cfg = {.pagesize = 512, .minkeypage = 4};
    esim_btree *db;
    assert_int_equal(esim_btree_open(&io, &cfg, &db), ESP_OK);
    uint8_t v[200] = {0};
    /* (512 - 20) / 4 - 14 = 109 */
    assert_int_equal(esim_btree_put(db, "k", 1, v, 108), ESP_OK);
    assert_int_equal(esim_btree_put(db, "l", 1, v, 109), ESP_OK);
    assert_int_equal(esim_btree_close(db), ESP_OK);
    const uint8_t *root = m.buf + 512;
    const uint8_t *e0 = root + rd16(root + 20), *e1 = root + rd16(root + 22);
    assert_int_equal(e0[8], 0);
    assert_int_equal(rd32(e0 + 4), 108);
    assert_int_equal(e1[8], 0x01);       /* P_BIGDATA */
    assert_int_equal(rd32(e1 + 4), 8);
    assert_int_equal(rd32(e1 + 9 + 1 + 4), 109);
    assert_int_equal(verify(&m), 2);
    free(m.buf);
}

static void test_cursor_moves(void **state)
{
    (void)state;
    mem m = {0};
    esim_btree *db = open_mem(&m, 512);
    char k[32], got[64];
    for (unsigned i = 0; i < 1000; i += 2) {     /* even keys only */
        key_of(i, k);
        put_s(db, k, k);
    }
    assert_int_equal(seq_s(db, ESIM_BTREE_FIRST, NULL, got), ESP_OK);
    assert_string_equal(got, "key0000000");
    assert_int_equal(seq_s(db, ESIM_BTREE_LAST, NULL, got), ESP_OK);
    assert_string_equal(got, "key0000998");
    assert_int_equal(seq_s(db, ESIM_BTREE_NEXT, NULL, got), ESP_ERR_NOT_FOUND);
    assert_int_equal(seq_s(db, ESIM_BTREE_PREV, NULL, got), ESP_OK);
    assert_string_equal(got, "key0000996");
    assert_int_equal(seq_s(db, ESIM_BTREE_AT, "key0000501", got), ESP_OK);
    assert_string_equal(got, "key0000502");
    assert_int_equal(seq_s(db, ESIM_BTREE_PREV, NULL, got), ESP_OK);
    assert_string_equal(got, "key0000500");
    assert_int_equal(seq_s(db, ESIM_BTREE_AT, "key0000500", got), ESP_OK);
    assert_string_equal(got, "key0000500");
    assert_int_equal(seq_s(db, ESIM_BTREE_AT, "key1", got), ESP_ERR_NOT_FOUND);
    assert_int_equal(seq_s(db, ESIM_BTREE_AT, "", got), ESP_OK);
    assert_string_equal(got, "key0000000");
    assert_int_equal(seq_s(db, ESIM_BTREE_PREV, NULL, got), ESP_ERR_NOT_FOUND);
    /* The cursor's key deleted: moves go to its neighbours. */
    assert_int_equal(seq_s(db, ESIM_BTREE_AT, "key0000300", got), ESP_OK);
    assert_int_equal(esim_btree_delete(db, "key0000300", 10), ESP_OK);
    assert_int_equal(seq_s(db, ESIM_BTREE_NEXT, NULL, got), ESP_OK);
    assert_string_equal(got, "key0000302");
    assert_int_equal(esim_btree_delete(db, "key0000302", 10), ESP_OK);
    assert_int_equal(seq_s(db, ESIM_BTREE_PREV, NULL, got), ESP_OK);
    assert_string_equal(got, "key0000298");
    /* Walk backwards over every key. */
    unsigned n = 0;
    char last[64] = "~";
    assert_int_equal(seq_s(db, ESIM_BTREE_LAST, NULL, got), ESP_OK);
    do {
        assert_true(strcmp(got, last) < 0);
        strcpy(last, got);
        n++;
    } while (seq_s(db, ESIM_BTREE_PREV, NULL, got) == ESP_OK);
    assert_int_equal(n, 498);
    /* Values come with keys; shorter keys sort first. */
    put_s(db, "key", "short");
    uint8_t *kk, *vv;
    size_t kn, vn;
    assert_int_equal(esim_btree_seq(db, ESIM_BTREE_FIRST, NULL, 0, &kk, &kn, &vv, &vn), ESP_OK);
    assert_int_equal(kn, 3);
    assert_memory_equal(vv, "short", 5);
    free(kk);
    free(vv);
    assert_int_equal(esim_btree_close(db), ESP_OK);
    assert_int_equal(verify(&m), 499);
    free(m.buf);
}

static void test_page_size_variants(void **state)
{
    (void)state;
    uint32_t sizes[] = {512, 514, 1024, 8192, 65536};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        mem m = {0};
        esim_btree *db = open_mem(&m, sizes[s]);
        char k[32];
        unsigned count = sizes[s] == 65536 ? 8000 : 1500;
        for (unsigned i = 0; i < count; i++) {
            key_of(count - 1 - i, k);      /* descending order */
            put_s(db, k, "some value");
        }
        assert_int_equal(esim_btree_close(db), ESP_OK);
        assert_int_equal(rd32(m.buf + 8), sizes[s]);
        assert_int_equal(verify(&m), count);
        db = open_mem(&m, 0);
        key_of(77, k);
        expect_s(db, k, "some value");
        assert_int_equal(esim_btree_close(db), ESP_OK);
        free(m.buf);
    }
}

/* ---- corrupt files ---- */

static mem sample_db(uint32_t psize, unsigned count)
{
    mem m = {0};
    esim_btree *db = open_mem(&m, psize);
    char k[32];
    for (unsigned i = 0; i < count; i++) {
        key_of(i, k);
        put_s(db, k, "value");
    }
    uint8_t *big = pattern(2000, 9);
    assert_int_equal(esim_btree_put(db, "big", 3, big, 2000), ESP_OK);
    free(big);
    assert_int_equal(esim_btree_close(db), ESP_OK);
    return m;
}

/* Open a damaged copy, read everything, change something, close: it must
 * fail somewhere with `want` (never crash or hang). */
static void expect_damage(const mem *good, void (*damage)(mem *), esp_err_t want)
{
    mem m = {malloc(good->len), good->len, 0};
    memcpy(m.buf, good->buf, good->len);
    damage(&m);
    esim_btree_io io = mem_io(&m);
    esim_btree *db = NULL;
    esp_err_t err = esim_btree_open(&io, NULL, &db), first = err;
    if (!err) {
        uint8_t *k, *v;
        size_t kn, vn;
        unsigned n = 0;
        while (!err && n++ < 100000) {
            err = esim_btree_seq(db, ESIM_BTREE_NEXT, NULL, 0, &k, &kn, &v, &vn);
            if (!err) {
                free(k);
                free(v);
            }
        }
        if (err == ESP_ERR_NOT_FOUND)
            err = ESP_OK;
        first = err;
        esp_err_t e2 = esim_btree_get(db, "big", 3, &v, &vn);
        if (!e2)
            free(v);
        if (!first && e2 != ESP_ERR_NOT_FOUND)
            first = e2;
        e2 = esim_btree_put(db, "key0000005", 10, "x", 1);
        if (!first)
            first = e2;
        esim_btree_close(db);
    }
    assert_int_equal(first, want);
    free(m.buf);
}

#define PS 512u
static uint8_t *pg_of(mem *m, uint32_t no) { return m->buf + (size_t)no * PS; }
static void bad_magic(mem *m) { m->buf[0] ^= 0xff; }
static void big_endian(mem *m) { wr32(m->buf, 0x62310500u); }
static void bad_version(mem *m) { wr32(m->buf + 4, 2); }
static void bad_psize(mem *m) { wr32(m->buf + 8, 500); }
static void odd_psize(mem *m) { wr32(m->buf + 8, 513); }
static void recno(mem *m) { wr32(m->buf + 20, 0xa0); }
static void dups(mem *m) { wr32(m->buf + 20, 0); }
static void unknown_flag(mem *m) { wr32(m->buf + 20, 0x21); }
static void short_meta(mem *m) { m->len = 20; }
static void one_page(mem *m) { m->len = PS; }
static void free_out_of_range(mem *m) { wr32(m->buf + 12, 999999); }
static void root_pgno(mem *m) { wr32(pg_of(m, 1), 7); }
static void root_type(mem *m) { wr32(pg_of(m, 1) + 12, 0x04); }
static void root_lower_above_upper(mem *m) { wr16(pg_of(m, 1) + 16, 510); }
static void root_upper_past_page(mem *m) { wr16(pg_of(m, 1) + 18, 600); }
static void root_odd_lower(mem *m) { wr16(pg_of(m, 1) + 16, 23); }
static void root_empty_internal(mem *m) { wr16(pg_of(m, 1) + 16, 20); }
static void root_child_out_of_range(mem *m)
{
    uint8_t *pg = pg_of(m, 1);
    wr32(pg + rd16(pg + 20) + 4, 5000);
}
static void root_child_is_root(mem *m)
{
    uint8_t *pg = pg_of(m, 1);
    wr32(pg + rd16(pg + 20) + 4, 1);
}
/* A child of the root points back at its parent's sibling chain: page A's
 * first child becomes A itself or an ancestor. */
static void child_loop(mem *m)
{
    uint8_t *root = pg_of(m, 1);
    uint32_t a = rd32(root + rd16(root + 20) + 4);
    uint8_t *pa = pg_of(m, a);
    if ((rd32(pa + 12) & 0x1f) == 0x01) {
        uint32_t b = rd32(pa + rd16(pa + 20) + 4);
        uint8_t *pb = pg_of(m, b);
        wr32(pb + rd16(pb + 20) + 4, a);   /* b's child is a */
        wr32(pb + 12, 0x01);
    }
}
static uint32_t first_leaf(mem *m)
{
    uint32_t no = 1;
    while ((rd32(pg_of(m, no) + 12) & 0x1f) == 0x01) {
        uint8_t *pg = pg_of(m, no);
        no = rd32(pg + rd16(pg + 20) + 4);
    }
    return no;
}
static void linp_overlap(mem *m)
{
    uint8_t *pg = pg_of(m, first_leaf(m));
    wr16(pg + 22, rd16(pg + 20) + 4);
}
static void linp_into_header(mem *m)
{
    uint8_t *pg = pg_of(m, first_leaf(m));
    wr16(pg + 20, 8);
}
static void entry_past_page(mem *m)
{
    uint8_t *pg = pg_of(m, first_leaf(m));
    wr32(pg + rd16(pg + 20), 0xfffffff0u);
}
static void linp_past_page(mem *m)
{
    uint8_t *pg = pg_of(m, first_leaf(m));
    wr16(pg + 20, PS - 4);
}
static void keys_out_of_order(mem *m)
{
    uint8_t *pg = pg_of(m, first_leaf(m));
    uint16_t a = rd16(pg + 20), b = rd16(pg + 22);
    wr16(pg + 20, b);
    wr16(pg + 22, a);
}
/* The big value's overflow chain: find the leaf entry for "big". */
static uint8_t *big_entry(mem *m)
{
    for (uint32_t no = 1; no < m->len / PS; no++) {
        uint8_t *pg = pg_of(m, no);
        if ((rd32(pg + 12) & 0x1f) != 0x02)
            continue;
        for (uint32_t i = 0; i < (rd16(pg + 16) - 20u) / 2u; i++) {
            uint8_t *e = pg + rd16(pg + 20 + 2 * i);
            if (rd32(e) == 3 && memcmp(e + 9, "big", 3) == 0)
                return e;
        }
    }
    fail();
    return NULL;
}
static void ovfl_length_huge(mem *m) { wr32(big_entry(m) + 9 + 3 + 4, 0x7fffffff); }
static void ovfl_chain_to_root(mem *m) { wr32(big_entry(m) + 9 + 3, 1); }
static void ovfl_chain_cut(mem *m)
{
    uint8_t *pg = pg_of(m, rd32(big_entry(m) + 9 + 3));
    wr32(pg + 8, 0);
}
static void ovfl_chain_loops(mem *m)
{
    uint32_t first = rd32(big_entry(m) + 9 + 3);
    uint8_t *pg = pg_of(m, first);
    wr32(pg_of(m, rd32(pg + 8)) + 8, first);
}
static void ovfl_bad_ref_size(mem *m) { wr32(big_entry(m) + 4, 9); }

static void test_corrupt_files(void **state)
{
    (void)state;
    mem good = sample_db(PS, 3000);
    assert_true(tree_levels(&good) >= 3);
    assert_int_equal(verify(&good), 3001);
    static const struct {
        void (*damage)(mem *);
        esp_err_t want;
    } cases[] = {
        {bad_magic, ESP_ERR_INVALID_STATE}, {big_endian, ESP_ERR_NOT_SUPPORTED},
        {bad_version, ESP_ERR_INVALID_STATE}, {bad_psize, ESP_ERR_INVALID_STATE},
        {odd_psize, ESP_ERR_INVALID_STATE}, {recno, ESP_ERR_NOT_SUPPORTED}, {dups, ESP_ERR_NOT_SUPPORTED},
        {unknown_flag, ESP_ERR_INVALID_STATE}, {short_meta, ESP_ERR_INVALID_STATE},
        {one_page, ESP_ERR_INVALID_STATE}, {free_out_of_range, ESP_ERR_INVALID_STATE},
        {root_pgno, ESP_ERR_INVALID_STATE}, {root_type, ESP_ERR_INVALID_STATE},
        {root_lower_above_upper, ESP_ERR_INVALID_STATE}, {root_upper_past_page, ESP_ERR_INVALID_STATE},
        {root_odd_lower, ESP_ERR_INVALID_STATE}, {root_empty_internal, ESP_ERR_INVALID_STATE},
        {root_child_out_of_range, ESP_ERR_INVALID_STATE}, {root_child_is_root, ESP_ERR_INVALID_STATE},
        {child_loop, ESP_ERR_INVALID_STATE}, {linp_overlap, ESP_ERR_INVALID_STATE},
        {linp_into_header, ESP_ERR_INVALID_STATE}, {entry_past_page, ESP_ERR_INVALID_STATE},
        {linp_past_page, ESP_ERR_INVALID_STATE},
        /* Two keys swapped in a leaf: searches go by the order, so one of
         * them is skipped, but every walk still ends, in key order. */
        {keys_out_of_order, ESP_OK},
        {ovfl_length_huge, ESP_ERR_INVALID_STATE}, {ovfl_chain_to_root, ESP_ERR_INVALID_STATE},
        {ovfl_chain_cut, ESP_ERR_INVALID_STATE}, {ovfl_chain_loops, ESP_ERR_INVALID_STATE},
        {ovfl_bad_ref_size, ESP_ERR_INVALID_STATE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        print_message("case %zu\n", i);
        expect_damage(&good, cases[i].damage, cases[i].want);
    }
    free(good.buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_and_bytes),
        cmocka_unit_test(test_open_arguments),
        cmocka_unit_test(test_many_keys_small_pages),
        cmocka_unit_test(test_many_keys_default_pages),
        cmocka_unit_test(test_many_keys_2k_pages),
        cmocka_unit_test(test_delete_all_frees_pages),
        cmocka_unit_test(test_overflow_512),
        cmocka_unit_test(test_overflow_4096),
        cmocka_unit_test(test_minkeypage_sets_the_overflow_threshold),
        cmocka_unit_test(test_cursor_moves),
        cmocka_unit_test(test_page_size_variants),
        cmocka_unit_test(test_corrupt_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
