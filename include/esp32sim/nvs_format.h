/* esp32sim — ESP-IDF's NVS on-flash format, version 2 (docs/nvs-format.md).
 *
 * Encoding and decoding of pages, headers, the entry-state bitmap and the
 * 32-byte entries, shared by the NVS engine (nvs.h), the image tools
 * (nvs_image.h) and the command line. Nothing here touches flash. */
#ifndef ESP32SIM_NVS_FORMAT_H
#define ESP32SIM_NVS_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ESIM_NVS_PAGE_SIZE        4096u
#define ESIM_NVS_ENTRY_SIZE       32u
#define ESIM_NVS_ENTRY_COUNT      126u
#define ESIM_NVS_HEADER_OFFSET    0u
#define ESIM_NVS_BITMAP_OFFSET    32u
#define ESIM_NVS_BITMAP_SIZE      32u
#define ESIM_NVS_ENTRIES_OFFSET   64u
#define ESIM_NVS_KEY_SIZE         16u      /* key field; at most 15 characters */
#define ESIM_NVS_KEY_MAX          15u
#define ESIM_NVS_MAX_NAMESPACES   254u
#define ESIM_NVS_PAGE_PAYLOAD     4000u    /* 125 data entries × 32 */
#define ESIM_NVS_CHUNK_ANY        0xFFu
#define ESIM_NVS_NS_ANY           0xFFu

/* Page states: bits are cleared one at a time. */
#define ESIM_NVS_PAGE_UNINITIALIZED 0xFFFFFFFFu
#define ESIM_NVS_PAGE_ACTIVE        0xFFFFFFFEu
#define ESIM_NVS_PAGE_FULL          0xFFFFFFFCu
#define ESIM_NVS_PAGE_FREEING       0xFFFFFFF8u
#define ESIM_NVS_PAGE_CORRUPT       0xFFFFFFF0u

#define ESIM_NVS_VERSION_2 0xFEu
#define ESIM_NVS_VERSION_1 0xFFu

/* Entry states in the bitmap (2 bits each). */
typedef enum {
    ESIM_NVS_ENTRY_ERASED = 0,
    ESIM_NVS_ENTRY_ILLEGAL = 1,
    ESIM_NVS_ENTRY_WRITTEN = 2,
    ESIM_NVS_ENTRY_EMPTY = 3,
} esim_nvs_entry_state;

/* Item types (nvs_type_t and the on-flash ItemType). */
typedef enum {
    ESIM_NVS_TYPE_U8 = 0x01,
    ESIM_NVS_TYPE_I8 = 0x11,
    ESIM_NVS_TYPE_U16 = 0x02,
    ESIM_NVS_TYPE_I16 = 0x12,
    ESIM_NVS_TYPE_U32 = 0x04,
    ESIM_NVS_TYPE_I32 = 0x14,
    ESIM_NVS_TYPE_U64 = 0x08,
    ESIM_NVS_TYPE_I64 = 0x18,
    ESIM_NVS_TYPE_STR = 0x21,
    ESIM_NVS_TYPE_BLOB = 0x41,        /* legacy v1 single-page blob */
    ESIM_NVS_TYPE_BLOB_DATA = 0x42,   /* also what the API calls a blob */
    ESIM_NVS_TYPE_BLOB_IDX = 0x48,
    ESIM_NVS_TYPE_ANY = 0xFF,
} esim_nvs_type;

#define ESIM_NVS_BLOB_VERSION_0 0x00u
#define ESIM_NVS_BLOB_VERSION_1 0x80u

typedef struct {
    uint32_t state;
    uint32_t seqno;
    uint8_t version;
    uint32_t crc;
} esim_nvs_page_header;

/* One 32-byte entry (ESP-IDF's Item), fields as stored. */
typedef struct {
    uint8_t ns_index;
    uint8_t type;
    uint8_t span;
    uint8_t chunk_index;
    uint32_t crc;
    char key[ESIM_NVS_KEY_SIZE];     /* NUL-padded */
    uint8_t data[8];
} esim_nvs_item;

/* The CRC ESP-IDF uses everywhere: zlib's crc32 seeded with 0xFFFFFFFF. */
uint32_t esim_nvs_crc32(const void *data, size_t len);

void esim_nvs_header_decode(const uint8_t raw[32], esim_nvs_page_header *out);
/* Writes state, seqno, version, 0xFF reserved bytes and the CRC (which it
 * computes and stores into hdr->crc too). */
void esim_nvs_header_encode(esim_nvs_page_header *hdr, uint8_t raw[32]);
/* CRC over header bytes 4..27 of a raw header. */
uint32_t esim_nvs_header_crc(const uint8_t raw[32]);

void esim_nvs_item_decode(const uint8_t raw[32], esim_nvs_item *out);
void esim_nvs_item_encode(const esim_nvs_item *item, uint8_t raw[32]);
/* CRC over entry bytes 0..3 and 8..31 of the item as encoded. */
uint32_t esim_nvs_item_crc(const esim_nvs_item *item);
/* The 24-bit hash of the in-RAM index: CRC over ns, the 16 key bytes, chunk. */
uint32_t esim_nvs_item_hash(uint8_t ns_index, const char key[ESIM_NVS_KEY_SIZE], uint8_t chunk_index);

/* A fresh item: key copied (at most 15 chars) and NUL-padded, data 0xFF,
 * span 1, chunk index 0xFF. */
void esim_nvs_item_init(esim_nvs_item *item, uint8_t ns_index, uint8_t type, const char *key);

/* Data field views. */
uint16_t esim_nvs_item_var_size(const esim_nvs_item *item);      /* SZ / BLOB / BLOB_DATA */
uint32_t esim_nvs_item_var_crc(const esim_nvs_item *item);
void esim_nvs_item_set_var(esim_nvs_item *item, uint16_t size, uint32_t data_crc);
uint32_t esim_nvs_item_blob_size(const esim_nvs_item *item);     /* BLOB_IDX */
uint8_t esim_nvs_item_blob_chunk_count(const esim_nvs_item *item);
uint8_t esim_nvs_item_blob_chunk_start(const esim_nvs_item *item);
void esim_nvs_item_set_blob_index(esim_nvs_item *item, uint32_t size, uint8_t chunk_count, uint8_t chunk_start);

/* Integer types: width in bytes (1, 2, 4, 8), 0 for other types. */
unsigned esim_nvs_int_width(uint8_t type);
bool esim_nvs_type_signed(uint8_t type);
bool esim_nvs_type_is_variable(uint8_t type);   /* SZ, BLOB, BLOB_DATA */
/* "u8", "i32", "string", "blob", "blob_data", "blob_index", … or NULL. */
const char *esim_nvs_type_name(uint8_t type);

/* The entry-state bitmap: entry i is at bits 2*(i%4) of byte i/4. */
esim_nvs_entry_state esim_nvs_bitmap_get(const uint8_t bitmap[ESIM_NVS_BITMAP_SIZE], unsigned index);
void esim_nvs_bitmap_set(uint8_t bitmap[ESIM_NVS_BITMAP_SIZE], unsigned index, esim_nvs_entry_state state);

/* Number of entries a variable-length value of `size` bytes spans,
 * header included: 1 + ceil(size / 32). */
unsigned esim_nvs_span_for_size(size_t size);

#endif
