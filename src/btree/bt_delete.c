/* esp32sim btree — deletes, as Berkeley DB makes them: the entry leaves its
 * page (the rest packed up against the page end); pages are never merged,
 * but a leaf left empty is taken out of the tree and freed, and so is any
 * parent left without children. An emptied root becomes an empty leaf. */
#include "bt_internal.h"

/* Remove a leaf entry and free the overflow chains it owns. */
esp_err_t bt_remove_leaf_entry(esim_btree *t, uint8_t *leaf, uint32_t index)
{
    const uint8_t *e = leaf + bt_linp(leaf, index);
    const uint8_t *bytes = e + BT_ENTRY_HDR;
    esp_err_t err;
    if ((e[8] & BT_BIGKEY) && (err = bt_ovfl_delete(t, bytes)))
        return err;
    if ((e[8] & BT_BIGDATA) && (err = bt_ovfl_delete(t, bytes + bt_rd32(e))))
        return err;
    bt_page_remove(t, leaf, index);
    bt_page_dirty(t, bt_pgno(leaf));
    return ESP_OK;
}

/* Join a page's neighbours at its level to each other. */
static esp_err_t relink(esim_btree *t, const uint8_t *pg)
{
    uint32_t prev = bt_prev(pg), next = bt_next(pg);
    uint8_t *side;
    esp_err_t err;
    if (next != BT_PG_NONE) {
        if ((err = bt_page_get(t, next, &side)))
            return err;
        bt_wr32(side + BT_OFF_PREV, prev);
        bt_page_dirty(t, next);
    }
    if (prev != BT_PG_NONE) {
        if ((err = bt_page_get(t, prev, &side)))
            return err;
        bt_wr32(side + BT_OFF_NEXT, next);
        bt_page_dirty(t, prev);
    }
    return ESP_OK;
}

static esp_err_t drop_page(esim_btree *t, uint32_t pgno)
{
    uint8_t *pg;
    esp_err_t err = bt_page_get(t, pgno, &pg);
    if (err || (err = relink(t, pg)))
        return err;
    return bt_page_free(t, pgno);
}

/* Take the empty leaf on top of `path` out of its parents. */
static esp_err_t delete_page(esim_btree *t, bt_path *path)
{
    uint32_t leaf = path->step[path->depth - 1u].pgno;
    for (uint32_t level = path->depth - 1u; level-- > 0;) {
        uint32_t no = path->step[level].pgno, index = path->step[level].index;
        uint8_t *pg;
        esp_err_t err = bt_tree_page(t, no, &pg);
        if (err)
            return err;
        const uint8_t *e = pg + bt_linp(pg, index);
        if ((e[8] & BT_BIGKEY) && (err = bt_ovfl_delete(t, e + BT_ENTRY_HDR)))
            return err;
        if (bt_count(pg) > 1u) {
            bt_page_remove(t, pg, index);
            bt_page_dirty(t, no);
            break;
        }
        if (no == BT_PG_ROOT) {
            bt_page_init(pg, t->psize, BT_PG_ROOT, BT_P_BLEAF);
            bt_page_dirty(t, no);
            break;
        }
        if ((err = drop_page(t, no)))
            return err;
    }
    return leaf == BT_PG_ROOT ? ESP_OK : drop_page(t, leaf);
}

esp_err_t bt_delete_at(esim_btree *t, bt_path *path)
{
    bt_step *top = &path->step[path->depth - 1u];
    uint8_t *leaf;
    esp_err_t err = bt_tree_page(t, top->pgno, &leaf);
    if (err || (err = bt_remove_leaf_entry(t, leaf, top->index)))
        return err;
    if (bt_count(leaf) == 0 && top->pgno != BT_PG_ROOT)
        return delete_page(t, path);
    return ESP_OK;
}
