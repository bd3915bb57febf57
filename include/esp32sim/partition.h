/* esp32sim — ESP-IDF's esp_partition API over a simulated board: find
 * partitions in the loaded table (plus those registered at run time, like
 * MicroPython's "vfs") and read, write and erase them with ESP-IDF's checks
 * and error codes. */
#ifndef ESP32SIM_PARTITION_H
#define ESP32SIM_PARTITION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp32sim/device.h"

/* esp_partition_t, held by value: copies stay usable across resets. */
typedef struct {
    uint8_t type;
    uint8_t subtype;
    uint32_t address;
    uint32_t size;
    uint32_t erase_size;          /* 4096 */
    char label[ESIM_PTABLE_LABEL_MAX + 1];
    bool encrypted;
    bool readonly;
    bool registered;              /* added at run time, not in the table */
} esim_partition;

/* esp_partition_find: table order, registered partitions last.
 * type ESIM_PART_TYPE_ANY (0xFF) with subtype other than ANY finds nothing,
 * as in ESP-IDF. label NULL matches any. Copies up to `cap` matches into
 * `out` and returns the number of matches. */
size_t esim_partition_find(const esim_device *dev, int type, int subtype, const char *label,
                           esim_partition *out, size_t cap);

/* First match, or false when none. */
bool esim_partition_find_first(const esim_device *dev, int type, int subtype, const char *label,
                               esim_partition *out);

/* esp_partition_read/write/erase_range, with ESP-IDF's checks in ESP-IDF's
 * order: readonly -> ESP_ERR_NOT_ALLOWED (write, erase); offset > size ->
 * ESP_ERR_INVALID_ARG; size > partition size - offset -> ESP_ERR_INVALID_SIZE;
 * erase size not a multiple of 4096 -> ESP_ERR_INVALID_SIZE; erase offset not
 * aligned -> ESP_ERR_INVALID_ARG. Writes AND into flash (no erase). */
esp_err_t esim_partition_read(esim_device *dev, const esim_partition *p, size_t offset, void *dst, size_t size);
esp_err_t esim_partition_write(esim_device *dev, const esim_partition *p, size_t offset, const void *src, size_t size);
esp_err_t esim_partition_erase_range(esim_device *dev, const esim_partition *p, size_t offset, size_t size);

/* esp_partition_register_external on the board's own flash. Lasts until the
 * next reset. Errors as ESP-IDF: ESP_ERR_INVALID_SIZE (beyond the chip),
 * ESP_ERR_INVALID_ARG (overlaps a partition, or a label longer than 16
 * bytes), ESP_ERR_NO_MEM (no room for more registrations). */
esp_err_t esim_partition_register(esim_device *dev, uint32_t offset, uint32_t size, const char *label,
                                  uint8_t type, uint8_t subtype, esim_partition *out);

#endif
