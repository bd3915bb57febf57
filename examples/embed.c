/* Embedding libesp32sim in a C harness: open a board, list its partitions,
 * write a block to the vfs partition and show the flash counters.
 *
 *   cc embed.c $(pkg-config --cflags --libs esp32sim) -o embed && ./embed [IMAGE]
 */
#include <stdio.h>
#include <string.h>

#include <esp32sim/partition.h>

int main(int argc, char **argv)
{
    esim_device_config cfg = {.flash_path = argc > 1 ? argv[1] : NULL};
    esim_ptable_error why = {0};
    esim_device *dev = NULL;
    esp_err_t err = esim_device_open(&cfg, &dev, &why);
    if (err) {
        fprintf(stderr, "embed: %s (%s)\n", why.message, esim_err_name(err));
        return 1;
    }
    esim_partition parts[16];
    size_t n = esim_partition_find(dev, ESIM_PART_TYPE_ANY, ESIM_PART_SUBTYPE_ANY, NULL, parts, 16);
    for (size_t i = 0; i < n && i < 16; i++)
        printf("%-8s type %u subtype 0x%02x at 0x%06x, %u bytes%s\n", parts[i].label, parts[i].type,
               parts[i].subtype, (unsigned)parts[i].address, (unsigned)parts[i].size,
               parts[i].registered ? " (registered at boot)" : "");

    esim_partition vfs;
    uint8_t block[4096];
    memset(block, 0x5A, sizeof block);
    if (!esim_partition_find_first(dev, ESIM_PART_TYPE_DATA, ESIM_PART_SUBTYPE_ANY, "vfs", &vfs) ||
        (err = esim_partition_erase_range(dev, &vfs, 0, sizeof block)) != ESP_OK ||
        (err = esim_partition_write(dev, &vfs, 0, block, sizeof block)) != ESP_OK) {
        fprintf(stderr, "embed: vfs write failed (%s)\n", esim_err_name(err));
        esim_device_close(dev);
        return 1;
    }
    esim_flash_counters c;
    esim_flash_get_counters(esim_device_flash(dev), &c);
    printf("programmed %llu bytes, erased %llu sectors\n", (unsigned long long)c.bytes_programmed,
           (unsigned long long)c.sectors_erased);
    esim_device_close(dev);
    return 0;
}
