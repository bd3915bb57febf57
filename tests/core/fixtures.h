/* Shared by the C tests: read a file from tests/fixtures, put app images
 * on a board. Include after <cmocka.h>. */
#ifndef ESP32SIM_TEST_FIXTURES_H
#define ESP32SIM_TEST_FIXTURES_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "esp32sim/appimage.h"
#include "esp32sim/device.h"
#include "esp32sim/partition.h"

/* The whole file ESIM_FIXTURES_DIR/rel in a malloc'd buffer with a NUL
 * after the data (so text fixtures are C strings); fails the test when the
 * file cannot be read. */
static inline uint8_t *read_fixture_file(const char *rel, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", ESIM_FIXTURES_DIR, rel);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open fixture %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

/* Write a fresh image of `version` (esim_image_make, 128 KiB) into the
 * partition labelled `label`, erasing what it covers first. */
static inline void fixture_put_image(esim_device *dev, const char *label, const char *version)
{
    esim_partition p;
    assert_true(esim_partition_find_first(dev, ESIM_PART_TYPE_ANY, ESIM_PART_SUBTYPE_ANY, label, &p));
    uint8_t *img = NULL;
    size_t len = 0;
    assert_int_equal(esim_image_make("ota_test", version, 0, &img, &len), ESP_OK);
    size_t erase = (len + ESIM_FLASH_SECTOR_SIZE - 1) / ESIM_FLASH_SECTOR_SIZE * ESIM_FLASH_SECTOR_SIZE;
    assert_int_equal(esim_partition_erase_range(dev, &p, 0, erase), ESP_OK);
    assert_int_equal(esim_partition_write(dev, &p, 0, img, len), ESP_OK);
    free(img);
}

/* Erase every app partition and otadata, then power the board on again:
 * the state of a chip whose apps were never flashed (the firmware a new
 * board gets is gone), as the otatool vectors assume. */
static inline void fixture_blank_apps(esim_device *dev)
{
    const esim_ptable *t = esim_device_ptable(dev);
    for (size_t i = 0; i < t->count; i++) {
        const esim_part_entry *e = &t->entries[i];
        bool otadata = e->type == ESIM_PART_TYPE_DATA && e->subtype == ESIM_PART_SUBTYPE_DATA_OTA;
        if (e->type == ESIM_PART_TYPE_APP || otadata)
            assert_int_equal(esim_flash_erase_range(esim_device_flash(dev), e->offset, e->size), ESP_OK);
    }
    assert_int_equal(esim_device_power_cycle(dev), ESP_OK);
}

#endif
