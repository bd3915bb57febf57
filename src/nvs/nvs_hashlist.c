/* esp32sim — NVS engine: the per-page hash list (docs/nvs-engine.md).
 *
 * Nodes stay in insertion order; an erased node is only marked dead, so a
 * lookup returns the same node ESP-IDF's block list would. Dead nodes are
 * dropped (order kept) when the array needs room. */
#include <stdlib.h>
#include <string.h>

#include "nvs_page.h"

uint32_t nvs_item_stored_hash(const esim_nvs_item *item)
{
    return esim_nvs_item_hash(item->ns_index, item->key, item->chunk_index);
}

static void drop_dead(nvs_hash_list *h)
{
    size_t kept = 0;
    for (size_t i = 0; i < h->count; i++)
        if (h->nodes[i].index != NVS_HASH_DEAD)
            h->nodes[kept++] = h->nodes[i];
    h->count = kept;
}

static esp_err_t make_room(nvs_hash_list *h)
{
    if (h->count < h->cap)
        return ESP_OK;
    drop_dead(h);
    if (h->count < h->cap)
        return ESP_OK;
    size_t cap = h->cap ? h->cap * 2 : 32;
    nvs_hash_node *nodes = realloc(h->nodes, cap * sizeof *nodes);
    if (!nodes)
        return ESP_ERR_NO_MEM;
    h->nodes = nodes;
    h->cap = cap;
    return ESP_OK;
}

esp_err_t nvs_hash_insert(nvs_hash_list *h, uint32_t hash, unsigned index)
{
    esp_err_t err = make_room(h);
    if (err)
        return err;
    h->nodes[h->count].hash = hash & 0xFFFFFFu;
    h->nodes[h->count].index = (uint8_t)index;
    h->count++;
    return ESP_OK;
}

void nvs_hash_erase(nvs_hash_list *h, unsigned index)
{
    for (size_t i = 0; i < h->count; i++) {
        if (h->nodes[i].index == index) {
            h->nodes[i].index = NVS_HASH_DEAD;
            return;
        }
    }
}

uint32_t nvs_hash_find(const nvs_hash_list *h, uint32_t start, uint32_t hash)
{
    hash &= 0xFFFFFFu;
    for (size_t i = 0; i < h->count; i++) {
        const nvs_hash_node *n = &h->nodes[i];
        if (n->index != NVS_HASH_DEAD && n->index >= start && n->hash == hash)
            return n->index;
    }
    return NVS_NO_ENTRY;
}

void nvs_hash_clear(nvs_hash_list *h)
{
    free(h->nodes);
    memset(h, 0, sizeof *h);
}
