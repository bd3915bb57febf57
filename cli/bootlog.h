/* esp32sim command — what a boot shows outside the firmware: the UART lines
 * of the ESP32's ROM and second-stage bootloader (--boot-log), and the
 * bootloader's decisions as JSON lines (--boot-trace). */
#ifndef ESP32SIM_CLI_BOOTLOG_H
#define ESP32SIM_CLI_BOOTLOG_H

#include <stdio.h>

#include "esp32sim/device.h"

/* The lines a real ESP32 prints from reset until the app starts, for the
 * board's last boot (docs/boot-log.md). */
void cli_print_boot_log(esim_device *dev, FILE *out);

/* One JSON object per bootloader decision of the last boot, one per line:
 * {"boot": N, "reset_reason": "POWERON", "kind": "...", "entry": ..., "seq":
 * ..., "from": ..., "to": ..., "written": ..., "label": ..., "address": ...,
 * "check": ..., "message": "..."}. Returns 0, or -1 when writing failed. */
int cli_write_boot_trace(esim_device *dev, FILE *out);

#endif
