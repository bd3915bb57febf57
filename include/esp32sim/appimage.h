/* esp32sim — ESP-IDF app images (reference/espidf-formats.md §C,
 * docs/app-image.md): the header, segments, checksum, appended SHA-256 and
 * the esp_app_desc_t at offset 0x20. One verifier serves set_boot, the
 * bootloader and the command line. */
#ifndef ESP32SIM_APPIMAGE_H
#define ESP32SIM_APPIMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp32sim/err.h"

#define ESIM_IMAGE_MAGIC          0xE9u
#define ESIM_IMAGE_HEADER_SIZE    24u
#define ESIM_IMAGE_MAX_SEGMENTS   16u
#define ESIM_IMAGE_CHIP_ESP32     0x0000u
#define ESIM_APP_DESC_MAGIC       0xABCD5432u
#define ESIM_APP_DESC_OFFSET      0x20u
#define ESIM_APP_DESC_SIZE        256u
/* The simulated chip's revision, as min/max_chip_rev_full count it
 * (major * 100 + minor): an ESP32 v3.0. */
#define ESIM_IMAGE_CHIP_REV_FULL  300u

typedef struct {
    uint32_t load_addr;
    uint32_t data_len;
    uint32_t file_offset;      /* of the segment's data within the image */
} esim_image_segment;

typedef struct {
    uint32_t magic_word;
    uint32_t secure_version;
    char version[33];
    char project_name[33];
    char time[17];
    char date[17];
    char idf_ver[33];
    uint8_t app_elf_sha256[32];
    uint16_t min_efuse_blk_rev_full;
    uint16_t max_efuse_blk_rev_full;
    uint8_t mmu_page_size;
} esim_app_desc;

/* Everything the verifier found, valid or not. */
typedef struct {
    /* header */
    uint8_t magic;
    uint8_t segment_count;
    uint8_t spi_mode, spi_speed, spi_size;
    uint32_t entry_addr;
    uint8_t wp_pin;
    uint8_t spi_pin_drv[3];
    uint16_t chip_id;
    uint8_t min_chip_rev;      /* legacy byte, not checked */
    uint16_t min_chip_rev_full, max_chip_rev_full;
    bool hash_appended;
    esim_image_segment segments[ESIM_IMAGE_MAX_SEGMENTS];
    /* checks */
    uint8_t checksum_stored, checksum_computed;
    uint8_t sha256_stored[32], sha256_computed[32];
    uint32_t image_len;        /* padded length, + 32 with the hash */
    bool has_app_desc;
    esim_app_desc app_desc;
    /* each check: true when it was made and passed; false when it failed
     * or could not be made (e.g. no checksum of a truncated image). sha256
     * is true when no hash is appended. */
    struct {
        bool magic, chip, segments, checksum, sha256, length;
    } checks;
    /* the verdict */
    esp_err_t result;          /* ESP_OK, or why the image is refused */
    char reason[160];          /* words for result, e.g. "checksum 0x12 does not match 0x34" */
} esim_image_info;

/* esp_image_verify over `len` bytes (a partition's contents or a file):
 * magic, chip id (ESP32), chip revision range, segment count and segment
 * headers, checksum, SHA-256 when appended, image_len <= len. Fills *info as
 * far as it got (info may be NULL), with the reason in words. Returns ESP_OK
 * or ESP_ERR_IMAGE_INVALID, as ESP-IDF does. Never reads beyond len. */
esp_err_t esim_image_verify(const uint8_t *data, size_t len, esim_image_info *info);

/* Where a segment with this load address goes on an ESP32: "DROM", "IROM"
 * (flash-mapped), "DRAM", "IRAM", "RTC_IRAM", "RTC_DRAM", "RTC_DATA"
 * (loaded), "padding" (below 0x10000000, never loaded) or "unknown". */
const char *esim_image_region_name(uint32_t load_addr);

/* Build a valid ESP32 app image: a DROM segment holding an esp_app_desc_t
 * (project name, version, date/time, idf_ver "v5.5.2") first, then code/data
 * segments filling the image to `size` bytes rounded down to 16 (0: 128 KiB;
 * 70 KiB to 3 MiB; NULL project/version: "esp32sim-app", "1.0.0"),
 * checksum and appended SHA-256. Deterministic for the same arguments.
 * *out is malloc'd. Errors: ESP_ERR_INVALID_ARG (strings too long, size too
 * small), ESP_ERR_NO_MEM. */
esp_err_t esim_image_make(const char *project, const char *version, size_t size, uint8_t **out, size_t *out_len);

#endif
