/* nvs_powercut: cuts the power at every mutating flash operation (or every
 * programmed byte) of a deterministic NVS workload and checks what the
 * engine recovers (docs/reliability.md).
 *
 * For each cut point the workload is replayed from a blank partition until
 * the power fails. The tool then mounts the image read-only and read-write
 * and checks every key against a model of what it may hold: the last value
 * set before the cut, or, for the operation in flight, the old or the new
 * one. Then it checks that a second mount writes nothing, that the rest of
 * the workload runs, and that no space leaked: with every key erased the
 * partition holds exactly as many keys as a fresh one.
 *
 *   nvs_powercut [--size HEX] [--mode ops|bytes] [--seeds N] [--stride N]
 *                [--byte-stride N] [--shard I/N] [--recut] [--strict] [--dump DIR]
 *   nvs_powercut --repro SIZE:MODE:N:SEED [--recut] [--trace]
 *
 * Exit status: 0 when every trial passed, 1 on a failure, 2 on bad usage. */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "esp32sim/flash.h"
#include "esp32sim/nvs.h"
#include "esp32sim/nvs_image.h"

#define FLASH_BYTES (2u * 1024u * 1024u)
#define PART_BASE 0x9000u
#define NS_COUNT 4
#define KEY_COUNT 12
#define SMALL_KEYS 10
#define KEY_BIG 10
#define KEY_LONG 11
#define MAX_VALUE 8192u
#define PAGE_ENTRIES ESIM_NVS_ENTRY_COUNT

static const char *const ns_names[NS_COUNT] = {"app", "wifi", "cal", "late"};
static const char *const key_names[KEY_COUNT] = {
    "k00", "k01", "k02", "k03", "k04", "k05", "k06", "k07", "k08", "k09",
    "big", "abcdefghijklmno",
};
/* The type each small key starts with. */
static const uint8_t base_types[SMALL_KEYS] = {
    ESIM_NVS_TYPE_U8, ESIM_NVS_TYPE_I32, ESIM_NVS_TYPE_U64, ESIM_NVS_TYPE_STR,
    ESIM_NVS_TYPE_BLOB_DATA, ESIM_NVS_TYPE_I16, ESIM_NVS_TYPE_I8, ESIM_NVS_TYPE_U32,
    ESIM_NVS_TYPE_I64, ESIM_NVS_TYPE_STR,
};

/* ---- values and the model ---- */

typedef struct {
    bool present;
    uint8_t type;      /* esim_nvs_type; blobs are BLOB_DATA */
    int64_t num;       /* integers, as esim_nvs_get_int gives them */
    uint32_t gen;      /* strings and blobs: seed of the content */
    uint32_t len;      /* strings: size with the NUL; blobs: bytes */
} value;

typedef enum { OP_OPEN, OP_SET, OP_ERASE, OP_ERASE_ALL } op_kind;

typedef struct {
    op_kind kind;
    uint8_t ns, key;
    value val;
} op;

typedef struct {
    op *ops;
    size_t count, cap;
} workload;

typedef struct {
    bool ns_made[NS_COUNT];
    uint8_t ns_index[NS_COUNT];
    value keys[NS_COUNT][KEY_COUNT];
} model;

static bool is_blob_type(uint8_t type)
{
    return type == ESIM_NVS_TYPE_BLOB || type == ESIM_NVS_TYPE_BLOB_DATA
           || type == ESIM_NVS_TYPE_BLOB_IDX;
}

static bool value_equal(const value *a, const value *b)
{
    if (a->present != b->present)
        return false;
    if (!a->present)
        return true;
    if (a->type != b->type)
        return false;
    if (esim_nvs_int_width(a->type))
        return a->num == b->num;
    return a->len == b->len && a->gen == b->gen;
}

static uint8_t content_byte(uint32_t gen, uint32_t i)
{
    uint32_t x = gen * 0x9E3779B1u ^ (i + 1u) * 0x85EBCA77u;
    x ^= x >> 15;
    x *= 0x2C1B3C6Du;
    x ^= x >> 12;
    return (uint8_t)x;
}

/* The bytes a string or blob value stores (strings: printable, NUL last). */
static void value_content(const value *v, uint8_t *out)
{
    for (uint32_t i = 0; i < v->len; i++)
        out[i] = content_byte(v->gen, i);
    if (v->type != ESIM_NVS_TYPE_STR)
        return;
    for (uint32_t i = 0; i + 1 < v->len; i++)
        out[i] = (uint8_t)(' ' + out[i] % 95u);
    out[v->len - 1] = 0;
}

static void model_apply(model *m, const op *o)
{
    switch (o->kind) {
    case OP_OPEN:
        m->ns_made[o->ns] = true;
        break;
    case OP_SET:
        m->keys[o->ns][o->key] = o->val;
        break;
    case OP_ERASE:
        m->keys[o->ns][o->key].present = false;
        break;
    case OP_ERASE_ALL:
        for (unsigned k = 0; k < KEY_COUNT; k++)
            m->keys[o->ns][k].present = false;
        break;
    }
}

static esp_err_t expected_result(const model *m, const op *o)
{
    if (o->kind == OP_ERASE && !m->keys[o->ns][o->key].present)
        return ESP_ERR_NVS_NOT_FOUND;
    return ESP_OK;
}

static void describe_value(const value *v, char *buf, size_t size)
{
    if (!v->present)
        snprintf(buf, size, "(absent)");
    else if (esim_nvs_int_width(v->type))
        snprintf(buf, size, "%s %" PRId64, esim_nvs_type_name(v->type), v->num);
    else
        snprintf(buf, size, "%s of %" PRIu32 " bytes #%" PRIu32,
                 v->type == ESIM_NVS_TYPE_STR ? "string" : "blob", v->len, v->gen);
}

static void describe_op(const op *o, char *buf, size_t size)
{
    char val[64];
    switch (o->kind) {
    case OP_OPEN:
        snprintf(buf, size, "open %s", ns_names[o->ns]);
        break;
    case OP_SET:
        describe_value(&o->val, val, sizeof val);
        snprintf(buf, size, "set %s/%s = %s", ns_names[o->ns], key_names[o->key], val);
        break;
    case OP_ERASE:
        snprintf(buf, size, "erase_key %s/%s", ns_names[o->ns], key_names[o->key]);
        break;
    case OP_ERASE_ALL:
        snprintf(buf, size, "erase_all %s", ns_names[o->ns]);
        break;
    }
}

/* ---- the workloads ---- */

typedef struct {
    unsigned small_keys;   /* keys k00.. used per namespace */
    uint32_t str_max;      /* largest string, NUL included */
    uint32_t blob_max;     /* largest small blob */
    uint32_t big_len;      /* the multi-page blob */
    unsigned rounds;       /* churn operations */
    unsigned big_every;    /* rewrite the big blob every this many rounds */
} shape;

typedef struct {
    workload *wl;
    model m;
    uint32_t rng;
    uint32_t gen;
    const shape *sh;
} builder;

static uint32_t rng_next(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

static void push(builder *b, op_kind kind, unsigned ns, unsigned key, const value *v)
{
    workload *wl = b->wl;
    if (wl->count == wl->cap) {
        wl->cap = wl->cap ? 2 * wl->cap : 256;
        wl->ops = realloc(wl->ops, wl->cap * sizeof *wl->ops);
        if (!wl->ops) {
            fprintf(stderr, "nvs_powercut: out of memory\n");
            exit(2);
        }
    }
    op *o = &wl->ops[wl->count++];
    memset(o, 0, sizeof *o);
    o->kind = kind;
    o->ns = (uint8_t)ns;
    o->key = (uint8_t)key;
    if (v)
        o->val = *v;
    model_apply(&b->m, o);
}

/* An integer of `type`, as get_int reports it. */
static int64_t fit_int(uint8_t type, uint64_t raw)
{
    unsigned bits = 8u * esim_nvs_int_width(type);
    if (bits == 64)
        return (int64_t)raw;
    uint64_t v = raw & ((UINT64_C(1) << bits) - 1u);
    if (esim_nvs_type_signed(type) && (v >> (bits - 1)))
        return (int64_t)v - (int64_t)(UINT64_C(1) << bits);
    return (int64_t)v;
}

static value random_value(builder *b, uint8_t type, uint32_t max_len)
{
    value v = {.present = true, .type = type};
    if (esim_nvs_int_width(type)) {
        uint64_t raw = (uint64_t)rng_next(&b->rng) << 32 | rng_next(&b->rng);
        v.num = fit_int(type, raw);
    } else {
        v.gen = ++b->gen;
        v.len = 1u + rng_next(&b->rng) % max_len;
    }
    return v;
}

static uint32_t max_len_for(const shape *sh, uint8_t type)
{
    return type == ESIM_NVS_TYPE_STR ? sh->str_max : sh->blob_max;
}

static void set_random(builder *b, unsigned ns, unsigned key, uint8_t type)
{
    value v = random_value(b, type, max_len_for(b->sh, type));
    push(b, OP_SET, ns, key, &v);
}

static void set_big(builder *b, uint32_t len)
{
    value v = {.present = true, .type = ESIM_NVS_TYPE_BLOB_DATA, .gen = ++b->gen, .len = len};
    push(b, OP_SET, 0, KEY_BIG, &v);
}

/* The type a small key has now, or its starting type. */
static uint8_t current_type(const builder *b, unsigned ns, unsigned key)
{
    const value *v = &b->m.keys[ns][key];
    return v->present ? v->type : base_types[key];
}

static void churn_once(builder *b, unsigned namespaces)
{
    const shape *sh = b->sh;
    unsigned ns = rng_next(&b->rng) % namespaces;
    unsigned key = rng_next(&b->rng) % sh->small_keys;
    unsigned pick = rng_next(&b->rng) % 100u;
    const value *now = &b->m.keys[ns][key];

    if (pick < 60) {
        set_random(b, ns, key, current_type(b, ns, key));
    } else if (pick < 78) {
        push(b, OP_ERASE, ns, key, NULL);
    } else if (pick < 84) {
        if (now->present) {
            value same = *now;
            push(b, OP_SET, ns, key, &same);   /* identical: writes nothing */
        }
    } else if (pick < 90) {
        static const uint8_t others[] = {ESIM_NVS_TYPE_I32, ESIM_NVS_TYPE_STR,
                                         ESIM_NVS_TYPE_BLOB_DATA, ESIM_NVS_TYPE_U8};
        uint8_t type = others[rng_next(&b->rng) % 4u];
        set_random(b, ns, key, type);          /* may change the key's type */
    } else {
        set_random(b, 0, KEY_LONG, ESIM_NVS_TYPE_I32);
    }
}

/* The long workload: several namespaces, every kind of value, overwrites,
 * erases, a multi-page blob rewritten now and then, an erase_all, and enough
 * churn to garbage-collect many times. */
static void build_main(workload *wl, uint32_t size)
{
    static const shape big = {10, 150, 400, 5200, 1200, 150};
    static const shape small = {6, 80, 200, 4100, 700, 140};
    builder b = {.wl = wl, .rng = 2463534242u, .sh = size >= 0x6000 ? &big : &small};
    const shape *sh = b.sh;

    for (unsigned ns = 0; ns < 3; ns++)
        push(&b, OP_OPEN, ns, 0, NULL);
    for (unsigned ns = 0; ns < 3; ns++)
        for (unsigned k = 0; k < sh->small_keys; k++)
            set_random(&b, ns, k, base_types[k]);
    set_big(&b, sh->big_len);
    set_random(&b, 0, KEY_LONG, ESIM_NVS_TYPE_I32);
    unsigned namespaces = 3;
    for (unsigned r = 0; r < sh->rounds; r++) {
        if (r == sh->rounds / 2) {
            push(&b, OP_OPEN, 3, 0, NULL);
            namespaces = 4;
            for (unsigned k = 0; k < 3; k++)
                set_random(&b, 3, k, base_types[k]);
        }
        if (r == sh->rounds * 3 / 4) {
            push(&b, OP_ERASE_ALL, 1, 0, NULL);
            for (unsigned k = 0; k < 3; k++)
                set_random(&b, 1, k, base_types[k]);
        }
        if (r % sh->big_every == sh->big_every - 1)
            set_big(&b, sh->big_len - rng_next(&b.rng) % 200u);
        churn_once(&b, namespaces);
    }
}

/* The short workload for the byte sweep: a torn write in every entry kind. */
static void build_short(workload *wl, uint32_t size)
{
    static const shape sh = {6, 80, 300, 0, 0, 1};
    builder b = {.wl = wl, .rng = 88172645u, .sh = &sh};
    value s70 = {true, ESIM_NVS_TYPE_STR, 0, 101, 70};
    value s40 = {true, ESIM_NVS_TYPE_STR, 0, 102, 40};
    value b300 = {true, ESIM_NVS_TYPE_BLOB_DATA, 0, 103, 300};
    value b250 = {true, ESIM_NVS_TYPE_BLOB_DATA, 0, 104, 250};

    (void)size;
    push(&b, OP_OPEN, 0, 0, NULL);
    set_random(&b, 0, 0, ESIM_NVS_TYPE_U8);
    set_random(&b, 0, 1, ESIM_NVS_TYPE_I32);
    push(&b, OP_SET, 0, 3, &s70);
    push(&b, OP_SET, 0, 4, &b300);
    set_random(&b, 0, 1, ESIM_NVS_TYPE_I32);
    push(&b, OP_SET, 0, 3, &s40);
    push(&b, OP_SET, 0, 4, &b250);
    push(&b, OP_ERASE, 0, 0, NULL);
    push(&b, OP_OPEN, 1, 0, NULL);
    set_random(&b, 1, 2, ESIM_NVS_TYPE_U64);
    set_random(&b, 1, 3, ESIM_NVS_TYPE_I32);
    push(&b, OP_ERASE_ALL, 0, 0, NULL);
    set_random(&b, 0, 1, ESIM_NVS_TYPE_I32);
}

/* ---- the rig: one flash, one partition ---- */

typedef enum { CUT_OPS, CUT_BYTES } cut_mode;

/* Two things ESP-IDF's mount does that break "old or new" for the key in
 * flight; the engine does them too (docs/reliability.md). */
typedef enum {
    QUIRK_NONE,
    QUIRK_BOTH_TYPES,   /* a type change: the old and the new entry both survive */
    QUIRK_BLOB_LOST,    /* a blob rewrite: the old version's chunk erased as a duplicate */
} quirk_kind;

typedef struct {
    esim_flash *flash;
    uint32_t size;
    uint8_t *val_buf, *read_buf, *image;
    bool recut, trace, strict, sabotage;
    const char *dump_dir;
    esim_nvs_raw_page *raw;     /* scratch for reading the cut image */
    const op *flight;           /* the operation the power failed in, or NULL */
    char in_flight[160];        /* ... described */
    int skip_ns, skip_key;      /* a key the checks leave out (-1: none) */
    quirk_kind quirk;           /* an ESP-IDF behaviour the trial ran into */
    char why[768];
} rig;

typedef struct {
    esim_nvs *nvs;
    esim_nvs_handle h[NS_COUNT];
    bool open[NS_COUNT];
} mounted;

typedef struct {
    char name[32];                 /* "0x6000-ops" */
    cut_mode mode;
    workload wl;
    model final;
    uint64_t ops, bytes, erases;   /* of the uninterrupted run */
    size_t fill_baseline[NS_COUNT + 1];   /* i32 keys a fresh partition with
                                           * that many namespaces takes */
} scenario;

static bool fail(rig *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->why, sizeof r->why, fmt, ap);
    va_end(ap);
    return false;
}

static const char *errname(esp_err_t err)
{
    return esim_err_name(err);
}

static unsigned pages_of(const rig *r)
{
    return r->size / ESIM_NVS_PAGE_SIZE;
}

static uint64_t mutating_ops(const rig *r)
{
    esim_flash_counters c;
    esim_flash_get_counters(r->flash, &c);
    return c.program_ops + c.erase_ops;
}

static void read_counters(const rig *r, esim_flash_counters *c)
{
    esim_flash_get_counters(r->flash, c);
}

static bool blank_partition(rig *r)
{
    esim_flash_power_on(r->flash);
    if (esim_flash_erase_range(r->flash, PART_BASE, r->size) != ESP_OK)
        return fail(r, "cannot erase the partition");
    return true;
}

static bool put_image(rig *r, const uint8_t *image)
{
    if (!blank_partition(r))
        return false;
    if (esim_flash_program(r->flash, PART_BASE, image, r->size) != ESP_OK)
        return fail(r, "cannot restore the image");
    return true;
}

static void unmount(mounted *m)
{
    esim_nvs_unmount(m->nvs);
    memset(m, 0, sizeof *m);
}

static esp_err_t do_mount(rig *r, bool read_only, mounted *m)
{
    memset(m, 0, sizeof *m);
    return esim_nvs_mount(r->flash, PART_BASE, r->size, read_only, &m->nvs);
}

/* Handles for the namespaces that exist (nothing is created). */
static bool open_existing(rig *r, mounted *m, bool read_write)
{
    for (unsigned ns = 0; ns < NS_COUNT; ns++) {
        esp_err_t err = esim_nvs_open(m->nvs, ns_names[ns], false, &m->h[ns]);
        if (err == ESP_ERR_NVS_NOT_FOUND)
            continue;
        if (!err && read_write)
            err = esim_nvs_open(m->nvs, ns_names[ns], true, &m->h[ns]);
        if (err)
            return fail(r, "open %s: %s", ns_names[ns], errname(err));
        m->open[ns] = true;
    }
    return true;
}

/* ---- running operations ---- */

static esp_err_t set_value(rig *r, const esim_nvs_handle *h, const char *key, const value *v)
{
    if (esim_nvs_int_width(v->type))
        return esim_nvs_set_int(h, key, (esim_nvs_type)v->type, v->num);
    value_content(v, r->val_buf);
    if (v->type == ESIM_NVS_TYPE_STR)
        return esim_nvs_set_str(h, key, (const char *)r->val_buf);
    return esim_nvs_set_blob(h, key, r->val_buf, v->len);
}

static esp_err_t run_op(rig *r, mounted *m, model *md, const op *o)
{
    if (o->kind == OP_OPEN) {
        esp_err_t err = esim_nvs_open(m->nvs, ns_names[o->ns], true, &m->h[o->ns]);
        if (!err) {
            m->open[o->ns] = true;
            md->ns_index[o->ns] = m->h[o->ns].ns_index;
        }
        return err;
    }
    if (!m->open[o->ns])
        return ESP_ERR_INVALID_STATE;   /* a workload bug */
    const esim_nvs_handle *h = &m->h[o->ns];
    switch (o->kind) {
    case OP_SET:
        return set_value(r, h, key_names[o->key], &o->val);
    case OP_ERASE:
        return esim_nvs_erase_key(h, key_names[o->key]);
    case OP_ERASE_ALL:
        return esim_nvs_erase_all(h);
    default:
        return ESP_ERR_INVALID_STATE;
    }
}

typedef enum { RUN_DONE, RUN_CUT, RUN_BROKEN } run_result;

/* Setting the value a key already holds writes nothing, except for a blob
 * of two or more chunks, which ESP-IDF rewrites (a blob of at most 400
 * bytes always goes in one chunk). */
static bool writes_nothing(const model *md, const op *o)
{
    if (o->kind != OP_SET || !md->ns_made[o->ns] || !value_equal(&md->keys[o->ns][o->key], &o->val))
        return false;
    return o->val.type != ESIM_NVS_TYPE_BLOB_DATA || o->val.len <= 400;
}

/* Runs ops[from..] on the model until the power fails. *stopped is the
 * operation in flight (RUN_CUT). `bytes_mode` accepts an operation that
 * succeeded although the power went at its very last byte. */
static run_result run_ops(rig *r, const workload *wl, mounted *m, model *md, size_t from,
                          bool bytes_mode, size_t *stopped)
{
    char desc[128];
    for (size_t i = from; i < wl->count; i++) {
        const op *o = &wl->ops[i];
        esp_err_t want = expected_result(md, o);
        bool powered = esim_flash_powered(r->flash);
        uint64_t ops0 = mutating_ops(r);
        esp_err_t err = run_op(r, m, md, o);
        bool cut_now = powered && !esim_flash_powered(r->flash);
        if (!err && writes_nothing(md, o) && mutating_ops(r) != ops0) {
            describe_op(o, desc, sizeof desc);
            fail(r, "op %zu (%s) set the value the key holds, and wrote to flash", i, desc);
            return RUN_BROKEN;
        }
        if (r->trace) {
            describe_op(o, desc, sizeof desc);
            printf("  op %zu: %s -> %s%s\n", i, desc, errname(err), cut_now ? " (power cut)" : "");
        }
        if (err == want && cut_now && !bytes_mode) {
            describe_op(o, desc, sizeof desc);
            fail(r, "op %zu (%s) returned %s although the power failed during it", i, desc,
                 errname(err));
            return RUN_BROKEN;
        }
        if (err != want && esim_flash_powered(r->flash)) {
            describe_op(o, desc, sizeof desc);
            fail(r, "op %zu (%s) returned %s, expected %s, with the power on", i, desc,
                 errname(err), errname(want));
            return RUN_BROKEN;
        }
        if (err != want) {
            *stopped = i;
            return RUN_CUT;
        }
        model_apply(md, o);
    }
    *stopped = wl->count;
    return RUN_DONE;
}

/* ---- observing what the engine holds ---- */

typedef struct {
    bool present;
    uint8_t type;
    int64_t num;
    size_t len;        /* bytes in rig.read_buf */
} observed;

static esp_err_t read_var(rig *r, const esim_nvs_handle *h, const char *key, bool str,
                          observed *o)
{
    size_t size = 0, len;
    esp_err_t err = str ? esim_nvs_get_str(h, key, NULL, &size)
                        : esim_nvs_get_blob(h, key, NULL, &size);
    if (err)
        return err;
    if (size > MAX_VALUE)
        return ESP_ERR_INVALID_SIZE;
    len = MAX_VALUE;
    err = str ? esim_nvs_get_str(h, key, (char *)r->read_buf, &len)
              : esim_nvs_get_blob(h, key, r->read_buf, &len);
    if (err)
        return err;
    if (len != size)
        return ESP_ERR_INVALID_SIZE;
    o->len = len;
    return ESP_OK;
}

static esp_err_t observe(rig *r, const mounted *m, unsigned ns, unsigned key, observed *o)
{
    esim_nvs_type type;
    memset(o, 0, sizeof *o);
    if (!m->open[ns])
        return ESP_OK;
    const esim_nvs_handle *h = &m->h[ns];
    esp_err_t err = esim_nvs_find_key(h, key_names[key], &type);
    if (err == ESP_ERR_NVS_NOT_FOUND)
        return ESP_OK;
    if (err)
        return err;
    o->present = true;
    o->type = (uint8_t)type;
    if (esim_nvs_int_width(type))
        return esim_nvs_get_int(h, key_names[key], type, &o->num);
    if (type == ESIM_NVS_TYPE_STR)
        return read_var(r, h, key_names[key], true, o);
    if (is_blob_type(type)) {
        o->type = ESIM_NVS_TYPE_BLOB_DATA;
        return read_var(r, h, key_names[key], false, o);
    }
    return ESP_OK;   /* an unknown type: will not match */
}

static bool matches(rig *r, const observed *o, const value *v)
{
    if (o->present != v->present)
        return false;
    if (!o->present)
        return true;
    if (o->type != v->type)
        return false;
    if (esim_nvs_int_width(v->type))
        return o->num == v->num;
    if (o->len != v->len)
        return false;
    value_content(v, r->val_buf);
    return memcmp(r->read_buf, r->val_buf, v->len) == 0;
}

static void describe_observed(const observed *o, char *buf, size_t size)
{
    if (!o->present)
        snprintf(buf, size, "(absent)");
    else if (esim_nvs_int_width(o->type))
        snprintf(buf, size, "%s %" PRId64, esim_nvs_type_name(o->type), o->num);
    else
        snprintf(buf, size, "type 0x%02x of %zu bytes", o->type, o->len);
}

/* Every key holds what `before` or `after` says; `got` (if not NULL)
 * receives the model of what was found. */
static bool check_keys(rig *r, const mounted *m, const model *before, const model *after,
                       model *got)
{
    for (unsigned ns = 0; ns < NS_COUNT; ns++) {
        for (unsigned k = 0; k < KEY_COUNT; k++) {
            const value *a = &before->keys[ns][k], *b = &after->keys[ns][k];
            observed o;
            if ((int)ns == r->skip_ns && (int)k == r->skip_key)
                continue;
            esp_err_t err = observe(r, m, ns, k, &o);
            if (err)
                return fail(r, "reading %s/%s: %s", ns_names[ns], key_names[k], errname(err));
            bool is_a = matches(r, &o, a);
            if (!is_a && !matches(r, &o, b)) {
                char seen[64], va[64], vb[64];
                describe_observed(&o, seen, sizeof seen);
                describe_value(a, va, sizeof va);
                describe_value(b, vb, sizeof vb);
                if (value_equal(a, b))
                    return fail(r, "%s/%s holds %s, expected %s", ns_names[ns], key_names[k],
                                seen, va);
                return fail(r, "%s/%s holds %s, expected %s (old) or %s (new)", ns_names[ns],
                            key_names[k], seen, va, vb);
            }
            if (got)
                got->keys[ns][k] = is_a ? *a : *b;
        }
    }
    return true;
}

typedef struct {
    bool found[NS_COUNT];
    uint8_t index[NS_COUNT];
    unsigned total;
    char stray[ESIM_NVS_KEY_SIZE + 8];
} ns_seen;

static int note_namespace(const char *name, uint8_t index, void *ctx)
{
    ns_seen *s = ctx;
    s->total++;
    for (unsigned ns = 0; ns < NS_COUNT; ns++) {
        if (strcmp(name, ns_names[ns]) == 0) {
            if (s->found[ns])
                snprintf(s->stray, sizeof s->stray, "%s twice", name);
            s->found[ns] = true;
            s->index[ns] = index;
            return 0;
        }
    }
    snprintf(s->stray, sizeof s->stray, "%.15s", name);
    return 0;
}

static bool check_namespaces(rig *r, const mounted *m, const model *before,
                             const model *after, model *got, unsigned *count)
{
    ns_seen s = {0};
    esp_err_t err = esim_nvs_namespaces(m->nvs, note_namespace, &s);
    if (err)
        return fail(r, "esim_nvs_namespaces: %s", errname(err));
    if (s.stray[0])
        return fail(r, "unexpected namespace %s", s.stray);
    for (unsigned ns = 0; ns < NS_COUNT; ns++) {
        bool a = before->ns_made[ns], b = after->ns_made[ns];
        if (s.found[ns] != m->open[ns])
            return fail(r, "namespace %s: listed %d but open gives %d", ns_names[ns],
                        s.found[ns], m->open[ns]);
        if (a && b && !s.found[ns])
            return fail(r, "namespace %s lost", ns_names[ns]);
        if (!a && !b && s.found[ns])
            return fail(r, "namespace %s appeared", ns_names[ns]);
        if (a && s.found[ns] && s.index[ns] != before->ns_index[ns])
            return fail(r, "namespace %s has index %u, was %u", ns_names[ns], s.index[ns],
                        before->ns_index[ns]);
        if (got) {
            got->ns_made[ns] = s.found[ns];
            got->ns_index[ns] = s.found[ns] ? s.index[ns] : 0;
        }
    }
    *count = s.total;
    return true;
}

typedef struct {
    unsigned count[NS_COUNT][KEY_COUNT];
    uint8_t type[NS_COUNT][KEY_COUNT];
    char stray[64];
} list_seen;

static int note_entry(const esim_nvs_entry_info *info, void *ctx)
{
    list_seen *s = ctx;
    for (unsigned ns = 0; ns < NS_COUNT; ns++) {
        if (strcmp(info->namespace_name, ns_names[ns]) != 0)
            continue;
        for (unsigned k = 0; k < KEY_COUNT; k++) {
            if (strcmp(info->key, key_names[k]) == 0) {
                s->count[ns][k]++;
                s->type[ns][k] = (uint8_t)info->type;
                return 0;
            }
        }
    }
    snprintf(s->stray, sizeof s->stray, "%.15s/%.15s", info->namespace_name, info->key);
    return 0;
}

/* The iterator shows each present key once, with its type, and nothing else. */
static bool check_listing(rig *r, const mounted *m)
{
    list_seen s;
    memset(&s, 0, sizeof s);
    esp_err_t err = esim_nvs_list(m->nvs, NULL, ESIM_NVS_TYPE_ANY, note_entry, &s);
    if (err)
        return fail(r, "esim_nvs_list: %s", errname(err));
    if (s.stray[0])
        return fail(r, "the iterator lists an unknown entry %s", s.stray);
    for (unsigned ns = 0; ns < NS_COUNT; ns++) {
        for (unsigned k = 0; k < KEY_COUNT; k++) {
            observed o;
            if ((int)ns == r->skip_ns && (int)k == r->skip_key)
                continue;
            err = observe(r, m, ns, k, &o);
            if (err)
                return fail(r, "reading %s/%s: %s", ns_names[ns], key_names[k], errname(err));
            if (s.count[ns][k] != (o.present ? 1u : 0u))
                return fail(r, "the iterator lists %s/%s %u times, the key is %s", ns_names[ns],
                            key_names[k], s.count[ns][k], o.present ? "present" : "absent");
            uint8_t t = s.type[ns][k];
            if (o.present && t != o.type && !(is_blob_type(t) && o.type == ESIM_NVS_TYPE_BLOB_DATA))
                return fail(r, "the iterator gives %s/%s type 0x%02x, find_key 0x%02x",
                            ns_names[ns], key_names[k], t, o.type);
        }
    }
    return true;
}

static bool check_stats(rig *r, const mounted *m, unsigned namespaces, esim_nvs_stats *out)
{
    esim_nvs_stats st;
    esp_err_t err = esim_nvs_get_stats(m->nvs, &st);
    if (err)
        return fail(r, "esim_nvs_get_stats: %s", errname(err));
    size_t total = (size_t)pages_of(r) * PAGE_ENTRIES;
    if (st.total_entries != total || st.used_entries + st.free_entries != total
        || st.free_entries < PAGE_ENTRIES || st.available_entries != st.free_entries - PAGE_ENTRIES
        || st.namespace_count != namespaces)
        return fail(r, "stats inconsistent: used %zu free %zu available %zu total %zu "
                    "namespaces %zu (expected total %zu, %u namespaces)", st.used_entries,
                    st.free_entries, st.available_entries, st.total_entries, st.namespace_count,
                    total, namespaces);
    if (out)
        *out = st;
    return true;
}

/* Everything a mounted partition shows against the model. */
static bool check_state(rig *r, mounted *m, bool read_write, const model *before,
                        const model *after, model *got)
{
    unsigned namespaces = 0;
    if (!open_existing(r, m, read_write))
        return false;
    if (!check_namespaces(r, m, before, after, got, &namespaces))
        return false;
    if (!check_keys(r, m, before, after, got))
        return false;
    if (!check_listing(r, m))
        return false;
    return check_stats(r, m, namespaces, NULL);
}

/* ---- ESP-IDF's own power-loss gaps ---- */

/* Reads key as `type` (not as whatever find_key reports). */
static esp_err_t observe_as(rig *r, const mounted *m, unsigned ns, unsigned key, uint8_t type,
                            observed *o)
{
    memset(o, 0, sizeof *o);
    if (!m->open[ns])
        return ESP_OK;
    const esim_nvs_handle *h = &m->h[ns];
    esp_err_t err;
    if (esim_nvs_int_width(type))
        err = esim_nvs_get_int(h, key_names[key], (esim_nvs_type)type, &o->num);
    else
        err = read_var(r, h, key_names[key], type == ESIM_NVS_TYPE_STR, o);
    if (err == ESP_ERR_NVS_NOT_FOUND)
        return ESP_OK;
    o->present = !err;
    o->type = type;
    return err;
}

/* The cut image has an ACTIVE page whose last written item is a chunk of
 * this blob, with an earlier chunk of the other version on the same page:
 * the page's "last item is not a duplicate" check at mount looks for the
 * same namespace, type and key with any chunk index, and erases the old
 * version's chunk (ESP-IDF's Page::load does the same). */
static bool last_chunk_rule_applies(rig *r, uint8_t ns_index, const char *key)
{
    for (uint32_t off = 0; off < r->size; off += ESIM_NVS_PAGE_SIZE) {
        esim_nvs_raw_page *p = r->raw;
        esim_nvs_raw_page_parse(r->image + off, off, p);
        if (p->header.state != ESIM_NVS_PAGE_ACTIVE)
            continue;
        const esim_nvs_raw_entry *last = NULL;
        for (size_t i = 0; i < p->count; i++)
            if (p->entries[i].state == ESIM_NVS_ENTRY_WRITTEN)
                last = &p->entries[i];
        if (!last || last->item.type != ESIM_NVS_TYPE_BLOB_DATA || last->item.ns_index != ns_index
            || strncmp(last->item.key, key, ESIM_NVS_KEY_SIZE) != 0)
            continue;
        for (const esim_nvs_raw_entry *e = p->entries; e < last; e++)
            if (e->state == ESIM_NVS_ENTRY_WRITTEN && e->item.type == ESIM_NVS_TYPE_BLOB_DATA
                && e->item.ns_index == ns_index
                && strncmp(e->item.key, key, ESIM_NVS_KEY_SIZE) == 0
                && (e->item.chunk_index & 0x80u) != (last->item.chunk_index & 0x80u))
                return true;
    }
    return false;
}

/* After a failed check: is the failure one of ESP-IDF's gaps for the key in
 * flight, with everything else as it must be? Sets r->quirk and `got`. */
static bool explain_quirk(rig *r, mounted *m, const model *before, const model *after,
                          model *got)
{
    const op *o = r->flight;
    if (r->strict || !o || o->kind != OP_SET)
        return false;
    const value *old = &before->keys[o->ns][o->key], *new = &o->val;
    if (!old->present || !before->ns_made[o->ns])
        return false;
    char why[sizeof r->why];
    memcpy(why, r->why, sizeof why);
    r->skip_ns = o->ns;
    r->skip_key = o->key;
    bool others_ok = check_state(r, m, false, before, after, got);
    r->skip_ns = r->skip_key = -1;
    if (!others_ok)
        return false;   /* r->why names what else is wrong */
    observed a, b;
    bool ok = false;
    quirk_kind kind = QUIRK_NONE;
    if (old->type != new->type) {
        kind = QUIRK_BOTH_TYPES;
        ok = observe_as(r, m, o->ns, o->key, old->type, &a) == ESP_OK && matches(r, &a, old)
             && observe_as(r, m, o->ns, o->key, new->type, &b) == ESP_OK && matches(r, &b, new);
        got->keys[o->ns][o->key] = *new;
    } else if (new->type == ESIM_NVS_TYPE_BLOB_DATA) {
        kind = QUIRK_BLOB_LOST;
        ok = observe(r, m, o->ns, o->key, &a) == ESP_OK && !a.present
             && last_chunk_rule_applies(r, before->ns_index[o->ns], key_names[o->key]);
        got->keys[o->ns][o->key].present = false;
    }
    memcpy(r->why, why, sizeof why);
    if (ok)
        r->quirk = kind;
    return ok;
}

/* --sabotage: the harness's own test. Clears the value bytes of the last
 * written integer entry of a user namespace in the cut image, so its CRC no
 * longer matches and the mount drops it: nearly every trial must then fail. */
static void sabotage(rig *r)
{
    for (uint32_t off = 0; off < r->size; off += ESIM_NVS_PAGE_SIZE) {
        esim_nvs_raw_page *p = r->raw;
        esim_nvs_raw_page_parse(r->image + off, off, p);
        if (p->header.state != ESIM_NVS_PAGE_FULL && p->header.state != ESIM_NVS_PAGE_ACTIVE)
            continue;
        for (size_t i = p->count; i-- > 0;) {
            const esim_nvs_raw_entry *e = &p->entries[i];
            if (e->state == ESIM_NVS_ENTRY_WRITTEN && e->item.ns_index != 0
                && esim_nvs_int_width(e->item.type)) {
                memset(r->image + off + ESIM_NVS_ENTRIES_OFFSET + e->index * ESIM_NVS_ENTRY_SIZE + 24,
                       0, esim_nvs_int_width(e->item.type));
                return;
            }
        }
    }
}

/* ---- the leak check ---- */

/* Sets i32 keys "f00000".. in `h` until the partition is full. */
static bool fill(rig *r, const esim_nvs_handle *h, size_t *count)
{
    char key[16];
    size_t limit = (size_t)pages_of(r) * PAGE_ENTRIES;
    for (size_t i = 0; i <= limit; i++) {
        snprintf(key, sizeof key, "f%05zu", i);
        esp_err_t err = esim_nvs_set_int(h, key, ESIM_NVS_TYPE_I32, (int64_t)i);
        if (err == ESP_ERR_NVS_NOT_ENOUGH_SPACE) {
            *count = i;
            return true;
        }
        if (err)
            return fail(r, "filling: set %s: %s", key, errname(err));
    }
    return fail(r, "filling: %zu keys set in %zu entries, never NOT_ENOUGH_SPACE", limit + 1,
                limit);
}

static unsigned first_namespace(const model *md)
{
    for (unsigned ns = 0; ns < NS_COUNT; ns++)
        if (md->ns_made[ns])
            return ns;
    return NS_COUNT;
}

static unsigned namespace_count(const model *md)
{
    unsigned n = 0;
    for (unsigned ns = 0; ns < NS_COUNT; ns++)
        n += md->ns_made[ns];
    return n;
}

/* How many i32 keys a fresh partition with `count` namespaces holds. */
static bool measure_baseline(rig *r, scenario *sc, unsigned count)
{
    mounted m;
    if (!blank_partition(r))
        return false;
    esp_err_t err = do_mount(r, false, &m);
    if (err)
        return fail(r, "mount of a blank partition: %s", errname(err));
    for (unsigned ns = 0; ns < count && !err; ns++)
        err = esim_nvs_open(m.nvs, ns_names[ns], true, &m.h[ns]);
    bool ok = !err && fill(r, &m.h[0], &sc->fill_baseline[count]);
    unmount(&m);
    if (err)
        return fail(r, "baseline: open: %s", errname(err));
    return ok;
}

/* With every key erased the partition takes as many keys as a fresh one,
 * and the stats count only the namespace entries as used. */
static bool check_no_leak(rig *r, const scenario *sc, mounted *m, const model *md)
{
    unsigned namespaces = namespace_count(md);
    esim_nvs_stats st;
    size_t filled;
    for (unsigned ns = 0; ns < NS_COUNT; ns++) {
        if (!md->ns_made[ns])
            continue;
        esp_err_t err = esim_nvs_erase_all(&m->h[ns]);
        if (err)
            return fail(r, "leak check: erase_all %s: %s", ns_names[ns], errname(err));
    }
    if (!check_stats(r, m, namespaces, &st))
        return false;
    if (st.used_entries != namespaces)
        return fail(r, "leak: %zu entries used with every key erased (%u namespaces)",
                    st.used_entries, namespaces);
    if (!fill(r, &m->h[first_namespace(md)], &filled))
        return false;
    if (filled != sc->fill_baseline[namespaces])
        return fail(r, "leak: the partition took %zu keys after recovery, %zu when fresh",
                    filled, sc->fill_baseline[namespaces]);
    if (!check_stats(r, m, namespaces, &st))
        return false;
    if (st.used_entries != (size_t)(pages_of(r) - 1) * PAGE_ENTRIES)
        return fail(r, "leak: full partition uses %zu entries, expected %zu", st.used_entries,
                    (size_t)(pages_of(r) - 1) * PAGE_ENTRIES);
    return true;
}

/* ---- the uninterrupted run ---- */

static bool reference_run(rig *r, scenario *sc)
{
    mounted m;
    model md;
    size_t stopped;
    esim_flash_counters c0, c1;

    memset(&md, 0, sizeof md);
    if (!blank_partition(r))
        return false;
    esp_err_t err = do_mount(r, false, &m);
    if (err)
        return fail(r, "mount of a blank partition: %s", errname(err));
    read_counters(r, &c0);
    run_result res = run_ops(r, &sc->wl, &m, &md, 0, false, &stopped);
    read_counters(r, &c1);
    unmount(&m);
    if (res != RUN_DONE)
        return res == RUN_BROKEN ? false : fail(r, "uninterrupted run stopped at op %zu", stopped);
    sc->final = md;
    sc->ops = (c1.program_ops + c1.erase_ops) - (c0.program_ops + c0.erase_ops);
    sc->bytes = c1.bytes_programmed - c0.bytes_programmed;
    sc->erases = c1.sectors_erased - c0.sectors_erased;
    err = do_mount(r, false, &m);
    if (err)
        return fail(r, "remount after the uninterrupted run: %s", errname(err));
    bool ok = check_state(r, &m, true, &md, &md, NULL);
    unmount(&m);
    if (!ok)
        return false;
    /* the baselines replace the image: measure them last */
    for (unsigned count = 1; count <= NS_COUNT; count++)
        if (!measure_baseline(r, sc, count))
            return false;
    return true;
}

static bool reference_leak_check(rig *r, scenario *sc)
{
    mounted m;
    model md;
    size_t stopped;
    memset(&md, 0, sizeof md);
    if (!blank_partition(r))
        return false;
    esp_err_t err = do_mount(r, false, &m);
    if (err)
        return fail(r, "mount: %s", errname(err));
    bool ok = run_ops(r, &sc->wl, &m, &md, 0, false, &stopped) == RUN_DONE
              && check_no_leak(r, sc, &m, &md);
    unmount(&m);
    return ok;
}

/* ---- one trial ---- */

typedef struct {
    uint64_t trials, failures, recovery_writes, recuts, recut_ok, ro_blob_hidden;
    uint64_t both_types, blob_lost;   /* ESP-IDF's gaps met (passed unless --strict) */
} tally;

static void dump_image(const rig *r, const char *name, uint64_t n, uint64_t seed)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s-%06" PRIu64 "-s%" PRIu64 ".bin", r->dump_dir, name, n,
             seed);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(r->image, 1, r->size, f) != r->size)
        fprintf(stderr, "nvs_powercut: cannot write %s\n", path);
    if (f)
        fclose(f);
}

/* The image left by the cut, mounted read-only: mounts, writes nothing, and
 * every key the operation in flight did not touch reads back. A blob may be
 * missing: the read-only mount does not finish an interrupted garbage
 * collection, and ESP-IDF's mount-time blob check then counts the chunks
 * the collection had already copied twice and drops the index. */
static bool check_read_only(rig *r, const model *before, const model *after, tally *t)
{
    mounted m;
    uint64_t ops0 = mutating_ops(r);
    esp_err_t err = do_mount(r, true, &m);
    if (err)
        return fail(r, "read-only mount after the cut: %s", errname(err));
    bool ok = open_existing(r, &m, false);
    for (unsigned ns = 0; ok && ns < NS_COUNT; ns++) {
        if (!before->ns_made[ns] || !after->ns_made[ns])
            continue;
        if (!m.open[ns])
            ok = fail(r, "read-only mount: namespace %s missing", ns_names[ns]);
        for (unsigned k = 0; ok && k < KEY_COUNT; k++) {
            const value *v = &before->keys[ns][k];
            observed o;
            if (!value_equal(v, &after->keys[ns][k]))
                continue;   /* the operation in flight: either value */
            err = observe(r, &m, ns, k, &o);
            if (err)
                ok = fail(r, "read-only mount: reading %s/%s: %s", ns_names[ns], key_names[k],
                          errname(err));
            else if (!o.present && v->present && v->type == ESIM_NVS_TYPE_BLOB_DATA)
                t->ro_blob_hidden++;
            else if (!matches(r, &o, v)) {
                char seen[64], want[64];
                describe_observed(&o, seen, sizeof seen);
                describe_value(v, want, sizeof want);
                ok = fail(r, "read-only mount: %s/%s holds %s, expected %s", ns_names[ns],
                          key_names[k], seen, want);
            }
        }
    }
    unmount(&m);
    if (ok && mutating_ops(r) != ops0)
        return fail(r, "the read-only mount wrote to flash (%" PRIu64 " operations)",
                    mutating_ops(r) - ops0);
    return ok;
}

/* Puts the image left by the cut back and mounts it again with the power
 * failing during the recovery's write `at` (of `writes`). */
static bool cut_recovery(rig *r, uint64_t writes, uint64_t n, uint64_t seed, tally *t)
{
    mounted m;
    if (!put_image(r, r->image))
        return false;
    uint64_t at = 1 + (n * 2654435761u + seed * 40503u) % writes;
    esim_flash_arm_cut_at_op(r->flash, at, seed);
    esp_err_t err = do_mount(r, false, &m);
    unmount(&m);
    esim_flash_power_on(r->flash);
    t->recuts++;
    /* ESP-IDF ignores failed erases of its mount-time blob check, so an
     * ESP_OK here is allowed; what counts is the state the next mount finds. */
    if (err == ESP_OK)
        t->recut_ok++;
    return true;
}

static bool continue_workload(rig *r, const scenario *sc, mounted *m, model *md, size_t from)
{
    size_t stopped;
    run_result res = run_ops(r, &sc->wl, m, md, from, false, &stopped);
    if (res == RUN_BROKEN) {
        char msg[sizeof r->why];
        memcpy(msg, r->why, sizeof msg);
        return fail(r, "after recovery: %s", msg);
    }
    if (res != RUN_DONE)
        return fail(r, "after recovery the power failed at op %zu", stopped);
    return true;
}

static bool arm(rig *r, cut_mode mode, uint64_t n, uint64_t seed)
{
    esp_err_t err = mode == CUT_OPS ? esim_flash_arm_cut_at_op(r->flash, n, seed)
                                    : esim_flash_arm_cut_after_bytes(r->flash, n, seed);
    return err ? fail(r, "cannot arm the cut: %s", errname(err)) : true;
}

/* Mounts read-write (the recovery) and checks what it shows. */
static bool recover_and_check(rig *r, const model *before, const model *after, model *got,
                              uint64_t *writes)
{
    mounted m;
    uint64_t ops0 = mutating_ops(r);
    esp_err_t err = do_mount(r, false, &m);
    if (err)
        return fail(r, "mount after the cut: %s", errname(err));
    *writes = mutating_ops(r) - ops0;
    *got = *before;
    bool ok = check_state(r, &m, false, before, after, got)
              || explain_quirk(r, &m, before, after, got);
    unmount(&m);
    return ok;
}

static bool after_recovery(rig *r, const scenario *sc, const model *before, const model *after,
                           size_t in_flight, uint64_t n, uint64_t seed, tally *t)
{
    mounted m;
    model got;
    uint64_t writes;
    if (!recover_and_check(r, before, after, &got, &writes))
        return false;
    if (writes)
        t->recovery_writes++;
    if (writes && r->recut) {
        char msg[sizeof r->why];
        if (!cut_recovery(r, writes, n, seed, t))
            return false;
        if (!recover_and_check(r, before, after, &got, &writes)) {
            memcpy(msg, r->why, sizeof msg);
            return fail(r, "after a cut recovery: %s", msg);
        }
    }
    uint64_t ops0 = mutating_ops(r);
    esp_err_t err = do_mount(r, false, &m);
    if (err)
        return fail(r, "second mount after recovery: %s", errname(err));
    if (mutating_ops(r) != ops0) {
        unmount(&m);
        return fail(r, "the second mount after recovery wrote again (%" PRIu64 " operations)",
                    mutating_ops(r) - ops0);
    }
    /* With both entries of a type change kept, ESP-IDF's later updates of
     * the key touch one of them only: the rest of the workload cannot be
     * compared with the model, so only the leak check runs. */
    bool both = r->quirk == QUIRK_BOTH_TYPES;
    if (both)
        model_apply(&got, &sc->wl.ops[in_flight]);
    bool ok = open_existing(r, &m, true)
              && (both || (continue_workload(r, sc, &m, &got, in_flight)
                           && check_state(r, &m, true, &got, &got, NULL)))
              && check_no_leak(r, sc, &m, &got);
    unmount(&m);
    return ok;
}

static bool trial(rig *r, const scenario *sc, uint64_t n, uint64_t seed, tally *t)
{
    mounted m;
    model before, after;
    size_t in_flight;

    memset(&before, 0, sizeof before);
    r->in_flight[0] = 0;
    r->flight = NULL;
    r->quirk = QUIRK_NONE;
    if (!blank_partition(r))
        return false;
    esp_err_t err = do_mount(r, false, &m);
    if (err)
        return fail(r, "mount of a blank partition: %s", errname(err));
    if (!arm(r, sc->mode, n, seed)) {
        unmount(&m);
        return false;
    }
    run_result res = run_ops(r, &sc->wl, &m, &before, 0, sc->mode == CUT_BYTES, &in_flight);
    unmount(&m);
    bool was_cut = !esim_flash_powered(r->flash);
    esim_flash_power_on(r->flash);
    if (res == RUN_BROKEN)
        return false;
    if (!was_cut)
        return fail(r, "the power never failed at cut point %" PRIu64 " (the uninterrupted run "
                    "made %" PRIu64 " %s): beyond the end, or the engine is not deterministic",
                    n, sc->mode == CUT_OPS ? sc->ops : sc->bytes,
                    sc->mode == CUT_OPS ? "flash operations" : "bytes");
    after = before;
    if (res == RUN_CUT) {
        char desc[128];
        r->flight = &sc->wl.ops[in_flight];
        model_apply(&after, r->flight);
        describe_op(r->flight, desc, sizeof desc);
        snprintf(r->in_flight, sizeof r->in_flight, "op %zu, %s", in_flight, desc);
    }
    memcpy(r->image, esim_flash_peek(r->flash) + PART_BASE, r->size);
    if (r->sabotage) {
        sabotage(r);
        if (!put_image(r, r->image))
            return false;
    }
    if (r->dump_dir)
        dump_image(r, sc->name, n, seed);
    if (!check_read_only(r, &before, &after, t))
        return false;
    return after_recovery(r, sc, &before, &after, in_flight, n, seed, t);
}

/* ---- sweeping ---- */

typedef struct {
    uint32_t size;            /* 0: both sizes */
    int mode;                 /* -1: both */
    unsigned seeds;
    uint64_t stride, byte_stride;
    unsigned shard, shards;
    unsigned max_report;
} options;

static void report_failure(const rig *r, const scenario *sc, uint64_t n, uint64_t seed)
{
    printf("FAIL %s cut=%" PRIu64 " seed=%" PRIu64 ": %s\n", sc->name, n, seed, r->why);
    if (r->in_flight[0])
        printf("     in flight: %s\n", r->in_flight);
    printf("     reproduce: nvs_powercut --repro 0x%" PRIx32 ":%s:%" PRIu64 ":%" PRIu64 "%s --trace\n",
           r->size, sc->mode == CUT_OPS ? "ops" : "bytes", n, seed, r->recut ? " --recut" : "");
}

static void note_quirk(const rig *r, const scenario *sc, uint64_t n, uint64_t seed, tally *t,
                       unsigned max_report)
{
    static const char *const what[] = {
        "", "the old and the new entry of a type change both survive",
        "the blob is lost: mount erased the old version's chunk as a duplicate of the new one",
    };
    if (r->quirk == QUIRK_NONE)
        return;
    uint64_t *count = r->quirk == QUIRK_BOTH_TYPES ? &t->both_types : &t->blob_lost;
    if (++*count > max_report)
        return;
    printf("IDF  %s cut=%" PRIu64 " seed=%" PRIu64 ": %s\n", sc->name, n, seed, what[r->quirk]);
    printf("     in flight: %s\n", r->in_flight);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static bool prepare(rig *r, scenario *sc, uint32_t size, cut_mode mode)
{
    memset(sc, 0, sizeof *sc);
    r->size = size;
    sc->mode = mode;
    snprintf(sc->name, sizeof sc->name, "0x%" PRIx32 "-%s", size, mode == CUT_OPS ? "ops" : "bytes");
    if (mode == CUT_OPS)
        build_main(&sc->wl, size);
    else
        build_short(&sc->wl, size);
    if (!reference_run(r, sc) || !reference_leak_check(r, sc)) {
        printf("FAIL %s uninterrupted run: %s\n", sc->name, r->why);
        return false;
    }
    return true;
}

static uint64_t sweep_points(const scenario *sc)
{
    return sc->mode == CUT_OPS ? sc->ops : sc->bytes;
}

static bool sweep(rig *r, uint32_t size, cut_mode mode, const options *opt, tally *all)
{
    scenario sc;
    tally t = {0};
    if (!prepare(r, &sc, size, mode)) {
        all->failures++;
        free(sc.wl.ops);
        return false;
    }
    uint64_t points = sweep_points(&sc);
    unsigned seeds = mode == CUT_OPS ? opt->seeds : 1;
    printf("%s: %u pages, %zu operations; uninterrupted: %" PRIu64 " mutating flash ops, "
           "%" PRIu64 " bytes programmed, %" PRIu64 " sector erases; a fresh partition takes "
           "%zu i32 keys\n", sc.name, pages_of(r), sc.wl.count, sc.ops, sc.bytes, sc.erases,
           sc.fill_baseline[namespace_count(&sc.final)]);
    fflush(stdout);
    double t0 = now();
    uint64_t stride = mode == CUT_OPS ? opt->stride : opt->byte_stride;
    for (uint64_t n = 1; n <= points; n += stride) {
        if ((n / stride) % opt->shards != opt->shard)
            continue;
        for (uint64_t seed = 1; seed <= seeds; seed++) {
            t.trials++;
            if (trial(r, &sc, n, seed, &t)) {
                note_quirk(r, &sc, n, seed, &t, opt->max_report);
                continue;
            }
            t.failures++;
            if (t.failures <= opt->max_report)
                report_failure(r, &sc, n, seed);
        }
    }
    printf("%s: %" PRIu64 " cut points x %u seed(s) = %" PRIu64 " trials, %" PRIu64 " failures; "
           "recovery wrote in %" PRIu64 ", recovery cut in %" PRIu64 " (mount still ESP_OK in "
           "%" PRIu64 "); read-only view hid a blob in %" PRIu64 "; ESP-IDF gaps: type change "
           "kept both in %" PRIu64 ", blob lost in %" PRIu64 "; %.1f s\n",
           sc.name, t.trials / seeds, seeds, t.trials, t.failures, t.recovery_writes, t.recuts,
           t.recut_ok, t.ro_blob_hidden, t.both_types, t.blob_lost, now() - t0);
    fflush(stdout);
    all->trials += t.trials;
    all->failures += t.failures;
    all->recovery_writes += t.recovery_writes;
    all->recuts += t.recuts;
    all->recut_ok += t.recut_ok;
    all->ro_blob_hidden += t.ro_blob_hidden;
    all->both_types += t.both_types;
    all->blob_lost += t.blob_lost;
    free(sc.wl.ops);
    return t.failures == 0;
}

static int repro(rig *r, const char *spec)
{
    char mode_name[8];
    uint32_t size;
    uint64_t n, seed;
    scenario sc;
    tally t = {0};
    if (sscanf(spec, "%" SCNx32 ":%7[a-z]:%" SCNu64 ":%" SCNu64, &size, mode_name, &n, &seed) != 4
        || (strcmp(mode_name, "ops") != 0 && strcmp(mode_name, "bytes") != 0)) {
        fprintf(stderr, "nvs_powercut: --repro wants SIZE:ops|bytes:N:SEED\n");
        return 2;
    }
    bool trace = r->trace;
    r->trace = false;
    if (!prepare(r, &sc, size, strcmp(mode_name, "ops") == 0 ? CUT_OPS : CUT_BYTES))
        return 1;
    r->trace = trace;
    printf("%s: %" PRIu64 " cut points; trying cut %" PRIu64 " seed %" PRIu64 "\n", sc.name,
           sweep_points(&sc), n, seed);
    bool ok = trial(r, &sc, n, seed, &t);
    if (ok && r->quirk != QUIRK_NONE)
        note_quirk(r, &sc, n, seed, &t, 1);
    else if (ok)
        printf("pass\n");
    else
        report_failure(r, &sc, n, seed);
    free(sc.wl.ops);
    return ok ? 0 : 1;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: nvs_powercut [--size HEX] [--mode ops|bytes] [--seeds N] [--stride N]\n"
            "                    [--byte-stride N] [--shard I/N] [--recut] [--strict]\n"
            "                    [--dump DIR] [--max-report N]\n"
            "       nvs_powercut --repro SIZE:ops|bytes:N:SEED [--recut] [--trace]\n");
}

static bool parse_uint(const char *s, uint64_t *out)
{
    char *end;
    if (!s || !*s)
        return false;
    *out = strtoull(s, &end, 0);
    return *end == 0;
}

static bool parse_args(int argc, char **argv, options *opt, rig *r, const char **repro_spec)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t x;
        if (strcmp(a, "--recut") == 0) {
            r->recut = true;
            continue;
        }
        if (strcmp(a, "--trace") == 0) {
            r->trace = true;
            continue;
        }
        if (strcmp(a, "--sabotage") == 0) {
            r->sabotage = true;
            continue;
        }
        if (strcmp(a, "--strict") == 0) {
            r->strict = true;
            continue;
        }
        if (!v)
            return false;
        i++;
        if (strcmp(a, "--size") == 0 && parse_uint(v, &x) && x >= 0x4000 && x <= 0x40000
            && x % ESIM_NVS_PAGE_SIZE == 0)
            opt->size = (uint32_t)x;
        else if (strcmp(a, "--mode") == 0 && strcmp(v, "ops") == 0)
            opt->mode = CUT_OPS;
        else if (strcmp(a, "--mode") == 0 && strcmp(v, "bytes") == 0)
            opt->mode = CUT_BYTES;
        else if (strcmp(a, "--seeds") == 0 && parse_uint(v, &x) && x >= 1 && x <= 1000)
            opt->seeds = (unsigned)x;
        else if (strcmp(a, "--stride") == 0 && parse_uint(v, &x) && x >= 1)
            opt->stride = x;
        else if (strcmp(a, "--byte-stride") == 0 && parse_uint(v, &x) && x >= 1)
            opt->byte_stride = x;
        else if (strcmp(a, "--max-report") == 0 && parse_uint(v, &x))
            opt->max_report = (unsigned)x;
        else if (strcmp(a, "--shard") == 0
                 && sscanf(v, "%u/%u", &opt->shard, &opt->shards) == 2 && opt->shards >= 1
                 && opt->shard < opt->shards)
            continue;
        else if (strcmp(a, "--dump") == 0)
            r->dump_dir = v;
        else if (strcmp(a, "--repro") == 0)
            *repro_spec = v;
        else
            return false;
    }
    return true;
}

int main(int argc, char **argv)
{
    options opt = {.mode = -1, .seeds = 3, .stride = 1, .shard = 0, .shards = 1, .max_report = 20};
    rig r;
    const char *repro_spec = NULL;
    memset(&r, 0, sizeof r);
    if (!parse_args(argc, argv, &opt, &r, &repro_spec)) {
        usage();
        return 2;
    }
    if (!opt.byte_stride)
        opt.byte_stride = opt.stride;
    r.skip_ns = r.skip_key = -1;
    r.raw = malloc(sizeof *r.raw);
    r.val_buf = malloc(MAX_VALUE);
    r.read_buf = malloc(MAX_VALUE);
    r.image = malloc(0x40000);
    if (!r.raw || !r.val_buf || !r.read_buf || !r.image
        || esim_flash_open_memory(FLASH_BYTES, &r.flash) != ESP_OK) {
        fprintf(stderr, "nvs_powercut: out of memory\n");
        return 2;
    }
    int status;
    if (repro_spec) {
        status = repro(&r, repro_spec);
    } else {
        static const uint32_t sizes[] = {0x6000, 0x4000};
        tally all = {0};
        double t0 = now();
        for (unsigned s = 0; s < 2; s++) {
            uint32_t size = opt.size ? opt.size : sizes[s];
            if (opt.size && s > 0)
                break;
            for (int mode = CUT_OPS; mode <= CUT_BYTES; mode++)
                if (opt.mode < 0 || opt.mode == mode)
                    sweep(&r, size, (cut_mode)mode, &opt, &all);
        }
        printf("summary: %" PRIu64 " trials, %" PRIu64 " failures (recovery wrote in %" PRIu64
               ", recovery itself cut in %" PRIu64 "; ESP-IDF gaps: %" PRIu64 " type changes "
               "kept both, %" PRIu64 " blobs lost%s), %.1f s\n", all.trials, all.failures,
               all.recovery_writes, all.recuts, all.both_types, all.blob_lost,
               r.strict ? ", counted as failures" : "", now() - t0);
        status = all.failures ? 1 : 0;
    }
    esim_flash_close(r.flash);
    free(r.val_buf);
    free(r.read_buf);
    free(r.image);
    free(r.raw);
    return status;
}
