/* esp32sim btree — overflow chains: an item too long for a page is kept on
 * a chain of P_OVERFLOW pages (their nextpg links them, the bytes follow the
 * page header) and the page holds an 8-byte reference {first page, length}. */
#include <stdlib.h>
#include <string.h>

#include "bt_internal.h"

static uint32_t chunk_size(const esim_btree *t) { return t->psize - BT_HDR; }

esp_err_t bt_ovfl_put(esim_btree *t, const uint8_t *data, size_t len, uint8_t ref[BT_REF_SIZE])
{
    if (len == 0 || len > UINT32_MAX)
        return ESP_ERR_INVALID_SIZE;
    uint32_t plen = chunk_size(t), first = BT_PG_NONE, last = BT_PG_NONE;
    for (size_t done = 0; done < len;) {
        uint32_t no;
        uint8_t *pg;
        esp_err_t err = bt_page_new(t, BT_P_OVERFLOW, &no, &pg);
        if (err)
            return err;
        size_t n = len - done < plen ? len - done : plen;
        memcpy(pg + BT_HDR, data + done, n);
        done += n;
        if (last == BT_PG_NONE) {
            first = no;
        } else {
            uint8_t *prev;
            if ((err = bt_page_get(t, last, &prev)))
                return err;
            bt_wr32(prev + BT_OFF_NEXT, no);
            bt_page_dirty(t, last);
        }
        last = no;
    }
    bt_wr32(ref, first);
    bt_wr32(ref + 4, (uint32_t)len);
    return ESP_OK;
}

/* Page `no` of a chain, checked to be an overflow page. */
static esp_err_t chain_page(esim_btree *t, uint32_t no, uint8_t **pg)
{
    if (no <= BT_PG_ROOT)
        return ESP_ERR_INVALID_STATE;
    esp_err_t err = bt_page_get(t, no, pg);
    if (err)
        return err;
    if (bt_pgno(*pg) != no || (bt_flags(*pg) & BT_P_TYPE) != BT_P_OVERFLOW)
        return ESP_ERR_INVALID_STATE;
    return ESP_OK;
}

/* The chain's length is checked against the file before anything is
 * allocated, so a hostile length cannot ask for more than the file holds. */
static esp_err_t chain_length(const esim_btree *t, const uint8_t ref[BT_REF_SIZE], uint32_t *len)
{
    *len = bt_rd32(ref + 4);
    if (*len == 0 || (uint64_t)*len > (uint64_t)t->npages * chunk_size(t))
        return ESP_ERR_INVALID_STATE;
    return ESP_OK;
}

esp_err_t bt_ovfl_get(esim_btree *t, const uint8_t ref[BT_REF_SIZE], uint8_t **out, size_t *len)
{
    uint32_t total;
    esp_err_t err = chain_length(t, ref, &total);
    if (err)
        return err;
    uint8_t *buf = malloc(total);
    uint8_t *seen = calloc(t->npages / 8u + 1u, 1);   /* a chain visits a page once */
    if (buf == NULL || seen == NULL) {
        free(buf);
        free(seen);
        return ESP_ERR_NO_MEM;
    }
    uint32_t no = bt_rd32(ref), plen = chunk_size(t);
    for (uint32_t done = 0; done < total;) {
        uint8_t *pg;
        err = chain_page(t, no, &pg);
        if (!err && (seen[no / 8u] >> (no % 8u)) & 1u)
            err = ESP_ERR_INVALID_STATE;
        if (err) {
            free(buf);
            free(seen);
            return err;
        }
        seen[no / 8u] |= (uint8_t)(1u << (no % 8u));
        uint32_t n = total - done < plen ? total - done : plen;
        memcpy(buf + done, pg + BT_HDR, n);
        done += n;
        no = bt_next(pg);
    }
    free(seen);
    *out = buf;
    *len = total;
    return ESP_OK;
}

esp_err_t bt_ovfl_delete(esim_btree *t, const uint8_t ref[BT_REF_SIZE])
{
    uint32_t total;
    esp_err_t err = chain_length(t, ref, &total);
    if (err)
        return err;
    uint32_t no = bt_rd32(ref), plen = chunk_size(t);
    uint8_t *pg;
    if ((err = chain_page(t, no, &pg)))
        return err;
    if (bt_flags(pg) & BT_P_PRESERVE)
        return ESP_OK;   /* an internal page refers to it: kept for good */
    for (uint32_t done = 0; done < total; done += plen) {
        if ((err = chain_page(t, no, &pg)))
            return err;
        uint32_t next = bt_next(pg);
        if ((err = bt_page_free(t, no)))
            return err;
        no = next;
    }
    return ESP_OK;
}

esp_err_t bt_ovfl_preserve(esim_btree *t, const uint8_t ref[BT_REF_SIZE])
{
    uint32_t no = bt_rd32(ref);
    uint8_t *pg;
    esp_err_t err = chain_page(t, no, &pg);
    if (err)
        return err;
    bt_wr32(pg + BT_OFF_FLAGS, bt_flags(pg) | BT_P_PRESERVE);
    bt_page_dirty(t, no);
    return ESP_OK;
}
