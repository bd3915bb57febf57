/* esp32sim — NOR flash model.
 *
 * A flash chip backed by an image file (memory-mapped) or by memory. Like real
 * NOR flash: the erased state is 0xFF, erase works on 4 KiB sectors, and
 * programming can only clear bits (new = old AND data).
 *
 * The model counts what it does (bytes read and programmed, sectors erased,
 * erase count per sector) and can cut the power in the middle of an
 * operation, deterministically from a seed, so that storage engines can be
 * tested against torn writes and half-erased sectors (docs/flash-model.md). */
#ifndef ESP32SIM_FLASH_H
#define ESP32SIM_FLASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp32sim/err.h"

#define ESIM_FLASH_SECTOR_SIZE 4096u
#define ESIM_FLASH_WORD_SIZE   4u

typedef struct esim_flash esim_flash;

typedef struct {
    uint64_t read_ops;          /* calls to esim_flash_read that reached the chip */
    uint64_t bytes_read;
    uint64_t program_ops;       /* calls to esim_flash_program that reached the chip */
    uint64_t bytes_programmed;
    uint64_t erase_ops;         /* sector erases started */
    uint64_t sectors_erased;    /* sector erases completed */
} esim_flash_counters;

/* True for the sizes a simulated ESP32 module can have: 2, 4, 8 or 16 MiB. */
bool esim_flash_size_supported(size_t size);

/* Open an image file. If it does not exist and `create` is set, it is
 * created 0xFF-filled with `size` bytes. If it exists, `size` must be 0 or
 * equal to the file's size, and the file's size must be supported.
 * Wear counters are kept in a sidecar file "<path>.wear" (docs/flash-model.md).
 * Errors: ESP_ERR_NOT_FOUND (missing, !create), ESP_ERR_INVALID_SIZE (size
 * mismatch or unsupported size), ESP_FAIL (I/O error; see errno). */
esp_err_t esim_flash_open_file(const char *path, size_t size, bool create, esim_flash **out);

/* Open an existing image file for looking only (inspection tools, esptool
 * dumps made read-only). The file is opened O_RDONLY and mapped read-only,
 * so a file without write permission opens too, and the file is never
 * modified. Size rules as for esim_flash_open_file: the file's size must be
 * supported and `size` must be 0 or equal to it. The wear sidecar is loaded
 * if present, but never written.
 * On such a chip esim_flash_program, esim_flash_erase_sector and
 * esim_flash_erase_range refuse every call (even with len 0) with
 * ESP_ERR_NOT_ALLOWED once their arguments are valid, change nothing and
 * count nothing; reads work and are counted in memory only;
 * esim_flash_sync and esim_flash_close write nothing.
 * Errors: ESP_ERR_NOT_FOUND (missing), ESP_ERR_INVALID_SIZE, ESP_FAIL (I/O
 * error; see errno), ESP_ERR_INVALID_ARG, ESP_ERR_NO_MEM. */
esp_err_t esim_flash_open_file_readonly(const char *path, size_t size, esim_flash **out);

/* True for a chip opened with esim_flash_open_file_readonly. */
bool esim_flash_read_only(const esim_flash *flash);

/* A flash chip held in memory, 0xFF-filled. */
esp_err_t esim_flash_open_memory(size_t size, esim_flash **out);

/* Write the image and the wear sidecar to disk (file-backed, writable
 * chips only; a read-only chip has nothing to write: ESP_OK). */
esp_err_t esim_flash_sync(esim_flash *flash);

/* Sync and release. NULL is accepted. */
void esim_flash_close(esim_flash *flash);

size_t esim_flash_size(const esim_flash *flash);
const char *esim_flash_path(const esim_flash *flash);   /* NULL for memory */

/* Bounds-checked operations, with ESP-IDF's error codes:
 * addr + len beyond the chip -> ESP_ERR_INVALID_ARG; erase of an unaligned
 * address or length -> ESP_ERR_INVALID_ARG; any operation while the power is
 * cut -> ESP_ERR_FLASH_OP_FAIL; program or erase of a read-only chip ->
 * ESP_ERR_NOT_ALLOWED. len 0 is a no-op that succeeds. */
esp_err_t esim_flash_read(esim_flash *flash, uint32_t addr, void *buf, size_t len);
esp_err_t esim_flash_program(esim_flash *flash, uint32_t addr, const void *buf, size_t len);
esp_err_t esim_flash_erase_sector(esim_flash *flash, uint32_t sector_index);
esp_err_t esim_flash_erase_range(esim_flash *flash, uint32_t addr, size_t len);

/* Read-only view of the whole chip (no counters, no power check): for
 * inspection tools and tests. */
const uint8_t *esim_flash_peek(const esim_flash *flash);

/* Counters since the image was created (persisted in the sidecar for file
 * images) and per-sector erase counts (wear). */
void esim_flash_get_counters(const esim_flash *flash, esim_flash_counters *out);
void esim_flash_reset_counters(esim_flash *flash);   /* clears counters and wear */
uint32_t esim_flash_sector_count(const esim_flash *flash);
uint32_t esim_flash_sector_erase_count(const esim_flash *flash, uint32_t sector_index);

/* Power-cut injection.
 * arm_cut_at_op: the power fails during the Nth mutating operation (program
 *   or erase) from now, N >= 1. Reads are not counted.
 * arm_cut_after_bytes: the power fails once N more bytes have been programmed;
 *   a program that crosses the limit writes only the bytes up to it.
 * A program cut by arm_cut_at_op leaves a seed-chosen prefix of its 4-byte
 * words written (torn write) and an erase cut by it leaves the sector partly
 * erased (a seed-chosen prefix set to 0xFF, the next word with random bits
 * set). arm_cut_after_bytes counts programs only. From the cut on, every operation fails with
 * ESP_ERR_FLASH_OP_FAIL until esim_flash_power_on(). */
esp_err_t esim_flash_arm_cut_at_op(esim_flash *flash, uint64_t nth_op, uint64_t seed);
esp_err_t esim_flash_arm_cut_after_bytes(esim_flash *flash, uint64_t bytes, uint64_t seed);
void esim_flash_disarm_cut(esim_flash *flash);
bool esim_flash_cut_armed(const esim_flash *flash);
bool esim_flash_powered(const esim_flash *flash);
void esim_flash_power_on(esim_flash *flash);   /* restore power; disarms */

#endif
