/* esp32sim — the board's address map as the CPU sees it through
 * machine.mem8/16/32: RTC slow memory (shared with the ULP later) and RTC
 * fast memory. Little-endian, like the Xtensa core. */
#include <string.h>

#include "device_internal.h"

typedef struct {
    uint32_t base;
    uint32_t size;
    uint8_t *bytes;
} region;

static bool find_region(esim_device *dev, uint32_t addr, unsigned size, region *out)
{
    const region regions[] = {
        {ESIM_RTC_SLOW_MEM_ADDR, ESIM_RTC_SLOW_MEM_SIZE, dev->rtc_slow},
        {ESIM_RTC_FAST_MEM_ADDR, ESIM_RTC_FAST_MEM_SIZE, dev->rtc_fast},
    };
    for (size_t i = 0; i < sizeof regions / sizeof regions[0]; i++) {
        if (addr >= regions[i].base && addr - regions[i].base <= regions[i].size - size) {
            *out = regions[i];
            return true;
        }
    }
    return false;
}

static esp_err_t check_access(uint32_t addr, unsigned size)
{
    if (size != 1 && size != 2 && size != 4)
        return ESP_ERR_INVALID_SIZE;
    return (addr & (size - 1)) ? ESP_ERR_INVALID_ARG : ESP_OK;
}

esp_err_t esim_device_mem_read(esim_device *dev, uint32_t addr, unsigned size, uint32_t *value)
{
    region r;
    esp_err_t err = check_access(addr, size);
    if (err)
        return err;
    if (!find_region(dev, addr, size, &r))
        return ESP_ERR_NOT_FOUND;
    const uint8_t *p = r.bytes + (addr - r.base);
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint32_t)p[i] << (8 * i);
    *value = v;
    return ESP_OK;
}

esp_err_t esim_device_mem_write(esim_device *dev, uint32_t addr, unsigned size, uint32_t value)
{
    region r;
    esp_err_t err = check_access(addr, size);
    if (err)
        return err;
    if (!find_region(dev, addr, size, &r))
        return ESP_ERR_NOT_FOUND;
    uint8_t *p = r.bytes + (addr - r.base);
    for (unsigned i = 0; i < size; i++)
        p[i] = (uint8_t)(value >> (8 * i));
    return ESP_OK;
}

uint8_t *esim_device_rtc_slow_mem(esim_device *dev) { return dev->rtc_slow; }
