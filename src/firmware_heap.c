/* esp32sim — what the simulated firmware takes from ESP-IDF's heaps as the
 * board boots and works (device.h, docs/heap.md): the start-up replay of
 * heap_boot.c, NVS handles, and the NVS item hash list. */
#include "device_internal.h"

/* ESP-IDF's NVS keeps one 128-byte HashListBlock per 29 items (its
 * 32-bit layout: a list node and a count, then 4-byte entries), and a
 * handle entry per nvs_open (list node, handle, namespace, flags; 40
 * bytes chosen). */
#define NVS_HASH_BLOCK_BYTES 128u
#define NVS_HASH_BLOCK_ITEMS 29u
#define NVS_HANDLE_BYTES 40u
#define FIRMWARE_CAPS (ESIM_MALLOC_CAP_8BIT | ESIM_MALLOC_CAP_INTERNAL)

void esim_firmware_heap_boot(esim_device *dev)
{
    dev->gc_heap = 0;
    dev->gc_heap_size = 0;
    dev->gc_areas_added = 0;
    dev->gc_added_bytes = 0;
    dev->n_nvs_hash_blocks = 0;
    if (dev->heaps == NULL && esim_heaps_create(&dev->heaps) != ESP_OK)
        return;
    /* the replay allocates NVS's first hash-list block itself */
    if (esim_heaps_boot_firmware(dev->heaps, &dev->gc_heap, &dev->gc_heap_size) == ESP_OK)
        dev->n_nvs_hash_blocks = 1;
    esim_device_heap_nvs_changed(dev);
}

esim_heaps *esim_device_heaps(esim_device *dev) { return dev->heaps; }

void esim_device_gc_heap(const esim_device *dev, uint32_t *addr, size_t *size)
{
    *addr = dev->gc_heap;
    *size = dev->gc_heap_size;
}

size_t esim_device_gc_heap_bytes(const esim_device *dev) { return dev->gc_heap_size + dev->gc_added_bytes; }

esp_err_t esim_device_gc_heap_grow(esim_device *dev, size_t needed)
{
    if (dev->heaps == NULL || dev->gc_heap_size == 0)
        return ESP_ERR_NO_MEM;
    size_t size = esim_device_gc_heap_bytes(dev);
    size_t largest = esim_heap_caps_largest_free_block(dev->heaps, ESIM_MALLOC_CAP_DEFAULT);
    if (size < needed)
        size = needed;
    if (size > largest)
        size = largest;
    if (size < needed || esim_heap_caps_malloc(dev->heaps, size, ESIM_MALLOC_CAP_DEFAULT) == 0)
        return ESP_ERR_NO_MEM;
    dev->gc_areas_added++;
    dev->gc_added_bytes += size;
    return ESP_OK;
}

esp_err_t esim_device_heap_nvs_open(esim_device *dev)
{
    if (dev->heaps == NULL)
        return ESP_ERR_NO_MEM;
    return esim_heap_caps_malloc(dev->heaps, NVS_HANDLE_BYTES, FIRMWARE_CAPS) ? ESP_OK : ESP_ERR_NO_MEM;
}

static size_t hash_blocks_for(const esim_device *dev)
{
    esim_nvs_stats st;
    if (dev->nvs == NULL || esim_nvs_get_stats(dev->nvs, &st) != ESP_OK)
        return 1;
    size_t blocks = (st.used_entries + NVS_HASH_BLOCK_ITEMS - 1) / NVS_HASH_BLOCK_ITEMS;
    if (blocks < 1)
        blocks = 1;
    return blocks < ESIM_MAX_NVS_HASH_BLOCKS ? blocks : ESIM_MAX_NVS_HASH_BLOCKS;
}

/* Blocks beyond the first (which the start-up replay owns) are tracked
 * here; a block that finds no room is simply not added (ESP-IDF's NVS
 * would fail the write with ESP_ERR_NO_MEM; the engine has already
 * written it). */
void esim_device_heap_nvs_changed(esim_device *dev)
{
    if (dev->heaps == NULL || dev->n_nvs_hash_blocks == 0)
        return;
    size_t want = hash_blocks_for(dev);
    while (dev->n_nvs_hash_blocks < want) {
        uint32_t block = esim_heap_caps_malloc(dev->heaps, NVS_HASH_BLOCK_BYTES, FIRMWARE_CAPS);
        if (block == 0)
            return;
        dev->nvs_hash_blocks[dev->n_nvs_hash_blocks++] = block;
    }
    while (dev->n_nvs_hash_blocks > want && dev->n_nvs_hash_blocks > 1)
        esim_heap_caps_free(dev->heaps, dev->nvs_hash_blocks[--dev->n_nvs_hash_blocks]);
}
