/* esp32sim btree — the page cache and the page layout: reading pages in,
 * checking a tree page's layout once, adding and removing entries, new and
 * freed pages, writing changed pages out. */
#include <stdlib.h>
#include <string.h>

#include "bt_internal.h"

static esp_err_t grow_slots(esim_btree *t, uint32_t need)
{
    if (need <= t->cap)
        return ESP_OK;
    uint32_t cap = t->cap ? t->cap : 16u;
    while (cap < need)
        cap *= 2u;
    bt_page_slot *slots = realloc(t->pages, (size_t)cap * sizeof *slots);
    if (slots == NULL)
        return ESP_ERR_NO_MEM;
    memset(slots + t->cap, 0, (size_t)(cap - t->cap) * sizeof *slots);
    t->pages = slots;
    t->cap = cap;
    return ESP_OK;
}

esp_err_t bt_page_get(esim_btree *t, uint32_t pgno, uint8_t **pg)
{
    if (pgno >= t->npages)
        return ESP_ERR_INVALID_STATE;
    esp_err_t err = grow_slots(t, t->npages);
    if (err)
        return err;
    bt_page_slot *slot = &t->pages[pgno];
    if (slot->data == NULL) {
        uint8_t *data = calloc(1, t->psize);
        if (data == NULL)
            return ESP_ERR_NO_MEM;
        if (pgno < t->file_pages) {
            size_t got = 0;
            err = t->io.read(t->io.ctx, (uint64_t)pgno * t->psize, data, t->psize, &got);
            if (!err && got != t->psize)
                err = ESP_ERR_INVALID_STATE;
            if (err) {
                free(data);
                return err;
            }
        }
        slot->data = data;
    }
    *pg = slot->data;
    return ESP_OK;
}

void bt_page_dirty(esim_btree *t, uint32_t pgno)
{
    t->pages[pgno].dirty = true;
    t->pages[pgno].checked = true;
    t->modified = true;
}

void bt_page_init(uint8_t *pg, uint32_t psize, uint32_t pgno, uint32_t type)
{
    memset(pg, 0, psize);
    bt_wr32(pg + BT_OFF_PGNO, pgno);
    bt_wr32(pg + BT_OFF_FLAGS, type);
    if (type == BT_P_OVERFLOW) {
        bt_wr16(pg + BT_OFF_LOWER, 0);
        bt_wr16(pg + BT_OFF_UPPER, 0);
    } else {
        bt_wr16(pg + BT_OFF_LOWER, BT_HDR);
        /* 65536-byte pages keep 0 here, as a 16-bit field must. */
        bt_wr16(pg + BT_OFF_UPPER, psize & 0xffffu);
    }
}

/* ---- layout checks ---- */

typedef struct span {
    uint32_t off;
    uint32_t len;
} span;

static int span_order(const void *a, const void *b)
{
    const span *x = a, *y = b;
    return (x->off > y->off) - (x->off < y->off);
}

/* The bytes entry `i` takes, or 0 when it does not fit the page. */
static uint32_t checked_entry(const esim_btree *t, const uint8_t *pg, uint32_t pgno, uint32_t off)
{
    uint32_t psize = t->psize;
    if (off < BT_HDR || (uint64_t)off + BT_ENTRY_HDR > psize)
        return 0;
    uint64_t ksize = bt_rd32(pg + off);
    uint32_t flags = pg[off + 8];
    uint64_t total;
    if (bt_is_leaf(pg)) {
        uint64_t dsize = bt_rd32(pg + off + 4);
        if (((flags & BT_BIGKEY) && ksize != BT_REF_SIZE) || ((flags & BT_BIGDATA) && dsize != BT_REF_SIZE))
            return 0;
        total = BT_ENTRY_HDR + ksize + dsize;
    } else {
        uint32_t child = bt_rd32(pg + off + 4);
        if ((flags & BT_BIGKEY) && ksize != BT_REF_SIZE)
            return 0;
        if (child <= BT_PG_ROOT || child >= t->npages || child == pgno)
            return 0;
        total = BT_ENTRY_HDR + ksize;
    }
    total = (total + 3u) & ~(uint64_t)3u;
    if ((uint64_t)off + total > psize)
        return 0;
    return (uint32_t)total;
}

static esp_err_t check_tree_page(const esim_btree *t, const uint8_t *pg, uint32_t pgno)
{
    uint32_t type = bt_flags(pg) & BT_P_TYPE;
    uint32_t lower = bt_lower(pg), upper = bt_upper(pg);
    if (upper == 0 && t->psize == 65536u)
        upper = 65536u;
    if (bt_pgno(pg) != pgno || (type != BT_P_BLEAF && type != BT_P_BINTERNAL))
        return ESP_ERR_INVALID_STATE;
    if (lower < BT_HDR || (lower - BT_HDR) % 2u || lower > upper || upper > t->psize)
        return ESP_ERR_INVALID_STATE;
    uint32_t n = bt_count(pg);
    if (type == BT_P_BINTERNAL && n == 0)
        return ESP_ERR_INVALID_STATE;
    if (n == 0)
        return ESP_OK;
    span *spans = malloc((size_t)n * sizeof *spans);
    if (spans == NULL)
        return ESP_ERR_NO_MEM;
    esp_err_t err = ESP_OK;
    for (uint32_t i = 0; i < n && !err; i++) {
        spans[i].off = bt_linp(pg, i);
        spans[i].len = spans[i].off >= upper ? checked_entry(t, pg, pgno, spans[i].off) : 0;
        if (spans[i].len == 0)
            err = ESP_ERR_INVALID_STATE;
    }
    if (!err) {
        qsort(spans, n, sizeof *spans, span_order);
        for (uint32_t i = 1; i < n && !err; i++)
            if (spans[i - 1].off + spans[i - 1].len > spans[i].off)
                err = ESP_ERR_INVALID_STATE;
    }
    free(spans);
    return err;
}

esp_err_t bt_tree_page(esim_btree *t, uint32_t pgno, uint8_t **pg)
{
    if (pgno == BT_PG_META)
        return ESP_ERR_INVALID_STATE;
    esp_err_t err = bt_page_get(t, pgno, pg);
    if (err)
        return err;
    /* A page we wrote has a sound layout, but a broken free list may have
     * handed a tree page out again as another kind of page. */
    uint32_t type = bt_flags(*pg) & BT_P_TYPE;
    if (type != BT_P_BLEAF && type != BT_P_BINTERNAL)
        return ESP_ERR_INVALID_STATE;
    if (!t->pages[pgno].checked) {
        err = check_tree_page(t, *pg, pgno);
        if (err)
            return err;
        t->pages[pgno].checked = true;
    }
    return ESP_OK;
}

/* ---- entries ---- */

uint32_t bt_entry_size(const uint8_t *pg, uint32_t index)
{
    const uint8_t *e = pg + bt_linp(pg, index);
    if (bt_is_leaf(pg))
        return bt_leaf_size(bt_rd32(e), bt_rd32(e + 4));
    return bt_internal_size(bt_rd32(e));
}

uint32_t bt_page_upper(const esim_btree *t, const uint8_t *pg)
{
    uint32_t upper = bt_upper(pg);
    return upper == 0 && t->psize == 65536u && bt_lower(pg) != 0 ? 65536u : upper;
}

esp_err_t bt_page_insert(esim_btree *t, uint8_t *pg, uint32_t index, const uint8_t *entry, uint32_t len)
{
    uint32_t n = bt_count(pg), lower = bt_lower(pg), upper = bt_page_upper(t, pg);
    if (lower < BT_HDR || upper > t->psize || index > n || upper < lower || upper - lower < len + 2u)
        return ESP_ERR_INVALID_STATE;
    uint8_t *linp = pg + BT_HDR;
    memmove(linp + 2u * (index + 1u), linp + 2u * index, 2u * (n - index));
    upper -= len;
    memcpy(pg + upper, entry, len);
    bt_wr16(linp + 2u * index, upper);
    bt_wr16(pg + BT_OFF_LOWER, lower + 2u);
    bt_wr16(pg + BT_OFF_UPPER, upper);
    return ESP_OK;
}

/* Remove entry `index`, packing the entries below it up against the end of
 * the page as Berkeley DB does. */
void bt_page_remove(const esim_btree *t, uint8_t *pg, uint32_t index)
{
    uint32_t n = bt_count(pg), upper = bt_upper(pg);
    if (bt_lower(pg) < BT_HDR || bt_lower(pg) > upper || upper > t->psize || index >= n)
        return;   /* not a layout this engine wrote or checked */
    uint32_t off = bt_linp(pg, index);
    if (off < upper || off + BT_ENTRY_HDR > t->psize)
        return;
    uint32_t len = bt_entry_size(pg, index);
    if (len > t->psize - off)
        return;
    memmove(pg + upper + len, pg + upper, off - upper);
    uint8_t *linp = pg + BT_HDR;
    for (uint32_t i = 0, o = 0; i < n; i++) {
        if (i == index)
            continue;
        uint32_t at = bt_rd16(linp + 2u * i);
        bt_wr16(linp + 2u * o++, at < off ? at + len : at);
    }
    bt_wr16(pg + BT_OFF_LOWER, bt_lower(pg) - 2u);
    bt_wr16(pg + BT_OFF_UPPER, upper + len);
}

/* ---- new and freed pages ---- */

esp_err_t bt_page_new(esim_btree *t, uint32_t type, uint32_t *pgno, uint8_t **pg)
{
    esp_err_t err;
    uint32_t no = t->free_head;
    if (no != BT_PG_NONE) {
        if (no <= BT_PG_ROOT || no >= t->npages)
            return ESP_ERR_INVALID_STATE;
        if ((err = bt_page_get(t, no, pg)))
            return err;
        uint32_t next = bt_next(*pg);
        t->free_head = next == no ? BT_PG_NONE : next;
        t->meta_dirty = true;
    } else {
        if (t->npages == UINT32_MAX)
            return ESP_ERR_NO_MEM;
        if ((err = grow_slots(t, t->npages + 1u)))
            return err;
        uint8_t *data = calloc(1, t->psize);
        if (data == NULL)
            return ESP_ERR_NO_MEM;
        no = t->npages++;
        t->pages[no].data = data;
        *pg = data;
    }
    bt_page_init(*pg, t->psize, no, type);
    bt_page_dirty(t, no);
    *pgno = no;
    return ESP_OK;
}

/* Put a page at the head of the free list (its nextpg links the list). */
esp_err_t bt_page_free(esim_btree *t, uint32_t pgno)
{
    uint8_t *pg;
    esp_err_t err = bt_page_get(t, pgno, &pg);
    if (err)
        return err;
    bt_wr32(pg + BT_OFF_PREV, BT_PG_NONE);
    bt_wr32(pg + BT_OFF_NEXT, t->free_head);
    /* A free page has no type: a chain or tree that still points here is
     * then seen to be broken instead of freeing the page twice. */
    bt_wr32(pg + BT_OFF_FLAGS, 0);
    t->free_head = pgno;
    t->meta_dirty = true;
    bt_page_dirty(t, pgno);
    t->pages[pgno].checked = false;
    return ESP_OK;
}

/* ---- writing out ---- */

static esp_err_t write_meta(esim_btree *t)
{
    uint8_t *pg;
    esp_err_t err = bt_page_get(t, BT_PG_META, &pg);
    if (err)
        return err;
    bt_wr32(pg + 0, BT_MAGIC);
    bt_wr32(pg + 4, BT_VERSION);
    bt_wr32(pg + 8, t->psize);
    bt_wr32(pg + 12, t->free_head);
    bt_wr32(pg + 16, t->nrecs);
    bt_wr32(pg + 20, t->meta_flags);
    t->pages[BT_PG_META].dirty = true;
    t->meta_dirty = false;
    return ESP_OK;
}

esp_err_t bt_cache_write(esim_btree *t)
{
    esp_err_t err;
    if (t->meta_dirty && (err = write_meta(t)))
        return err;
    for (uint32_t no = 0; no < t->npages && no < t->cap; no++) {
        bt_page_slot *slot = &t->pages[no];
        if (!slot->dirty || slot->data == NULL)
            continue;
        if ((err = t->io.write(t->io.ctx, (uint64_t)no * t->psize, slot->data, t->psize)))
            return err;
        slot->dirty = false;
        if (no >= t->file_pages)
            t->file_pages = no + 1u;
    }
    if (t->io.flush && (err = t->io.flush(t->io.ctx)))
        return err;
    t->modified = false;
    return ESP_OK;
}

void bt_cache_free(esim_btree *t)
{
    for (uint32_t no = 0; no < t->cap; no++)
        free(t->pages[no].data);
    free(t->pages);
    t->pages = NULL;
    t->cap = 0;
}
