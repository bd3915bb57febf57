/* esp32sim — the NVS engine's public API (include/esp32sim/nvs.h,
 * docs/nvs-engine.md): mount, namespaces, values, statistics, iteration. */
#include <stdlib.h>
#include <string.h>

#include "nvs_internal.h"

/* ---- mount ---- */

static esp_err_t check_geometry(const esim_flash *flash, uint32_t base, uint32_t size, bool read_only)
{
    uint64_t end = (uint64_t)base + size;
    if (!flash || size == 0 || base % ESIM_FLASH_SECTOR_SIZE || size % ESIM_FLASH_SECTOR_SIZE)
        return ESP_ERR_INVALID_ARG;
    if (end > esim_flash_size(flash) || size / ESIM_FLASH_SECTOR_SIZE > UINT16_MAX)
        return ESP_ERR_INVALID_ARG;
    if (!read_only && size < 3 * ESIM_FLASH_SECTOR_SIZE)
        return ESP_ERR_INVALID_ARG;
    return ESP_OK;
}

void esim_nvs_unmount(esim_nvs *nvs)
{
    if (!nvs)
        return;
    nvs_pages_free(&nvs->pm);
    free(nvs->names);
    free(nvs);
}

esp_err_t esim_nvs_mount(esim_flash *flash, uint32_t base, uint32_t size, bool read_only, esim_nvs **out)
{
    if (!out)
        return ESP_ERR_INVALID_ARG;
    *out = NULL;
    esp_err_t err = check_geometry(flash, base, size, read_only);
    if (err)
        return err;
    esim_nvs *nvs = calloc(1, sizeof *nvs);
    if (!nvs)
        return ESP_ERR_NO_MEM;
    nvs->flash = flash;
    nvs->base = base;
    nvs->size = size;
    nvs->read_only = read_only;
    err = nvs_pages_load(&nvs->pm, flash, base, size / ESIM_FLASH_SECTOR_SIZE, read_only);
    if (!err)
        err = nvs_load_namespaces(nvs);
    if (!err)
        err = nvs_reconcile_blobs(nvs);
    nvs_pages_drop_images(&nvs->pm);
    if (err) {
        esim_nvs_unmount(nvs);
        return err;
    }
    *out = nvs;
    return ESP_OK;
}

esp_err_t esim_nvs_erase_partition(esim_flash *flash, uint32_t base, uint32_t size)
{
    if (!flash || base % ESIM_FLASH_SECTOR_SIZE || size % ESIM_FLASH_SECTOR_SIZE)
        return ESP_ERR_INVALID_ARG;
    return esim_flash_erase_range(flash, base, size);
}

/* ---- namespaces ---- */

/* Without power every flash operation fails: so does every call that
 * would read or write it. */
static esp_err_t check_power(const esim_nvs *nvs)
{
    return esim_flash_powered(nvs->flash) ? ESP_OK : ESP_ERR_FLASH_OP_FAIL;
}


static bool ns_in_use(const esim_nvs *nvs, unsigned index)
{
    return (nvs->ns_in_use[index / 8] >> (index % 8)) & 1u;
}

static esp_err_t create_namespace(esim_nvs *nvs, const char *name, uint8_t *index)
{
    unsigned ns = 1;
    while (ns < 255 && ns_in_use(nvs, ns))
        ns++;
    if (ns == 255)
        return ESP_ERR_NVS_NOT_ENOUGH_SPACE;
    uint8_t value = (uint8_t)ns;
    esp_err_t err = nvs_write_value(nvs, 0, ESIM_NVS_TYPE_U8, name, &value, 1);
    if (err)
        return err;
    *index = value;
    return nvs_add_namespace(nvs, name, value);
}

esp_err_t esim_nvs_open(esim_nvs *nvs, const char *ns_name, bool read_write, esim_nvs_handle *out)
{
    if (!nvs || !ns_name || !out)
        return ESP_ERR_INVALID_ARG;
    if (read_write && nvs->read_only)
        return ESP_ERR_NOT_ALLOWED;
    uint8_t index;
    const nvs_namespace *found = nvs_namespace_by_name(nvs, ns_name);
    if (found) {
        index = found->index;
    } else {
        if (!read_write)
            return ESP_ERR_NVS_NOT_FOUND;
        esp_err_t err = check_power(nvs);
        if (!err)
            err = create_namespace(nvs, ns_name, &index);
        if (err)
            return err;
    }
    out->nvs = nvs;
    out->ns_index = index;
    out->read_only = !read_write;
    return ESP_OK;
}

/* ---- handles ---- */

static esp_err_t check_handle(const esim_nvs_handle *h, const char *key)
{
    if (!h || !h->nvs)
        return ESP_ERR_NVS_INVALID_HANDLE;
    if (!key)
        return ESP_ERR_INVALID_ARG;
    return check_power(h->nvs);
}

static esp_err_t check_writable(const esim_nvs_handle *h, const char *key)
{
    esp_err_t err = check_handle(h, key);
    if (err)
        return err;
    return h->read_only ? ESP_ERR_NVS_READ_ONLY : ESP_OK;
}

/* ---- integers ---- */

esp_err_t esim_nvs_set_int(const esim_nvs_handle *h, const char *key, esim_nvs_type type, int64_t value)
{
    esp_err_t err = check_writable(h, key);
    if (err)
        return err;
    unsigned width = esim_nvs_int_width(type);
    if (width == 0)
        return ESP_ERR_INVALID_ARG;
    uint8_t bytes[8];
    uint64_t bits = (uint64_t)value;
    for (unsigned i = 0; i < width; i++)
        bytes[i] = (uint8_t)(bits >> (8 * i));
    return nvs_write_value(h->nvs, h->ns_index, (uint8_t)type, key, bytes, width);
}

static int64_t decode_int(const uint8_t *bytes, unsigned width, bool is_signed)
{
    uint64_t bits = 0;
    for (unsigned i = 0; i < width; i++)
        bits |= (uint64_t)bytes[i] << (8 * i);
    if (is_signed && width < 8 && (bits >> (8 * width - 1)) & 1u)
        bits |= ~(uint64_t)0 << (8 * width);
    return (int64_t)bits;
}

esp_err_t esim_nvs_get_int(const esim_nvs_handle *h, const char *key, esim_nvs_type type, int64_t *value)
{
    esp_err_t err = check_handle(h, key);
    if (err)
        return err;
    unsigned width = esim_nvs_int_width(type);
    if (width == 0 || !value)
        return ESP_ERR_INVALID_ARG;
    uint8_t bytes[8];
    err = nvs_read_value(h->nvs, h->ns_index, (uint8_t)type, key, bytes, width);
    if (err)
        return err;
    *value = decode_int(bytes, width, esim_nvs_type_signed(type));
    return ESP_OK;
}

/* ---- strings and blobs ---- */

esp_err_t esim_nvs_set_str(const esim_nvs_handle *h, const char *key, const char *value)
{
    esp_err_t err = check_writable(h, key);
    if (err)
        return err;
    if (!value)
        return ESP_ERR_INVALID_ARG;
    return nvs_write_value(h->nvs, h->ns_index, ESIM_NVS_TYPE_STR, key, value, strlen(value) + 1);
}

esp_err_t esim_nvs_set_blob(const esim_nvs_handle *h, const char *key, const void *data, size_t len)
{
    esp_err_t err = check_writable(h, key);
    if (err)
        return err;
    if (!data && len > 0)
        return ESP_ERR_INVALID_ARG;
    static const uint8_t nothing[1] = {0};
    return nvs_write_value(h->nvs, h->ns_index, ESIM_NVS_TYPE_BLOB, key, data ? data : nothing, len);
}

/* nvs_get_str / nvs_get_blob: size first, then the read. */
static esp_err_t get_bytes(const esim_nvs_handle *h, uint8_t type, const char *key, void *out, size_t *len)
{
    size_t size;
    esp_err_t err = check_handle(h, key);
    if (err)
        return err;
    err = nvs_value_size(h->nvs, h->ns_index, type, key, &size);
    if (err)
        return err;
    if (!len)
        return ESP_ERR_NVS_INVALID_LENGTH;
    if (!out) {
        *len = size;
        return ESP_OK;
    }
    if (*len < size) {
        *len = size;
        return ESP_ERR_NVS_INVALID_LENGTH;
    }
    *len = size;
    return nvs_read_value(h->nvs, h->ns_index, type, key, out, size);
}

esp_err_t esim_nvs_get_str(const esim_nvs_handle *h, const char *key, char *out, size_t *len)
{
    return get_bytes(h, ESIM_NVS_TYPE_STR, key, out, len);
}

esp_err_t esim_nvs_get_blob(const esim_nvs_handle *h, const char *key, void *out, size_t *len)
{
    return get_bytes(h, ESIM_NVS_TYPE_BLOB, key, out, len);
}

/* ---- keys ---- */

esp_err_t esim_nvs_find_key(const esim_nvs_handle *h, const char *key, esim_nvs_type *type)
{
    esp_err_t err = check_handle(h, key);
    if (err)
        return err;
    nvs_query q = nvs_query_make(h->ns_index, ESIM_NVS_TYPE_ANY, key);
    nvs_found at;
    err = nvs_find(h->nvs, &q, &at);
    if (err)
        return err;
    uint8_t t = at.item.type;
    if (t == ESIM_NVS_TYPE_BLOB_IDX || t == ESIM_NVS_TYPE_BLOB)
        t = ESIM_NVS_TYPE_BLOB_DATA;
    if (type)
        *type = (esim_nvs_type)t;
    return ESP_OK;
}

esp_err_t esim_nvs_erase_key(const esim_nvs_handle *h, const char *key)
{
    esp_err_t err = check_writable(h, key);
    if (err)
        return err;
    return nvs_erase_value(h->nvs, h->ns_index, key);
}

esp_err_t esim_nvs_erase_all(const esim_nvs_handle *h)
{
    esp_err_t err = check_writable(h, "");
    if (err)
        return err;
    return nvs_erase_namespace(h->nvs, h->ns_index);
}

esp_err_t esim_nvs_commit(const esim_nvs_handle *h)
{
    if (!h || !h->nvs)
        return ESP_ERR_NVS_INVALID_HANDLE;
    return ESP_OK;
}

/* ---- inspection ---- */

esp_err_t esim_nvs_get_stats(const esim_nvs *nvs, esim_nvs_stats *out)
{
    if (!nvs || !out)
        return ESP_ERR_INVALID_ARG;
    memset(out, 0, sizeof *out);
    nvs_entry_counts c;
    esp_err_t err = nvs_pages_count_entries(&nvs->pm, &c);
    if (err)
        return err;
    out->used_entries = c.used;
    out->free_entries = c.free;
    out->available_entries = c.available;
    out->total_entries = c.total;
    out->namespace_count = nvs->name_count;
    return ESP_OK;
}

/* What nvs_entry_next skips: namespace entries, legacy blobs, blob indices
 * and every chunk of a multi-page blob but its first. */
static bool is_listed(const esim_nvs_item *item)
{
    if (item->ns_index == 0 || item->type == ESIM_NVS_TYPE_BLOB || item->type == ESIM_NVS_TYPE_BLOB_IDX)
        return false;
    return item->type != ESIM_NVS_TYPE_BLOB_DATA || item->chunk_index == NVS_VER_0
        || item->chunk_index == NVS_VER_1;
}

static void fill_info(const esim_nvs *nvs, const esim_nvs_item *item, esim_nvs_entry_info *info)
{
    info->type = (esim_nvs_type)item->type;
    nvs_copy_key(info->key, item->key);
    for (size_t i = 0; i < nvs->name_count; i++) {
        if (nvs->names[i].index == item->ns_index) {
            memcpy(info->namespace_name, nvs->names[i].name, sizeof info->namespace_name);
            return;
        }
    }
}

static bool wanted(const esim_nvs_item *item, unsigned ns, esim_nvs_type type)
{
    if (ns != ESIM_NVS_NS_ANY && item->ns_index != ns)
        return false;
    if (type != ESIM_NVS_TYPE_ANY && item->type != type)
        return false;
    return is_listed(item);
}

esp_err_t esim_nvs_list(const esim_nvs *nvs, const char *ns_name, esim_nvs_type type, esim_nvs_entry_fn fn, void *ctx)
{
    if (!nvs || !fn)
        return ESP_ERR_INVALID_ARG;
    unsigned ns = ESIM_NVS_NS_ANY;
    if (ns_name) {
        const nvs_namespace *found = nvs_namespace_by_name(nvs, ns_name);
        if (!found)
            return ESP_ERR_NVS_NOT_FOUND;
        ns = found->index;
    }
    if (check_power(nvs))
        return ESP_ERR_FLASH_OP_FAIL;
    esim_nvs_entry_info info;
    memset(&info, 0, sizeof info);   /* a name not found keeps the previous one, as in ESP-IDF */
    for (uint32_t i = 0; i < nvs->pm.used_len; i++) {
        const nvs_page *p = nvs_pages_at(&nvs->pm, i);
        esim_nvs_item item;
        for (uint32_t index = 0; nvs_page_next_item(p, &index, &item); index += item.span) {
            if (!wanted(&item, ns, type))
                continue;
            fill_info(nvs, &item, &info);
            if (fn(&info, ctx))
                return ESP_OK;
        }
    }
    return ESP_OK;
}

esp_err_t esim_nvs_namespaces(const esim_nvs *nvs, esim_nvs_namespace_fn fn, void *ctx)
{
    if (!nvs || !fn)
        return ESP_ERR_INVALID_ARG;
    for (unsigned index = 0; index < 256; index++) {
        for (size_t i = 0; i < nvs->name_count; i++) {
            if (nvs->names[i].index == index && fn(nvs->names[i].name, (uint8_t)index, ctx))
                return ESP_OK;
        }
    }
    return ESP_OK;
}
