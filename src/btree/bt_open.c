/* esp32sim btree — the public calls: open (the meta page), flush, close,
 * get, put, delete and the cursor. */
#include <stdlib.h>
#include <string.h>

#include "bt_internal.h"


static esp_err_t check_config(const esim_btree_config *cfg)
{
    if (cfg->flags == 1u)
        return ESP_ERR_NOT_SUPPORTED;   /* R_DUP: duplicate keys */
    if (cfg->flags)
        return ESP_ERR_INVALID_ARG;
    if (cfg->pagesize && (cfg->pagesize < ESIM_BTREE_MIN_PAGESIZE || cfg->pagesize > ESIM_BTREE_MAX_PAGESIZE ||
                          cfg->pagesize % 2u))
        return ESP_ERR_INVALID_ARG;
    if (cfg->minkeypage == 1u)
        return ESP_ERR_INVALID_ARG;
    return ESP_OK;
}

/* Berkeley DB's rule: a pair longer than this goes to overflow pages, so
 * that `minkeypage` pairs fit a page. */
static uint32_t overflow_threshold(uint32_t psize, uint32_t minkeypage)
{
    uint32_t per_key = (psize - BT_HDR) / minkeypage;
    uint32_t cost = 2u + bt_leaf_size(0, 0);
    uint32_t size = per_key > cost ? per_key - cost : 0;
    uint32_t least = bt_leaf_size(BT_REF_SIZE, BT_REF_SIZE) + 2u;
    return size < least ? least : size;
}

static esp_err_t read_meta(esim_btree *t, uint64_t size)
{
    uint8_t m[BT_META_SIZE];
    size_t got = 0;
    esp_err_t err = t->io.read(t->io.ctx, 0, m, sizeof m, &got);
    if (err)
        return err;
    if (got != sizeof m)
        return ESP_ERR_INVALID_STATE;
    uint32_t magic = bt_rd32(m), psize = bt_rd32(m + 8), flags = bt_rd32(m + 20);
    if (magic != BT_MAGIC)
        return magic == 0x62310500u ? ESP_ERR_NOT_SUPPORTED : ESP_ERR_INVALID_STATE;
    if (bt_rd32(m + 4) != BT_VERSION || psize < ESIM_BTREE_MIN_PAGESIZE || psize > ESIM_BTREE_MAX_PAGESIZE ||
        psize % 2u || (flags & ~(BT_META_NODUPS | BT_META_RECNO)))
        return ESP_ERR_INVALID_STATE;
    if ((flags & BT_META_RECNO) || !(flags & BT_META_NODUPS))
        return ESP_ERR_NOT_SUPPORTED;
    uint64_t pages = size / psize;
    if (pages < 2u || pages > UINT32_MAX)
        return ESP_ERR_INVALID_STATE;
    t->psize = psize;
    t->npages = t->file_pages = (uint32_t)pages;
    t->free_head = bt_rd32(m + 12);
    t->nrecs = bt_rd32(m + 16);
    t->meta_flags = flags;
    if (t->free_head != BT_PG_NONE && (t->free_head <= BT_PG_ROOT || t->free_head >= t->npages))
        return ESP_ERR_INVALID_STATE;
    return ESP_OK;
}

/* A new database: an empty meta page and an empty root leaf, written by
 * the first flush after a change. */
static esp_err_t create(esim_btree *t, uint32_t psize)
{
    t->psize = psize;
    t->npages = 0;
    t->free_head = BT_PG_NONE;
    t->meta_flags = BT_META_NODUPS;
    t->meta_dirty = true;
    uint32_t no;
    uint8_t *pg;
    esp_err_t err = bt_page_new(t, BT_P_BLEAF, &no, &pg);
    if (!err)
        err = bt_page_new(t, BT_P_BLEAF, &no, &pg);
    if (err)
        return err;
    memset(t->pages[BT_PG_META].data, 0, psize);
    t->modified = false;
    return ESP_OK;
}

esp_err_t esim_btree_open(const esim_btree_io *io, const esim_btree_config *cfg, esim_btree **out)
{
    esim_btree_config defaults = {0};
    if (cfg == NULL)
        cfg = &defaults;
    if (io == NULL || io->read == NULL || io->write == NULL || io->size == NULL || out == NULL)
        return ESP_ERR_INVALID_ARG;
    esp_err_t err = check_config(cfg);
    if (err)
        return err;
    esim_btree *t = calloc(1, sizeof *t);
    if (t == NULL)
        return ESP_ERR_NO_MEM;
    t->io = *io;
    uint64_t size = 0;
    err = io->size(io->ctx, &size);
    if (!err)
        err = size ? read_meta(t, size) : create(t, cfg->pagesize ? cfg->pagesize : ESIM_BTREE_DEFAULT_PAGESIZE);
    if (err) {
        bt_cache_free(t);
        free(t);
        return err;
    }
    t->ovflsize = overflow_threshold(t->psize, cfg->minkeypage ? cfg->minkeypage : 2u);
    *out = t;
    return ESP_OK;
}

uint32_t esim_btree_pagesize(const esim_btree *db) { return db->psize; }

esp_err_t esim_btree_flush(esim_btree *db)
{
    return db->modified ? bt_cache_write(db) : ESP_OK;
}

esp_err_t esim_btree_close(esim_btree *db)
{
    if (db == NULL)
        return ESP_OK;
    esp_err_t err = esim_btree_flush(db);
    bt_cache_free(db);
    free(db->cursor_key);
    free(db);
    return err;
}

/* A caller's copy of bytes (never NULL, even when empty). */
static esp_err_t give(const bt_bytes *b, uint8_t **out, size_t *n)
{
    if (out == NULL) {
        return ESP_OK;
    }
    uint8_t *copy = malloc(b->n ? b->n : 1u);
    if (copy == NULL)
        return ESP_ERR_NO_MEM;
    if (b->n)
        memcpy(copy, b->p, b->n);
    *out = copy;
    if (n)
        *n = b->n;
    return ESP_OK;
}

esp_err_t esim_btree_get(esim_btree *db, const void *key, size_t klen, uint8_t **val, size_t *vlen)
{
    bt_path path;
    bool exact;
    esp_err_t err = bt_descend(db, key, klen, &path, &exact);
    if (err)
        return err;
    if (!exact)
        return ESP_ERR_NOT_FOUND;
    bt_step *top = &path.step[path.depth - 1u];
    uint8_t *leaf;
    bt_bytes data;
    if ((err = bt_tree_page(db, top->pgno, &leaf)) || (err = bt_entry_data(db, leaf, top->index, &data)))
        return err;
    err = give(&data, val, vlen);
    bt_bytes_release(&data);
    return err;
}

/* The leaf entry for a pair, long parts moved to overflow pages as
 * Berkeley DB decides: the data first, the key too if still too long. */
static esp_err_t make_leaf_entry(esim_btree *t, const uint8_t *key, size_t klen, const uint8_t *val,
                                 size_t vlen, uint8_t **entry, uint32_t *len)
{
    uint8_t kref[BT_REF_SIZE], dref[BT_REF_SIZE], flags = 0;
    esp_err_t err;
    if ((uint64_t)klen + vlen > t->ovflsize) {
        if (klen > t->ovflsize) {
            if ((err = bt_ovfl_put(t, key, klen, kref)))
                return err;
            key = kref, klen = BT_REF_SIZE, flags |= BT_BIGKEY;
        }
        if ((uint64_t)klen + vlen > t->ovflsize) {
            if ((err = bt_ovfl_put(t, val, vlen, dref)))
                return err;
            val = dref, vlen = BT_REF_SIZE, flags |= BT_BIGDATA;
        }
        if (klen + vlen > t->ovflsize) {
            if ((err = bt_ovfl_put(t, key, klen, kref)))
                return err;
            key = kref, klen = BT_REF_SIZE, flags |= BT_BIGKEY;
        }
    }
    *len = bt_leaf_size((uint32_t)klen, (uint32_t)vlen);
    if ((*entry = calloc(1, *len)) == NULL)
        return ESP_ERR_NO_MEM;
    bt_wr32(*entry, (uint32_t)klen);
    bt_wr32(*entry + 4, (uint32_t)vlen);
    (*entry)[8] = flags;
    if (klen)
        memcpy(*entry + BT_ENTRY_HDR, key, klen);
    if (vlen)
        memcpy(*entry + BT_ENTRY_HDR + klen, val, vlen);
    return ESP_OK;
}

esp_err_t esim_btree_put(esim_btree *db, const void *key, size_t klen, const void *val, size_t vlen)
{
    if (klen > UINT32_MAX || vlen > UINT32_MAX || (klen && key == NULL) || (vlen && val == NULL))
        return ESP_ERR_INVALID_ARG;
    uint8_t *entry;
    uint32_t len;
    esp_err_t err = make_leaf_entry(db, key, klen, val, vlen, &entry, &len);
    if (err)
        return err;
    bt_path path;
    bool exact;
    err = bt_descend(db, key, klen, &path, &exact);
    bt_step *top = &path.step[path.depth ? path.depth - 1u : 0];
    if (!err && exact) {
        uint8_t *leaf;
        if (!(err = bt_tree_page(db, top->pgno, &leaf)))
            err = bt_remove_leaf_entry(db, leaf, top->index);
    }
    if (!err)
        err = bt_insert_at(db, &path, path.depth - 1u, top->index, entry, len);
    free(entry);
    return err;
}

esp_err_t esim_btree_delete(esim_btree *db, const void *key, size_t klen)
{
    bt_path path;
    bool exact;
    esp_err_t err = bt_descend(db, key, klen, &path, &exact);
    if (err)
        return err;
    if (!exact)
        return ESP_ERR_NOT_FOUND;
    return bt_delete_at(db, &path);
}

/* ---- the cursor ---- */

/* Settle `path` on an entry: forward, the first at or after its position;
 * backward, the last before it. Empty leaves are stepped over, at most
 * one per page of the file. */
static esp_err_t settle(esim_btree *t, bt_path *path, bool forward)
{
    for (uint32_t steps = 0;; steps++) {
        if (steps > t->npages)
            return ESP_ERR_INVALID_STATE;
        bt_step *top = &path->step[path->depth - 1u];
        uint8_t *leaf;
        esp_err_t err = bt_tree_page(t, top->pgno, &leaf);
        if (err)
            return err;
        if (top->index > bt_count(leaf))
            top->index = bt_count(leaf);
        if (forward && top->index < bt_count(leaf))
            return ESP_OK;
        if (!forward && top->index > 0) {
            top->index--;
            return ESP_OK;
        }
        if ((err = bt_step_leaf(t, path, forward)))
            return err;
    }
}

static esp_err_t find(esim_btree *t, esim_btree_move move, const uint8_t *key, size_t klen, bt_path *path)
{
    bool exact = false;
    esp_err_t err;
    switch (move) {
    case ESIM_BTREE_FIRST:
        if ((err = bt_edge(t, false, path)))
            return err;
        return settle(t, path, true);
    case ESIM_BTREE_LAST:
        if ((err = bt_edge(t, true, path)))
            return err;
        return settle(t, path, false);
    case ESIM_BTREE_AT:
    case ESIM_BTREE_NEXT:
        if ((err = bt_descend(t, key, klen, path, &exact)))
            return err;
        if (move == ESIM_BTREE_NEXT && exact)
            path->step[path->depth - 1u].index++;
        return settle(t, path, true);
    case ESIM_BTREE_PREV:
        if ((err = bt_descend(t, key, klen, path, &exact)))
            return err;
        return settle(t, path, false);
    }
    return ESP_ERR_INVALID_ARG;
}

/* What a move promises about the key it finds; a broken tree that breaks
 * the promise could otherwise send an iteration round forever. */
static bool in_order(esim_btree_move move, int cmp_to_ref)
{
    switch (move) {
    case ESIM_BTREE_NEXT: return cmp_to_ref > 0;
    case ESIM_BTREE_PREV: return cmp_to_ref < 0;
    case ESIM_BTREE_AT: return cmp_to_ref >= 0;
    default: return true;
    }
}

esp_err_t esim_btree_seq(esim_btree *db, esim_btree_move move, const void *key, size_t klen, uint8_t **k,
                         size_t *kn, uint8_t **v, size_t *vn)
{
    if ((move == ESIM_BTREE_NEXT || move == ESIM_BTREE_PREV) && !db->cursor_set)
        move = move == ESIM_BTREE_NEXT ? ESIM_BTREE_FIRST : ESIM_BTREE_LAST;
    const uint8_t *ref = key;
    size_t rlen = klen;
    if (move == ESIM_BTREE_NEXT || move == ESIM_BTREE_PREV)
        ref = db->cursor_key, rlen = db->cursor_klen;
    else if (move == ESIM_BTREE_AT && klen && key == NULL)
        return ESP_ERR_INVALID_ARG;
    bt_path path;
    esp_err_t err = find(db, move, ref, rlen, &path);
    if (err)
        return err;
    bt_step *top = &path.step[path.depth - 1u];
    uint8_t *leaf;
    bt_bytes kb = {0}, vb = {0};
    if ((err = bt_tree_page(db, top->pgno, &leaf)) || (err = bt_entry_key(db, leaf, top->index, &kb)))
        return err;
    if (!in_order(move, esim_btree_compare(kb.p, kb.n, ref, rlen)))
        err = ESP_ERR_INVALID_STATE;
    if (!err && v)
        err = bt_entry_data(db, leaf, top->index, &vb);
    uint8_t *ck = NULL;
    if (!err)
        err = give(&kb, &ck, NULL);
    if (!err && k)
        err = give(&kb, k, kn);
    if (!err && v && (err = give(&vb, v, vn)) && k)
        free(*k);
    bt_bytes_release(&kb);
    bt_bytes_release(&vb);
    if (err) {
        free(ck);
        return err;
    }
    free(db->cursor_key);
    db->cursor_key = ck;
    db->cursor_klen = kb.n;
    db->cursor_set = true;
    return ESP_OK;
}
