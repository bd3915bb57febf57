/* esp32sim — ESP-IDF's esp_partition API over a simulated board. */
#include <string.h>

#include "device_internal.h"

static void entry_to_partition(const esim_part_entry *e, esim_partition *p)
{
    memset(p, 0, sizeof *p);
    p->type = e->type;
    p->subtype = e->subtype;
    p->address = e->offset;
    p->size = e->size;
    p->erase_size = ESIM_FLASH_SECTOR_SIZE;
    memcpy(p->label, e->label, sizeof p->label);
    p->label[ESIM_PTABLE_LABEL_MAX] = '\0';
    /* Flash encryption is off on the simulated board, so nothing is
     * encrypted whatever the table's flag says (as ESP-IDF does). */
    p->encrypted = false;
    p->readonly = (e->flags & ESIM_PART_FLAG_READONLY) != 0;
}

void esim_partitions_load(esim_device *dev)
{
    for (size_t i = 0; i < dev->table.count; i++)
        entry_to_partition(&dev->table.entries[i], &dev->parts[i]);
    dev->table_parts = dev->table.count;
    dev->part_count = dev->table.count;
    dev->running_index = -1;
}

static bool matches(const esim_partition *p, int type, int subtype, const char *label)
{
    if (type != ESIM_PART_TYPE_ANY && p->type != type)
        return false;
    if (subtype != ESIM_PART_SUBTYPE_ANY && p->subtype != subtype)
        return false;
    return label == NULL || strcmp(label, p->label) == 0;
}

size_t esim_partition_find(const esim_device *dev, int type, int subtype, const char *label,
                           esim_partition *out, size_t cap)
{
    size_t found = 0;
    if (type == ESIM_PART_TYPE_ANY && subtype != ESIM_PART_SUBTYPE_ANY)
        return 0;   /* ESP-IDF refuses "any type, this subtype" */
    for (size_t i = 0; i < dev->part_count; i++) {
        if (!matches(&dev->parts[i], type, subtype, label))
            continue;
        if (found < cap)
            out[found] = dev->parts[i];
        found++;
    }
    return found;
}

bool esim_partition_find_first(const esim_device *dev, int type, int subtype, const char *label,
                               esim_partition *out)
{
    return esim_partition_find(dev, type, subtype, label, out, 1) > 0;
}

static esp_err_t check_range(const esim_partition *p, size_t offset, size_t size)
{
    if (offset > p->size)
        return ESP_ERR_INVALID_ARG;
    if (size > p->size - offset)
        return ESP_ERR_INVALID_SIZE;
    return ESP_OK;
}

esp_err_t esim_partition_read(esim_device *dev, const esim_partition *p, size_t offset, void *dst, size_t size)
{
    esp_err_t err = check_range(p, offset, size);
    if (err)
        return err;
    return esim_flash_read(dev->flash, (uint32_t)(p->address + offset), dst, size);
}

esp_err_t esim_partition_write(esim_device *dev, const esim_partition *p, size_t offset, const void *src,
                               size_t size)
{
    if (p->readonly)
        return ESP_ERR_NOT_ALLOWED;
    esp_err_t err = check_range(p, offset, size);
    if (err)
        return err;
    return esim_flash_program(dev->flash, (uint32_t)(p->address + offset), src, size);
}

esp_err_t esim_partition_erase_range(esim_device *dev, const esim_partition *p, size_t offset, size_t size)
{
    if (p->readonly)
        return ESP_ERR_NOT_ALLOWED;
    esp_err_t err = check_range(p, offset, size);
    if (err)
        return err;
    if (size % p->erase_size != 0)
        return ESP_ERR_INVALID_SIZE;
    if (offset % p->erase_size != 0)
        return ESP_ERR_INVALID_ARG;
    return esim_flash_erase_range(dev->flash, (uint32_t)(p->address + offset), size);
}

static bool overlaps_any(const esim_device *dev, uint32_t offset, uint32_t size)
{
    for (size_t i = 0; i < dev->part_count; i++) {
        const esim_partition *p = &dev->parts[i];
        if (offset < p->address + p->size && p->address < offset + size)
            return true;
    }
    return false;
}

esp_err_t esim_partition_register(esim_device *dev, uint32_t offset, uint32_t size, const char *label,
                                  uint8_t type, uint8_t subtype, esim_partition *out)
{
    if ((uint64_t)offset + size > esim_flash_size(dev->flash))
        return ESP_ERR_INVALID_SIZE;
    if (label == NULL || strlen(label) > ESIM_PTABLE_LABEL_MAX || overlaps_any(dev, offset, size))
        return ESP_ERR_INVALID_ARG;
    if (dev->part_count >= dev->table_parts + ESIM_MAX_REGISTERED)
        return ESP_ERR_NO_MEM;
    esim_partition *p = &dev->parts[dev->part_count++];
    memset(p, 0, sizeof *p);
    p->type = type;
    p->subtype = subtype;
    p->address = offset;
    p->size = size;
    p->erase_size = ESIM_FLASH_SECTOR_SIZE;
    strcpy(p->label, label);
    p->registered = true;
    if (out != NULL)
        *out = *p;
    return ESP_OK;
}
