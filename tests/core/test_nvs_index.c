/* The NVS engine's index over the whole partition (docs/nvs-engine.md,
 * "The index"): every lookup must return what ESP-IDF's page-by-page search
 * returns. A long random workload (integers, strings, multi-page blobs,
 * erasures) with garbage collection, power cuts and remounts is checked
 * after every operation against a brute-force reading of the raw pages:
 * pages in use by sequence number, entries in order, the first sound item
 * of the key wins. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "esp32sim/flash.h"
#include "esp32sim/nvs.h"
#include "esp32sim/nvs_format.h"

#define SECTOR ESIM_FLASH_SECTOR_SIZE
#define KEYS 24
#define MAX_VALUE 6000
#define FLASH_BYTES (2u * 1024u * 1024u)

/* ---- the brute-force reading of the raw pages ---- */

typedef struct {
    const uint8_t *flash;
    uint32_t base;
    uint32_t pages;
    uint32_t order[64];      /* pages in use, oldest first */
    uint32_t used;
} raw_view;

static bool page_in_use(const uint8_t *page, uint32_t *seqno)
{
    esim_nvs_page_header h;
    esim_nvs_header_decode(page, &h);
    *seqno = h.seqno;
    if (h.crc != esim_nvs_header_crc(page))
        return false;
    return h.state == ESIM_NVS_PAGE_ACTIVE || h.state == ESIM_NVS_PAGE_FULL || h.state == ESIM_NVS_PAGE_FREEING;
}

/* Pages in use, by sequence number (flash order on a tie). */
static void raw_open(raw_view *v, const esim_flash *f, uint32_t base, uint32_t pages)
{
    uint32_t seq[64];
    v->flash = esim_flash_peek(f);
    v->base = base;
    v->pages = pages;
    v->used = 0;
    for (uint32_t i = 0; i < pages; i++) {
        uint32_t s, at;
        if (!page_in_use(v->flash + base + i * SECTOR, &s))
            continue;
        for (at = v->used; at > 0 && seq[at - 1] > s; at--) {
            seq[at] = seq[at - 1];
            v->order[at] = v->order[at - 1];
        }
        seq[at] = s;
        v->order[at] = i;
        v->used++;
    }
}

static const uint8_t *raw_page(const raw_view *v, uint32_t n)
{
    return v->flash + v->base + v->order[n] * SECTOR;
}

/* The first sound WRITTEN item of namespace ns, key and chunk, in page
 * order then entry order (walking items by their span). */
static bool raw_find(const raw_view *v, uint8_t ns, const char *key, uint8_t chunk, esim_nvs_item *out,
                     const uint8_t **page_out, unsigned *index_out)
{
    for (uint32_t n = 0; n < v->used; n++) {
        const uint8_t *page = raw_page(v, n);
        for (unsigned i = 0; i < ESIM_NVS_ENTRY_COUNT; i++) {
            if (esim_nvs_bitmap_get(page + ESIM_NVS_BITMAP_OFFSET, i) != ESIM_NVS_ENTRY_WRITTEN)
                continue;
            esim_nvs_item it;
            esim_nvs_item_decode(page + ESIM_NVS_ENTRIES_OFFSET + i * 32, &it);
            if (it.crc != esim_nvs_item_crc(&it))
                continue;
            bool var = esim_nvs_type_is_variable(it.type);
            if (it.ns_index == ns && it.chunk_index == chunk && strncmp(it.key, key, ESIM_NVS_KEY_MAX) == 0) {
                *out = it;
                *page_out = page;
                *index_out = i;
                return true;
            }
            if (var && it.span > 0)
                i += it.span - 1u;
        }
    }
    return false;
}

static size_t raw_var_data(const uint8_t *page, unsigned index, const esim_nvs_item *it, uint8_t *out)
{
    size_t size = esim_nvs_item_var_size(it);
    memcpy(out, page + ESIM_NVS_ENTRIES_OFFSET + (index + 1) * 32, size);
    return size;
}

/* What a key holds on flash: its type (0 when absent) and value bytes. */
typedef struct {
    uint8_t type;
    bool broken;             /* a blob whose chunks do not add up */
    size_t len;
    uint8_t bytes[MAX_VALUE];
} raw_value;

/* A chunk may be missing (a blob index left by a cut erase_all or
 * rewrite): then *broken, and ESP-IDF's read fails and drops the blob. */
static void raw_blob(const raw_view *v, uint8_t ns, const char *key, const esim_nvs_item *idx, raw_value *out)
{
    uint8_t start = esim_nvs_item_blob_chunk_start(idx);
    out->len = 0;
    for (unsigned c = 0; c < esim_nvs_item_blob_chunk_count(idx); c++) {
        esim_nvs_item it;
        const uint8_t *page;
        unsigned index;
        if (!raw_find(v, ns, key, (uint8_t)(start + c), &it, &page, &index)) {
            out->broken = true;
            return;
        }
        out->len += raw_var_data(page, index, &it, out->bytes + out->len);
    }
    out->broken = out->len != esim_nvs_item_blob_size(idx);
}

static void raw_lookup(const raw_view *v, uint8_t ns, const char *key, raw_value *out)
{
    esim_nvs_item it;
    const uint8_t *page;
    unsigned index;
    out->type = 0;
    out->broken = false;
    out->len = 0;
    if (!raw_find(v, ns, key, ESIM_NVS_CHUNK_ANY, &it, &page, &index))
        return;
    out->type = it.type;
    if (it.type == ESIM_NVS_TYPE_BLOB_IDX)
        raw_blob(v, ns, key, &it, out);
    else if (it.type == ESIM_NVS_TYPE_STR)
        out->len = raw_var_data(page, index, &it, out->bytes);
    else
        memcpy(out->bytes, it.data, out->len = esim_nvs_int_width(it.type));
}

/* ---- the engine against the raw pages ---- */

typedef struct {
    esim_flash *flash;
    esim_nvs *nvs;
    esim_nvs_handle h;
    uint32_t size;
    uint32_t rng;
    char keys[KEYS][17];
    uint8_t buf[MAX_VALUE];
} rig;

static uint32_t rnd(rig *r)
{
    r->rng ^= r->rng << 13;
    r->rng ^= r->rng >> 17;
    r->rng ^= r->rng << 5;
    return r->rng;
}

static void check_int(rig *r, const char *key, const raw_value *want)
{
    int64_t got;
    assert_int_equal(esim_nvs_get_int(&r->h, key, (esim_nvs_type)want->type, &got), ESP_OK);
    uint64_t bits = 0;
    for (size_t i = 0; i < want->len; i++)
        bits |= (uint64_t)want->bytes[i] << (8 * i);
    assert_true(((uint64_t)got & (want->len == 8 ? ~0ull : (1ull << (8 * want->len)) - 1)) == bits);
}

static void check_bytes(rig *r, const char *key, const raw_value *want)
{
    size_t len = sizeof r->buf;
    esp_err_t err = want->type == ESIM_NVS_TYPE_STR ? esim_nvs_get_str(&r->h, key, (char *)r->buf, &len)
                                                    : esim_nvs_get_blob(&r->h, key, r->buf, &len);
    if (want->broken) {
        assert_int_equal(err, ESP_FAIL);
        return;
    }
    assert_int_equal(err, ESP_OK);
    assert_int_equal(len, want->len);
    assert_memory_equal(r->buf, want->bytes, len);
}

/* Every key: the type find_key reports and the value a get returns are
 * the raw pages' first match. */
static void check_all(rig *r)
{
    static raw_value want;
    raw_view v;
    raw_open(&v, r->flash, 0, r->size / SECTOR);
    for (unsigned k = 0; k < KEYS; k++) {
        esim_nvs_type type;
        raw_lookup(&v, r->h.ns_index, r->keys[k], &want);
        esp_err_t err = esim_nvs_find_key(&r->h, r->keys[k], &type);
        if (want.type == 0) {
            assert_int_equal(err, ESP_ERR_NVS_NOT_FOUND);
            continue;
        }
        assert_int_equal(err, ESP_OK);
        if (esim_nvs_int_width(want.type))
            check_int(r, r->keys[k], &want);
        else
            check_bytes(r, r->keys[k], &want);
    }
}

static void mount(rig *r)
{
    esim_nvs_unmount(r->nvs);
    r->nvs = NULL;
    esim_flash_power_on(r->flash);
    assert_int_equal(esim_nvs_mount(r->flash, 0, r->size, false, &r->nvs), ESP_OK);
    assert_int_equal(esim_nvs_open(r->nvs, "idx", true, &r->h), ESP_OK);
}

/* One random operation; its result is whatever the engine says. */
static esp_err_t random_op(rig *r)
{
    const char *key = r->keys[rnd(r) % KEYS];
    uint32_t what = rnd(r) % 10;
    if (what < 4)
        return esim_nvs_set_int(&r->h, key, what & 1 ? ESIM_NVS_TYPE_I32 : ESIM_NVS_TYPE_U8, rnd(r) % 7);
    if (what < 6) {
        size_t len = rnd(r) % (what == 4 ? 100 : MAX_VALUE);
        for (size_t i = 0; i < len; i++)
            r->buf[i] = (uint8_t)(rnd(r) % 3 + 'a');
        if (what == 5)
            return esim_nvs_set_blob(&r->h, key, r->buf, len);
        r->buf[len] = '\0';
        return esim_nvs_set_str(&r->h, key, (const char *)r->buf);
    }
    if (what < 9)
        return esim_nvs_erase_key(&r->h, key);
    int64_t v;
    return esim_nvs_get_int(&r->h, key, ESIM_NVS_TYPE_I32, &v);
}

static void run_workload(uint32_t pages, uint32_t seed, unsigned ops)
{
    rig *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->size = pages * SECTOR;
    r->rng = seed;
    for (unsigned k = 0; k < KEYS; k++)
        snprintf(r->keys[k], sizeof r->keys[k], k % 5 == 4 ? "long_key_%02u_xyz" : "k%u", k);
    /* 16 characters: reads key 19 (its first 15), writes mostly refused */
    snprintf(r->keys[KEYS - 1], sizeof r->keys[KEYS - 1], "long_key_19_xyzw");
    assert_int_equal(esim_flash_open_memory(FLASH_BYTES, &r->flash), ESP_OK);
    mount(r);
    for (unsigned n = 0; n < ops; n++) {
        if (rnd(r) % 16 == 0)
            esim_flash_arm_cut_at_op(r->flash, 1 + rnd(r) % 12, rnd(r));
        esp_err_t err = random_op(r);
        if (err == ESP_ERR_NVS_NOT_ENOUGH_SPACE && rnd(r) % 2 == 0)
            esim_nvs_erase_all(&r->h);
        if (!esim_flash_powered(r->flash) || rnd(r) % 50 == 0)
            mount(r);
        esim_flash_disarm_cut(r->flash);
        check_all(r);
    }
    esim_nvs_unmount(r->nvs);
    esim_flash_close(r->flash);
    free(r);
}

static void test_random_workload_small(void **state)
{
    (void)state;
    run_workload(4, 0x2545F491u, 3000);
}

static void test_random_workload_six_pages(void **state)
{
    (void)state;
    run_workload(6, 88172645u, 3000);
    run_workload(6, 1u, 2000);
}

/* ---- ESP-IDF's quirks the index keeps ---- */

static void raw_write_item(esim_flash *f, uint32_t page, unsigned index, esim_nvs_item *it)
{
    uint8_t raw[32], bitmap[ESIM_NVS_BITMAP_SIZE];
    it->crc = esim_nvs_item_crc(it);
    esim_nvs_item_encode(it, raw);
    assert_int_equal(esim_flash_program(f, page + ESIM_NVS_ENTRIES_OFFSET + index * 32, raw, 32), ESP_OK);
    memset(bitmap, 0xFF, sizeof bitmap);
    esim_nvs_bitmap_set(bitmap, index, ESIM_NVS_ENTRY_WRITTEN);
    assert_int_equal(esim_flash_program(f, page + ESIM_NVS_BITMAP_OFFSET + index / 4, bitmap + index / 4, 1), ESP_OK);
}

static void raw_i32(esim_flash *f, unsigned index, const char *key, bool pad_ff, int32_t value)
{
    esim_nvs_item it;
    esim_nvs_item_init(&it, 1, ESIM_NVS_TYPE_I32, key);
    if (pad_ff)
        memset(it.key + strlen(key) + 1, 0xFF, ESIM_NVS_KEY_SIZE - strlen(key) - 1);
    memset(it.data, 0xFF, sizeof it.data);
    for (int i = 0; i < 4; i++)
        it.data[i] = (uint8_t)((uint32_t)value >> (8 * i));
    raw_write_item(f, 0, index, &it);
}

/* A key padded with 0xFF after its NUL has another hash: a lookup does not
 * see it, and an equal key padded with zeros later on the page wins. */
static void test_key_padded_with_ff(void **state)
{
    (void)state;
    esim_flash *f;
    esim_nvs *nvs;
    esim_nvs_handle h;
    int64_t v;
    assert_int_equal(esim_flash_open_memory(FLASH_BYTES, &f), ESP_OK);
    esim_nvs_page_header hdr = {ESIM_NVS_PAGE_ACTIVE, 0, ESIM_NVS_VERSION_2, 0};
    uint8_t raw[32];
    esim_nvs_header_encode(&hdr, raw);
    assert_int_equal(esim_flash_program(f, 0, raw, sizeof raw), ESP_OK);
    esim_nvs_item ns;
    esim_nvs_item_init(&ns, 0, ESIM_NVS_TYPE_U8, "q");
    ns.data[0] = 1;
    raw_write_item(f, 0, 0, &ns);
    raw_i32(f, 1, "ab", true, 11);
    raw_i32(f, 2, "cd", true, 22);
    raw_i32(f, 3, "ab", false, 33);
    assert_int_equal(esim_nvs_mount(f, 0, 4 * SECTOR, false, &nvs), ESP_OK);
    assert_int_equal(esim_nvs_open(nvs, "q", true, &h), ESP_OK);
    assert_int_equal(esim_nvs_get_int(&h, "ab", ESIM_NVS_TYPE_I32, &v), ESP_OK);
    assert_int_equal(v, 33);
    assert_int_equal(esim_nvs_get_int(&h, "cd", ESIM_NVS_TYPE_I32, &v), ESP_ERR_NVS_NOT_FOUND);
    assert_int_equal(esim_nvs_find_key(&h, "cd", NULL), ESP_ERR_NVS_NOT_FOUND);
    /* a new "cd" is written beside the unseen one */
    assert_int_equal(esim_nvs_set_int(&h, "cd", ESIM_NVS_TYPE_I32, 44), ESP_OK);
    assert_int_equal(esim_nvs_get_int(&h, "cd", ESIM_NVS_TYPE_I32, &v), ESP_OK);
    assert_int_equal(v, 44);
    assert_int_equal(esim_nvs_bitmap_get(esim_flash_peek(f) + ESIM_NVS_BITMAP_OFFSET, 2), ESIM_NVS_ENTRY_WRITTEN);
    esim_nvs_unmount(nvs);
    esim_flash_close(f);
}

/* Two pages holding the same key (a cut update): the older page's item is
 * the one a read-only mount returns, as ESP-IDF's oldest-first search. */
static void test_oldest_page_first(void **state)
{
    (void)state;
    esim_flash *f;
    esim_nvs *nvs;
    esim_nvs_handle h;
    int64_t v;
    assert_int_equal(esim_flash_open_memory(FLASH_BYTES, &f), ESP_OK);
    for (uint32_t p = 0; p < 2; p++) {
        esim_nvs_page_header hdr = {p ? ESIM_NVS_PAGE_FULL : ESIM_NVS_PAGE_ACTIVE, p ? 3 : 7, ESIM_NVS_VERSION_2, 0};
        uint8_t raw[32];
        esim_nvs_header_encode(&hdr, raw);
        assert_int_equal(esim_flash_program(f, p * SECTOR, raw, sizeof raw), ESP_OK);
    }
    esim_nvs_item ns;
    esim_nvs_item_init(&ns, 0, ESIM_NVS_TYPE_U8, "q");
    ns.data[0] = 1;
    raw_write_item(f, SECTOR, 0, &ns);
    esim_nvs_item it;
    esim_nvs_item_init(&it, 1, ESIM_NVS_TYPE_I32, "x");
    memset(it.data, 0, 4);
    it.data[0] = 5;
    raw_write_item(f, SECTOR, 1, &it);   /* page 1, sequence number 3 */
    it.data[0] = 9;
    raw_write_item(f, 0, 0, &it);        /* page 0, sequence number 7 */
    assert_int_equal(esim_nvs_mount(f, 0, 4 * SECTOR, true, &nvs), ESP_OK);
    assert_int_equal(esim_nvs_open(nvs, "q", false, &h), ESP_OK);
    assert_int_equal(esim_nvs_get_int(&h, "x", ESIM_NVS_TYPE_I32, &v), ESP_OK);
    assert_int_equal(v, 5);
    esim_nvs_unmount(nvs);
    /* a writable mount erases the older copy: the newer value is left */
    assert_int_equal(esim_nvs_mount(f, 0, 4 * SECTOR, false, &nvs), ESP_OK);
    assert_int_equal(esim_nvs_open(nvs, "q", false, &h), ESP_OK);
    assert_int_equal(esim_nvs_get_int(&h, "x", ESIM_NVS_TYPE_I32, &v), ESP_OK);
    assert_int_equal(v, 9);
    esim_nvs_unmount(nvs);
    esim_flash_close(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_padded_with_ff),
        cmocka_unit_test(test_oldest_page_first),
        cmocka_unit_test(test_random_workload_small),
        cmocka_unit_test(test_random_workload_six_pages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
