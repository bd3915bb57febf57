/* esp32sim — NVS format v2: encoding and decoding (docs/nvs-format.md). */
#include <string.h>
#include <zlib.h>

#include "esp32sim/nvs_format.h"

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

uint32_t esim_nvs_crc32(const void *data, size_t len)
{
    return (uint32_t)crc32(0xFFFFFFFFul, data, (uInt)len);
}

/* ---- page header ---- */

uint32_t esim_nvs_header_crc(const uint8_t raw[32])
{
    return esim_nvs_crc32(raw + 4, 24);
}

void esim_nvs_header_decode(const uint8_t raw[32], esim_nvs_page_header *out)
{
    out->state = get_le32(raw);
    out->seqno = get_le32(raw + 4);
    out->version = raw[8];
    out->crc = get_le32(raw + 28);
}

void esim_nvs_header_encode(esim_nvs_page_header *hdr, uint8_t raw[32])
{
    memset(raw, 0xFF, 32);
    put_le32(raw, hdr->state);
    put_le32(raw + 4, hdr->seqno);
    raw[8] = hdr->version;
    hdr->crc = esim_nvs_header_crc(raw);
    put_le32(raw + 28, hdr->crc);
}

/* ---- items ---- */

void esim_nvs_item_decode(const uint8_t raw[32], esim_nvs_item *out)
{
    out->ns_index = raw[0];
    out->type = raw[1];
    out->span = raw[2];
    out->chunk_index = raw[3];
    out->crc = get_le32(raw + 4);
    memcpy(out->key, raw + 8, ESIM_NVS_KEY_SIZE);
    memcpy(out->data, raw + 24, 8);
}

void esim_nvs_item_encode(const esim_nvs_item *item, uint8_t raw[32])
{
    raw[0] = item->ns_index;
    raw[1] = item->type;
    raw[2] = item->span;
    raw[3] = item->chunk_index;
    put_le32(raw + 4, item->crc);
    memcpy(raw + 8, item->key, ESIM_NVS_KEY_SIZE);
    memcpy(raw + 24, item->data, 8);
}

/* The entry without its CRC field: bytes 0-3 then 8-31, in one CRC. */
uint32_t esim_nvs_item_crc(const esim_nvs_item *item)
{
    uint8_t raw[28];
    raw[0] = item->ns_index;
    raw[1] = item->type;
    raw[2] = item->span;
    raw[3] = item->chunk_index;
    memcpy(raw + 4, item->key, ESIM_NVS_KEY_SIZE);
    memcpy(raw + 4 + ESIM_NVS_KEY_SIZE, item->data, 8);
    return esim_nvs_crc32(raw, sizeof raw);
}

/* One CRC over namespace, key and chunk index laid end to end. */
uint32_t esim_nvs_item_hash(uint8_t ns_index, const char key[ESIM_NVS_KEY_SIZE], uint8_t chunk_index)
{
    uint8_t bytes[ESIM_NVS_KEY_SIZE + 2];
    bytes[0] = ns_index;
    memcpy(bytes + 1, key, ESIM_NVS_KEY_SIZE);
    bytes[ESIM_NVS_KEY_SIZE + 1] = chunk_index;
    return esim_nvs_crc32(bytes, sizeof bytes) & 0xFFFFFFu;
}

void esim_nvs_item_init(esim_nvs_item *item, uint8_t ns_index, uint8_t type, const char *key)
{
    memset(item, 0, sizeof *item);
    item->ns_index = ns_index;
    item->type = type;
    item->span = 1;
    item->chunk_index = ESIM_NVS_CHUNK_ANY;
    for (size_t i = 0; key != NULL && i < ESIM_NVS_KEY_MAX && key[i] != '\0'; i++)
        item->key[i] = key[i];
    memset(item->data, 0xFF, sizeof item->data);
}

uint16_t esim_nvs_item_var_size(const esim_nvs_item *item)
{
    return (uint16_t)(item->data[0] | item->data[1] << 8);
}

uint32_t esim_nvs_item_var_crc(const esim_nvs_item *item)
{
    return get_le32(item->data + 4);
}

void esim_nvs_item_set_var(esim_nvs_item *item, uint16_t size, uint32_t data_crc)
{
    item->data[0] = (uint8_t)size;
    item->data[1] = (uint8_t)(size >> 8);
    item->data[2] = 0xFF;
    item->data[3] = 0xFF;
    put_le32(item->data + 4, data_crc);
}

uint32_t esim_nvs_item_blob_size(const esim_nvs_item *item) { return get_le32(item->data); }
uint8_t esim_nvs_item_blob_chunk_count(const esim_nvs_item *item) { return item->data[4]; }
uint8_t esim_nvs_item_blob_chunk_start(const esim_nvs_item *item) { return item->data[5]; }

void esim_nvs_item_set_blob_index(esim_nvs_item *item, uint32_t size, uint8_t chunk_count, uint8_t chunk_start)
{
    put_le32(item->data, size);
    item->data[4] = chunk_count;
    item->data[5] = chunk_start;
    item->data[6] = 0xFF;
    item->data[7] = 0xFF;
}

/* ---- types ---- */

unsigned esim_nvs_int_width(uint8_t type)
{
    switch (type) {
    case ESIM_NVS_TYPE_U8: case ESIM_NVS_TYPE_I8: return 1;
    case ESIM_NVS_TYPE_U16: case ESIM_NVS_TYPE_I16: return 2;
    case ESIM_NVS_TYPE_U32: case ESIM_NVS_TYPE_I32: return 4;
    case ESIM_NVS_TYPE_U64: case ESIM_NVS_TYPE_I64: return 8;
    default: return 0;
    }
}

bool esim_nvs_type_signed(uint8_t type)
{
    return esim_nvs_int_width(type) != 0 && (type & 0x10) != 0;
}

bool esim_nvs_type_is_variable(uint8_t type)
{
    return type == ESIM_NVS_TYPE_STR || type == ESIM_NVS_TYPE_BLOB || type == ESIM_NVS_TYPE_BLOB_DATA;
}

const char *esim_nvs_type_name(uint8_t type)
{
    switch (type) {
    case ESIM_NVS_TYPE_U8: return "u8";
    case ESIM_NVS_TYPE_I8: return "i8";
    case ESIM_NVS_TYPE_U16: return "u16";
    case ESIM_NVS_TYPE_I16: return "i16";
    case ESIM_NVS_TYPE_U32: return "u32";
    case ESIM_NVS_TYPE_I32: return "i32";
    case ESIM_NVS_TYPE_U64: return "u64";
    case ESIM_NVS_TYPE_I64: return "i64";
    case ESIM_NVS_TYPE_STR: return "string";
    case ESIM_NVS_TYPE_BLOB: return "blob";
    case ESIM_NVS_TYPE_BLOB_DATA: return "blob_data";
    case ESIM_NVS_TYPE_BLOB_IDX: return "blob_index";
    default: return NULL;
    }
}

/* ---- bitmap ---- */

esim_nvs_entry_state esim_nvs_bitmap_get(const uint8_t bitmap[ESIM_NVS_BITMAP_SIZE], unsigned index)
{
    return (esim_nvs_entry_state)((bitmap[index / 4] >> (2 * (index % 4))) & 3u);
}

void esim_nvs_bitmap_set(uint8_t bitmap[ESIM_NVS_BITMAP_SIZE], unsigned index, esim_nvs_entry_state state)
{
    unsigned shift = 2 * (index % 4);
    bitmap[index / 4] = (uint8_t)((bitmap[index / 4] & ~(3u << shift)) | ((unsigned)state << shift));
}

unsigned esim_nvs_span_for_size(size_t size)
{
    return 1u + (unsigned)((size + ESIM_NVS_ENTRY_SIZE - 1) / ESIM_NVS_ENTRY_SIZE);
}
