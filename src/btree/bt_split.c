/* esp32sim btree — inserting an entry into a page, splitting it when full.
 *
 * A split shares the entries (the new one included) between the page and a
 * new right sibling, about half the bytes each, and adds a separator for
 * the right page to the parent (which may split in turn). The root stays
 * page 1: when it splits, its entries go to two new pages and it becomes an
 * internal page over them. As in Berkeley DB, appending past the last key
 * of the last page of a level starts a new page with just the new entry
 * (sorted loads fill pages), and a separator taken from a leaf keeps only
 * as many bytes as tell it from the last key on the left. */
#include <stdlib.h>
#include <string.h>

#include "bt_internal.h"

/* The entries of a page that overflowed, the new one in its place. */
typedef struct bt_items {
    const uint8_t *old;   /* a copy of the page */
    uint32_t pos;         /* where the new entry goes */
    const uint8_t *entry;
    uint32_t len;
    uint32_t n;           /* old entries + 1 */
} bt_items;

static const uint8_t *item(const bt_items *it, uint32_t i, uint32_t *len)
{
    if (i == it->pos) {
        *len = it->len;
        return it->entry;
    }
    uint32_t j = i < it->pos ? i : i - 1u;
    *len = bt_entry_size(it->old, j);
    return it->old + bt_linp(it->old, j);
}

/* Where to split: the count on the left. Both halves must fit a page; the
 * one nearest to half the bytes wins. */
static esp_err_t split_point(const esim_btree *t, const bt_items *it, uint32_t *left)
{
    uint64_t total = 0;
    for (uint32_t i = 0; i < it->n; i++) {
        uint32_t len;
        item(it, i, &len);
        total += len + 2u;
    }
    uint64_t full = t->psize - BT_HDR, used = 0, best_gap = UINT64_MAX;
    *left = 0;
    for (uint32_t s = 1; s < it->n; s++) {
        uint32_t len;
        item(it, s - 1u, &len);
        used += len + 2u;
        if (used > full)
            break;
        if (total - used > full)
            continue;
        uint64_t gap = used * 2u > total ? used * 2u - total : total - used * 2u;
        if (gap < best_gap) {
            best_gap = gap;
            *left = s;
        }
    }
    return *left ? ESP_OK : ESP_ERR_INVALID_STATE;
}

static esp_err_t fill(esim_btree *t, uint8_t *pg, const bt_items *it, uint32_t from, uint32_t to)
{
    for (uint32_t i = from; i < to; i++) {
        uint32_t len;
        const uint8_t *e = item(it, i, &len);
        esp_err_t err = bt_page_insert(t, pg, i - from, e, len);
        if (err)
            return err;
    }
    return ESP_OK;
}

static void set_links(uint8_t *pg, uint32_t prev, uint32_t next)
{
    bt_wr32(pg + BT_OFF_PREV, prev);
    bt_wr32(pg + BT_OFF_NEXT, next);
}

/* Bytes needed to tell `b` from the smaller `a`: their common prefix and
 * one more byte (Berkeley DB's default prefix rule). */
static size_t distinguishing_prefix(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    size_t n = an < bn ? an : bn, i = 0;
    while (i < n && a[i] == b[i])
        i++;
    if (i < n)
        return i + 1u;
    return an < bn ? an + 1u : an;
}

/* The parent's entry for right page `r` (left sibling `l`), malloc'd. */
static esp_err_t separator(esim_btree *t, const uint8_t *l, const uint8_t *r, bool truncate,
                           uint8_t **out, uint32_t *len)
{
    const uint8_t *first = r + bt_linp(r, 0);
    uint32_t ksize = bt_rd32(first), rno = bt_pgno(r);
    uint8_t flags = first[8] & BT_BIGKEY;
    if (!bt_is_leaf(r)) {
        *len = bt_internal_size(ksize);
        if ((*out = malloc(*len)) == NULL)
            return ESP_ERR_NO_MEM;
        memcpy(*out, first, *len);
        bt_wr32(*out + 4, rno);
        return ESP_OK;
    }
    if (flags) {
        esp_err_t err = bt_ovfl_preserve(t, first + BT_ENTRY_HDR);
        if (err)
            return err;
    } else if (truncate && bt_count(l) > 0) {
        const uint8_t *last = l + bt_linp(l, bt_count(l) - 1u);
        if (!(last[8] & BT_BIGKEY)) {
            size_t keep = distinguishing_prefix(last + BT_ENTRY_HDR, bt_rd32(last),
                                                first + BT_ENTRY_HDR, ksize);
            /* Berkeley DB keeps the short form only when it saves bytes. */
            if (bt_internal_size((uint32_t)keep) < bt_internal_size(ksize))
                ksize = (uint32_t)keep;
        }
    }
    *len = bt_internal_size(ksize);
    if ((*out = calloc(1, *len)) == NULL)
        return ESP_ERR_NO_MEM;
    bt_wr32(*out, ksize);
    bt_wr32(*out + 4, rno);
    (*out)[8] = flags;
    memcpy(*out + BT_ENTRY_HDR, first + BT_ENTRY_HDR, ksize);
    return ESP_OK;
}

/* The root overflowed: its entries go to two new pages below it. */
static esp_err_t split_root(esim_btree *t, uint8_t *root, const bt_items *it)
{
    uint32_t type = bt_flags(root) & BT_P_TYPE, s, lno, rno;
    uint8_t *l, *r, *sep = NULL;
    esp_err_t err = split_point(t, it, &s);
    if (err || (err = bt_page_new(t, type, &lno, &l)) || (err = bt_page_new(t, type, &rno, &r)))
        return err;
    set_links(l, BT_PG_NONE, rno);
    set_links(r, lno, BT_PG_NONE);
    if ((err = fill(t, l, it, 0, s)) || (err = fill(t, r, it, s, it->n)))
        return err;
    uint32_t seplen;
    if ((err = separator(t, l, r, false, &sep, &seplen)))
        return err;
    uint8_t leftmost[12] = {0};
    bt_wr32(leftmost + 4, lno);
    bt_page_init(root, t->psize, BT_PG_ROOT, BT_P_BINTERNAL);
    err = bt_page_insert(t, root, 0, leftmost, sizeof leftmost);
    if (!err)
        err = bt_page_insert(t, root, 1, sep, seplen);
    free(sep);
    bt_page_dirty(t, BT_PG_ROOT);
    return err;
}

/* A page below the root overflowed: keep the left part, move the right
 * part to a new sibling, and give the parent its separator. */
static esp_err_t split_page(esim_btree *t, bt_path *path, uint32_t level, uint8_t *pg, const bt_items *it)
{
    uint32_t no = bt_pgno(pg), type = bt_flags(pg) & BT_P_TYPE, next = bt_next(pg), s, rno;
    bool append = next == BT_PG_NONE && it->pos == it->n - 1u;
    uint8_t *r;
    esp_err_t err = append ? ESP_OK : split_point(t, it, &s);
    if (err || (err = bt_page_new(t, type, &rno, &r)))
        return err;
    set_links(r, no, next);
    if (append) {
        s = it->n - 1u;
        err = fill(t, r, it, s, it->n);
        bt_wr32(pg + BT_OFF_NEXT, rno);
    } else {
        uint32_t prev = bt_prev(pg);
        bt_page_init(pg, t->psize, no, type);
        set_links(pg, prev, rno);
        if (!(err = fill(t, pg, it, 0, s)))
            err = fill(t, r, it, s, it->n);
        uint8_t *after;
        if (!err && next != BT_PG_NONE && !(err = bt_page_get(t, next, &after))) {
            bt_wr32(after + BT_OFF_PREV, rno);
            bt_page_dirty(t, next);
        }
    }
    bt_page_dirty(t, no);
    if (err)
        return err;
    bt_step *parent = &path->step[level - 1u];
    uint8_t *ppg, *sep;
    uint32_t seplen;
    if ((err = bt_tree_page(t, parent->pgno, &ppg)))
        return err;
    bool truncate = bt_prev(ppg) != BT_PG_NONE || parent->index + 1u > 1u;
    if ((err = separator(t, pg, r, truncate, &sep, &seplen)))
        return err;
    err = bt_insert_at(t, path, level - 1u, parent->index + 1u, sep, seplen);
    free(sep);
    return err;
}

esp_err_t bt_insert_at(esim_btree *t, bt_path *path, uint32_t level, uint32_t pos, const uint8_t *entry,
                       uint32_t len)
{
    uint32_t no = path->step[level].pgno;
    uint8_t *pg;
    esp_err_t err = bt_tree_page(t, no, &pg);
    if (err)
        return err;
    uint32_t lower = bt_lower(pg), upper = bt_page_upper(t, pg);
    if (pos > bt_count(pg))
        return ESP_ERR_INVALID_STATE;
    if (upper >= lower && upper - lower >= len + 2u) {
        err = bt_page_insert(t, pg, pos, entry, len);
        if (!err)
            bt_page_dirty(t, no);
        return err;
    }
    if (len + 2u > t->psize - BT_HDR)
        return ESP_ERR_INVALID_SIZE;
    uint8_t *copy = malloc(t->psize);
    if (copy == NULL)
        return ESP_ERR_NO_MEM;
    memcpy(copy, pg, t->psize);
    bt_items it = {.old = copy, .pos = pos, .entry = entry, .len = len, .n = bt_count(copy) + 1u};
    err = no == BT_PG_ROOT ? split_root(t, pg, &it) : split_page(t, path, level, pg, &it);
    free(copy);
    return err;
}
