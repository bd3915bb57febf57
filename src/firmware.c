/* esp32sim — the firmware a new board comes with: a valid ESP32 app image
 * (docs/app-image.md) with MicroPython's project name in its app
 * description, written to the first app partition as esptool would flash
 * it, so the bootloader verifies it and Partition(RUNNING) is a real app. */
#include <stdlib.h>

#include "esp32sim/appimage.h"
#include "device_internal.h"

/* About the size of MicroPython's ESP32_GENERIC firmware; smaller app
 * partitions get an image that fills them. */
#define FIRMWARE_SIZE     0x160000u
#define FIRMWARE_MIN_SIZE (70u * 1024u)

/* factory when the table has one, else the lowest-numbered OTA slot: the
 * partition the bootloader starts on a fresh board. */
static const esim_part_entry *first_app(const esim_ptable *table)
{
    const esim_part_entry *best = NULL;
    for (size_t i = 0; i < table->count; i++) {
        const esim_part_entry *e = &table->entries[i];
        if (e->type != ESIM_PART_TYPE_APP)
            continue;
        if (e->subtype == ESIM_PART_SUBTYPE_APP_FACTORY)
            return e;
        if (e->subtype >= ESIM_PART_SUBTYPE_APP_OTA_0 && e->subtype < ESIM_PART_SUBTYPE_APP_TEST &&
            (best == NULL || e->subtype < best->subtype))
            best = e;
    }
    return best;
}

esp_err_t esim_firmware_install(esim_flash *flash, const esim_ptable *table)
{
    const esim_part_entry *app = first_app(table);
    if (app == NULL || app->size < FIRMWARE_MIN_SIZE)
        return ESP_OK;          /* nothing to put it in: the board boots unverified */
    size_t size = app->size < FIRMWARE_SIZE ? app->size : FIRMWARE_SIZE;
    uint8_t *image = NULL;
    size_t len = 0;
    esp_err_t err = esim_image_make(ESIM_FIRMWARE_PROJECT, ESIM_FIRMWARE_VERSION, size, &image, &len);
    if (err)
        return err;
    size_t sectors = (len + ESIM_FLASH_SECTOR_SIZE - 1) / ESIM_FLASH_SECTOR_SIZE;
    err = esim_flash_erase_range(flash, app->offset, sectors * ESIM_FLASH_SECTOR_SIZE);
    if (!err)
        err = esim_flash_program(flash, app->offset, image, len);
    free(image);
    return err;
}
