/* libFuzzer target for the btree engine (btree.h, docs/btree.md).
 *
 * The input is a database file as a stream holds it. It is opened, every
 * pair is walked forwards and backwards, a few keys are read, written and
 * deleted (a long one reaching overflow pages among them), and the result
 * is flushed and opened again. Whatever the bytes, every call must return
 * (an error is fine) and the walks must stay in strict key order; ASan and
 * UBSan catch the rest. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "esp32sim/btree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_STREAM (4u << 20)

typedef struct stream {
    uint8_t *buf;
    size_t len;
} stream;

static esp_err_t s_read(void *ctx, uint64_t off, void *buf, size_t len, size_t *got)
{
    stream *s = ctx;
    *got = 0;
    if (off < s->len) {
        *got = s->len - off < len ? s->len - (size_t)off : len;
        memcpy(buf, s->buf + off, *got);
    }
    return ESP_OK;
}

static esp_err_t s_write(void *ctx, uint64_t off, const void *buf, size_t len)
{
    stream *s = ctx;
    if (off + len > MAX_STREAM)
        return ESP_ERR_NO_MEM;
    if (off + len > s->len) {
        uint8_t *grown = realloc(s->buf, off + len);
        if (grown == NULL)
            return ESP_ERR_NO_MEM;
        memset(grown + s->len, 0, off + len - s->len);
        s->buf = grown;
        s->len = off + len;
    }
    memcpy(s->buf + off, buf, len);
    return ESP_OK;
}

static esp_err_t s_size(void *ctx, uint64_t *size)
{
    *size = ((stream *)ctx)->len;
    return ESP_OK;
}

/* Walk every pair one way; abort when the order is broken. */
static void walk(esim_btree *db, esim_btree_move first, esim_btree_move step, int sign)
{
    uint8_t *prev = NULL, *k, *v;
    size_t prevn = 0, kn, vn;
    esim_btree_move mv = first;
    for (unsigned n = 0; n < 200000; n++) {
        if (esim_btree_seq(db, mv, NULL, 0, &k, &kn, &v, &vn))
            break;
        if (prev && esim_btree_compare(k, kn, prev, prevn) * sign <= 0)
            abort();
        free(prev);
        free(v);
        prev = k;
        prevn = kn;
        mv = step;
    }
    free(prev);
}

static void exercise(esim_btree *db, const uint8_t *data, size_t size)
{
    walk(db, ESIM_BTREE_FIRST, ESIM_BTREE_NEXT, 1);
    walk(db, ESIM_BTREE_LAST, ESIM_BTREE_PREV, -1);
    uint8_t *v;
    size_t vn;
    const char *keys[] = {"", "a", "key0000005", "zzzz"};
    for (size_t i = 0; i < 4; i++) {
        if (esim_btree_get(db, keys[i], strlen(keys[i]), &v, &vn) == ESP_OK)
            free(v);
        if (esim_btree_seq(db, ESIM_BTREE_AT, keys[i], strlen(keys[i]), NULL, NULL, &v, &vn) == ESP_OK)
            free(v);
    }
    size_t head = size < 64 ? size : 64;
    esim_btree_put(db, data, head, "v", 1);
    esim_btree_put(db, "a", 1, data, size < 9000 ? size : 9000);
    uint8_t big[3000];
    memset(big, 'k', sizeof big);
    esim_btree_put(db, big, sizeof big, data, head);
    esim_btree_delete(db, "a", 1);
    esim_btree_delete(db, data, head);
    walk(db, ESIM_BTREE_FIRST, ESIM_BTREE_NEXT, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    stream s = {malloc(size ? size : 1), size};
    if (s.buf == NULL)
        return 0;
    memcpy(s.buf, data, size);
    esim_btree_io io = {s_read, s_write, s_size, NULL, &s};
    esim_btree_config cfg = {.pagesize = 512};
    for (int round = 0; round < 2; round++) {
        esim_btree *db = NULL;
        if (esim_btree_open(&io, &cfg, &db))
            break;
        exercise(db, data, size);
        if (esim_btree_close(db))
            break;
    }
    free(s.buf);
    return 0;
}
