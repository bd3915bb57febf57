/* esp32sim btree — key order, reading entries, and finding positions: a
 * descent from the root to the leaf a key belongs on, and steps from one
 * leaf to the next through the parents (sibling links are written for a
 * board's benefit but never followed here, so a hostile file cannot send a
 * walk round in circles). */
#include <stdlib.h>
#include <string.h>

#include "bt_internal.h"

int esim_btree_compare(const void *a, size_t alen, const void *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;
    if (c)
        return c < 0 ? -1 : 1;
    return (alen > blen) - (alen < blen);
}

void bt_bytes_release(bt_bytes *b)
{
    free(b->owned);
    b->owned = NULL;
}

/* The key of entry `index` (leaf or internal: both keep ksize first and the
 * key bytes after the 9-byte entry header). */
esp_err_t bt_entry_key(esim_btree *t, const uint8_t *pg, uint32_t index, bt_bytes *key)
{
    const uint8_t *e = pg + bt_linp(pg, index);
    const uint8_t *bytes = e + BT_ENTRY_HDR;
    key->owned = NULL;
    if (e[8] & BT_BIGKEY) {
        esp_err_t err = bt_ovfl_get(t, bytes, &key->owned, &key->n);
        key->p = key->owned;
        return err;
    }
    key->p = bytes;
    key->n = bt_rd32(e);
    return ESP_OK;
}

esp_err_t bt_entry_data(esim_btree *t, const uint8_t *pg, uint32_t index, bt_bytes *data)
{
    const uint8_t *e = pg + bt_linp(pg, index);
    const uint8_t *bytes = e + BT_ENTRY_HDR + bt_rd32(e);
    data->owned = NULL;
    if (e[8] & BT_BIGDATA) {
        esp_err_t err = bt_ovfl_get(t, bytes, &data->owned, &data->n);
        data->p = data->owned;
        return err;
    }
    data->p = bytes;
    data->n = bt_rd32(e + 4);
    return ESP_OK;
}

static esp_err_t compare_entry(esim_btree *t, const uint8_t *key, size_t klen, const uint8_t *pg,
                               uint32_t index, int *cmp)
{
    bt_bytes k;
    esp_err_t err = bt_entry_key(t, pg, index, &k);
    if (err)
        return err;
    *cmp = esim_btree_compare(key, klen, k.p, k.n);
    bt_bytes_release(&k);
    return ESP_OK;
}

static esp_err_t push(bt_path *path, uint32_t pgno, uint32_t index)
{
    if (path->depth >= BT_MAX_DEPTH)
        return ESP_ERR_INVALID_STATE;
    for (uint32_t i = 0; i < path->depth; i++)
        if (path->step[i].pgno == pgno)
            return ESP_ERR_INVALID_STATE;   /* a page below itself */
    path->step[path->depth].pgno = pgno;
    path->step[path->depth].index = index;
    path->depth++;
    return ESP_OK;
}

static uint32_t child_of(const uint8_t *pg, uint32_t index)
{
    return bt_rd32(pg + bt_linp(pg, index) + 4);
}

/* In an internal page: the last entry whose key is <= `key`. Entry 0's key
 * is never looked at: it stands for everything below entry 1's. */
static esp_err_t search_internal(esim_btree *t, const uint8_t *pg, const uint8_t *key, size_t klen,
                                 uint32_t *index)
{
    uint32_t lo = 1, hi = bt_count(pg);
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2u;
        int c;
        esp_err_t err = compare_entry(t, key, klen, pg, mid, &c);
        if (err)
            return err;
        if (c >= 0)
            lo = mid + 1u;
        else
            hi = mid;
    }
    *index = lo - 1u;
    return ESP_OK;
}

/* In a leaf: the first entry whose key is >= `key`. */
static esp_err_t search_leaf(esim_btree *t, const uint8_t *pg, const uint8_t *key, size_t klen,
                             uint32_t *index, bool *exact)
{
    uint32_t lo = 0, hi = bt_count(pg);
    *exact = false;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2u;
        int c;
        esp_err_t err = compare_entry(t, key, klen, pg, mid, &c);
        if (err)
            return err;
        if (c == 0)
            *exact = true;
        if (c > 0)
            lo = mid + 1u;
        else
            hi = mid;
    }
    *index = lo;
    return ESP_OK;
}

esp_err_t bt_descend(esim_btree *t, const uint8_t *key, size_t klen, bt_path *path, bool *exact)
{
    uint32_t no = BT_PG_ROOT;
    path->depth = 0;
    for (;;) {
        uint8_t *pg;
        uint32_t index;
        esp_err_t err = bt_tree_page(t, no, &pg);
        if (err)
            return err;
        if (bt_is_leaf(pg)) {
            if ((err = search_leaf(t, pg, key, klen, &index, exact)))
                return err;
            return push(path, no, index);
        }
        if ((err = search_internal(t, pg, key, klen, &index)) || (err = push(path, no, index)))
            return err;
        no = child_of(pg, index);
    }
}

/* From the internal page on top of `path`, go down the first (or last)
 * child at every level. The leaf's index is 0 (or its entry count). */
static esp_err_t descend_edge(esim_btree *t, bt_path *path, bool last)
{
    for (;;) {
        bt_step *top = &path->step[path->depth - 1u];
        uint8_t *pg;
        esp_err_t err = bt_tree_page(t, top->pgno, &pg);
        if (err)
            return err;
        if (bt_is_leaf(pg)) {
            top->index = last ? bt_count(pg) : 0;
            return ESP_OK;
        }
        uint32_t no = child_of(pg, top->index);
        if ((err = bt_tree_page(t, no, &pg)))
            return err;
        uint32_t n = bt_count(pg);
        if ((err = push(path, no, last && !bt_is_leaf(pg) ? n - 1u : 0)))
            return err;
    }
}

esp_err_t bt_edge(esim_btree *t, bool last, bt_path *path)
{
    uint8_t *pg;
    path->depth = 0;
    esp_err_t err = bt_tree_page(t, BT_PG_ROOT, &pg);
    if (err)
        return err;
    if ((err = push(path, BT_PG_ROOT, last && !bt_is_leaf(pg) ? bt_count(pg) - 1u : 0)))
        return err;
    return descend_edge(t, path, last);
}

/* Move `path` from its leaf to the next (or previous) leaf: up to the
 * nearest parent with a child on that side, then down its edge. */
esp_err_t bt_step_leaf(esim_btree *t, bt_path *path, bool forward)
{
    path->depth--;
    while (path->depth > 0) {
        bt_step *top = &path->step[path->depth - 1u];
        uint8_t *pg;
        esp_err_t err = bt_tree_page(t, top->pgno, &pg);
        if (err)
            return err;
        if (forward && top->index + 1u < bt_count(pg)) {
            top->index++;
            return descend_edge(t, path, false);
        }
        if (!forward && top->index > 0) {
            top->index--;
            return descend_edge(t, path, true);
        }
        path->depth--;
    }
    return ESP_ERR_NOT_FOUND;
}
