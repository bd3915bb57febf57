/* esp32sim — NVS engine: the item index over the whole partition
 * (docs/nvs-engine.md, "The index").
 *
 * One node per item header that ESP-IDF would keep in a page's hash list:
 * its 24-bit hash, its page and its entry. Nodes are chained in buckets by
 * hash, so "where on this page is the first item with this hash" and "which
 * pages hold an item with this hash" cost a bucket walk instead of a walk
 * over every page's list. Each page also has one slot per entry naming the
 * node there (and, through `same`, any node added later at the same entry,
 * which only a write cut by the power can leave), so erasing an entry or a
 * whole page finds its nodes directly. */
#include <stdlib.h>
#include <string.h>

#include "nvs_page.h"

#define NIL UINT32_MAX
#define ENTRY_COUNT ESIM_NVS_ENTRY_COUNT
#define HASH_MASK 0xFFFFFFu
#define NO_PAGE 0xFFFFu
#define FIRST_BUCKETS 64u

uint32_t nvs_item_stored_hash(const esim_nvs_item *item)
{
    return esim_nvs_item_hash(item->ns_index, item->key, item->chunk_index);
}

/* ---- setup ---- */

static uint32_t *nil_array(size_t count)
{
    uint32_t *a = malloc(count * sizeof *a);
    if (a)
        memset(a, 0xFF, count * sizeof *a);
    return a;
}

esp_err_t nvs_index_init(nvs_index *ix, uint32_t pages)
{
    memset(ix, 0, sizeof *ix);
    ix->free_head = NIL;
    ix->pages = pages;
    ix->slots = nil_array((size_t)pages * ENTRY_COUNT);
    ix->order = nil_array(pages);
    ix->buckets = nil_array(FIRST_BUCKETS);
    ix->bucket_mask = FIRST_BUCKETS - 1;
    if (!ix->slots || !ix->order || !ix->buckets)
        return ESP_ERR_NO_MEM;
    return ESP_OK;
}

void nvs_index_free(nvs_index *ix)
{
    free(ix->nodes);
    free(ix->slots);
    free(ix->order);
    free(ix->buckets);
    memset(ix, 0, sizeof *ix);
}

void nvs_index_set_order(nvs_index *ix, uint32_t page, uint32_t position)
{
    if (page < ix->pages)
        ix->order[page] = position;
}

/* ---- nodes ---- */

static uint32_t hash_of(const nvs_index_node *n)
{
    return n->key & HASH_MASK;
}

static uint32_t entry_of(const nvs_index_node *n)
{
    return n->key >> 24;
}

static uint32_t *bucket_for(const nvs_index *ix, uint32_t hash)
{
    return &ix->buckets[hash & ix->bucket_mask];
}

static uint32_t *slot_for(const nvs_index *ix, uint32_t page, uint32_t entry)
{
    return &ix->slots[(size_t)page * ENTRY_COUNT + entry];
}

/* Twice the buckets, every live node chained again. */
static esp_err_t grow_buckets(nvs_index *ix)
{
    uint32_t count = (ix->bucket_mask + 1) * 2;
    uint32_t *buckets = nil_array(count);
    if (!buckets)
        return ESP_ERR_NO_MEM;
    free(ix->buckets);
    ix->buckets = buckets;
    ix->bucket_mask = count - 1;
    for (uint32_t i = 0; i < ix->node_count; i++) {
        nvs_index_node *n = &ix->nodes[i];
        if (n->page == NO_PAGE)
            continue;
        uint32_t *head = bucket_for(ix, hash_of(n));
        n->next = *head;
        *head = i;
    }
    return ESP_OK;
}

static esp_err_t grow_nodes(nvs_index *ix)
{
    uint32_t cap = ix->node_cap ? ix->node_cap * 2 : 256;
    nvs_index_node *nodes = realloc(ix->nodes, (size_t)cap * sizeof *nodes);
    if (!nodes)
        return ESP_ERR_NO_MEM;
    ix->nodes = nodes;
    ix->node_cap = cap;
    return ESP_OK;
}

static esp_err_t new_node(nvs_index *ix, uint32_t *id)
{
    if (ix->free_head != NIL) {
        *id = ix->free_head;
        ix->free_head = ix->nodes[*id].next;
        return ESP_OK;
    }
    if (ix->node_count == ix->node_cap) {
        esp_err_t err = grow_nodes(ix);
        if (err)
            return err;
    }
    *id = ix->node_count++;
    return ESP_OK;
}

/* After the nodes already at this entry (a later insertion comes later). */
static void link_slot(nvs_index *ix, uint32_t id, uint32_t page, uint32_t entry)
{
    uint32_t *at = slot_for(ix, page, entry);
    while (*at != NIL)
        at = &ix->nodes[*at].same;
    *at = id;
}

esp_err_t nvs_index_insert(nvs_index *ix, uint32_t page, uint32_t hash, uint32_t entry)
{
    if (page >= ix->pages || entry >= ENTRY_COUNT)
        return ESP_OK;   /* no lookup could return it: see docs */
    if (ix->live >= ix->bucket_mask + 1) {
        esp_err_t err = grow_buckets(ix);
        if (err)
            return err;
    }
    uint32_t id;
    esp_err_t err = new_node(ix, &id);
    if (err)
        return err;
    nvs_index_node *n = &ix->nodes[id];
    n->key = (hash & HASH_MASK) | entry << 24;
    n->page = (uint16_t)page;
    n->same = NIL;
    uint32_t *head = bucket_for(ix, hash & HASH_MASK);
    n->next = *head;
    *head = id;
    link_slot(ix, id, page, entry);
    ix->live++;
    return ESP_OK;
}

/* Out of its bucket and onto the free list (its slot is the caller's). */
static void drop_node(nvs_index *ix, uint32_t id)
{
    nvs_index_node *n = &ix->nodes[id];
    uint32_t *at = bucket_for(ix, hash_of(n));
    while (*at != id)
        at = &ix->nodes[*at].next;
    *at = n->next;
    n->page = NO_PAGE;
    n->next = ix->free_head;
    ix->free_head = id;
    ix->live--;
}

void nvs_index_erase(nvs_index *ix, uint32_t page, uint32_t entry)
{
    if (page >= ix->pages || entry >= ENTRY_COUNT)
        return;
    uint32_t *slot = slot_for(ix, page, entry);
    uint32_t id = *slot;
    if (id == NIL)
        return;
    *slot = ix->nodes[id].same;
    drop_node(ix, id);
}

void nvs_index_clear_page(nvs_index *ix, uint32_t page)
{
    if (page >= ix->pages)
        return;
    for (uint32_t entry = 0; entry < ENTRY_COUNT; entry++)
        while (*slot_for(ix, page, entry) != NIL)
            nvs_index_erase(ix, page, entry);
}

/* ---- lookups ---- */

uint32_t nvs_index_first(const nvs_index *ix, uint32_t page, uint32_t start, uint32_t hash)
{
    uint32_t best = NVS_NO_ENTRY;
    hash &= HASH_MASK;
    for (uint32_t id = *bucket_for(ix, hash); id != NIL; id = ix->nodes[id].next) {
        const nvs_index_node *n = &ix->nodes[id];
        uint32_t entry = entry_of(n);
        if (hash_of(n) == hash && n->page == page && entry >= start && entry < best)
            best = entry;
    }
    return best;
}

uint32_t nvs_index_next_page(const nvs_index *ix, uint32_t hash, uint32_t *position)
{
    uint32_t best = NIL, page = NIL;
    hash &= HASH_MASK;
    for (uint32_t id = *bucket_for(ix, hash); id != NIL; id = ix->nodes[id].next) {
        const nvs_index_node *n = &ix->nodes[id];
        uint32_t at = ix->order[n->page];
        bool later = *position == NIL || at > *position;
        if (hash_of(n) == hash && at != NIL && later && (best == NIL || at < best)) {
            best = at;
            page = n->page;
        }
    }
    *position = best;
    return page;
}
