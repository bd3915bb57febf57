/* esp32sim — built-in partition layouts, as gen_esp32part.py CSV text.
 *
 * They reproduce the tables MicroPython's ESP32 boards flash, so a device
 * created without a table of its own looks like a freshly flashed board.
 * Neither has a "vfs" row: MicroPython adds that partition in RAM at boot
 * (see docs/partition-table.md). */
#include "esp32sim/parttable.h"

#include <string.h>

/* ESP32_GENERIC: one factory app of 1984 KiB after NVS and PHY data; the
 * rest of a 4 MiB (or larger) flash is left for the runtime "vfs". */
static const char layout_default[] =
    "# esp32sim built-in layout \"default\" (MicroPython ESP32_GENERIC)\n"
    "# Name,   Type, SubType, Offset,  Size,     Flags\n"
    "nvs,      data, nvs,     0x9000,  0x6000,\n"
    "phy_init, data, phy,     0xf000,  0x1000,\n"
    "factory,  app,  factory, 0x10000, 0x1F0000,\n";

/* ESP32_GENERIC-OTA: two 1.5 MiB app slots and the otadata that picks one. */
static const char layout_ota[] =
    "# esp32sim built-in layout \"ota\" (MicroPython ESP32_GENERIC-OTA)\n"
    "# Name,   Type, SubType, Offset,   Size,     Flags\n"
    "nvs,      data, nvs,     0x9000,   0x4000,\n"
    "otadata,  data, ota,     0xd000,   0x2000,\n"
    "phy_init, data, phy,     0xf000,   0x1000,\n"
    "ota_0,    app,  ota_0,   0x10000,  0x180000,\n"
    "ota_1,    app,  ota_1,   0x190000, 0x180000,\n";

typedef struct {
    const char *name;
    const char *csv;
} layout;

static const layout layouts[] = {
    { "default", layout_default },
    { "ota", layout_ota },
};

const char *esim_layout_csv(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++)
        if (strcmp(layouts[i].name, name) == 0)
            return layouts[i].csv;
    return NULL;
}
