/* Boots of the simulated board in a reset loop (C core only): each
 * machine.reset() runs the partition-table read, the bootloader's choice
 * with full verification of the 1.4 MiB firmware image, NVS mount and the
 * filesystem's cwd reset. The baseline is Mbed TLS hashing the firmware
 * image once with SHA-256 in the same run (the verification's main cost).
 *     build/bench/bench_boot [boots] */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <mbedtls/sha256.h>

#include "esp32sim/device.h"
#include "esp32sim/flash.h"

#define FIRMWARE_ADDR 0x10000u
#define FIRMWARE_LEN  0x160000u

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double seconds_per_boot(const char *layout, int boots)
{
    esim_device_config cfg = {.layout = layout};
    esim_device *dev = NULL;
    if (esim_device_open(&cfg, &dev, NULL) != ESP_OK) {
        fprintf(stderr, "bench_boot: cannot open a %s board\n", layout);
        exit(1);
    }
    double t0 = now();
    for (int i = 0; i < boots; i++)
        if (esim_device_hard_reset(dev, ESIM_RST_SW) != ESP_OK || esim_device_boot_error(dev) != NULL) {
            fprintf(stderr, "bench_boot: the board did not boot\n");
            exit(1);
        }
    double t = (now() - t0) / boots;
    esim_device_close(dev);
    return t;
}

static double seconds_per_hash(int rounds)
{
    esim_device *dev = NULL;
    if (esim_device_open(NULL, &dev, NULL) != ESP_OK)
        exit(1);
    const uint8_t *image = esim_flash_peek(esim_device_flash(dev)) + FIRMWARE_ADDR;
    unsigned char digest[32];
    double t0 = now();
    for (int i = 0; i < rounds; i++)
        mbedtls_sha256_ret(image, FIRMWARE_LEN, digest, 0);
    double t = (now() - t0) / rounds;
    esim_device_close(dev);
    return t;
}

int main(int argc, char **argv)
{
    int boots = argc > 1 ? atoi(argv[1]) : 200;
    if (boots < 1) {
        fprintf(stderr, "usage: bench_boot [boots]\n");
        return 2;
    }
    double hash = seconds_per_hash(boots);
    double def = seconds_per_boot("default", boots);
    double ota = seconds_per_boot("ota", boots);
    printf("%d boots each, 4 MiB board in memory, 1.4 MiB firmware image verified at every boot\n", boots);
    printf("%-44s %8.3f ms            1.00x\n", "SHA-256 of the firmware (Mbed TLS, baseline)", hash * 1e3);
    printf("%-44s %8.3f ms %7.0f/s  %5.2fx\n", "hard reset, default layout (factory)", def * 1e3, 1 / def, def / hash);
    printf("%-44s %8.3f ms %7.0f/s  %5.2fx\n", "hard reset, ota layout (otadata, ota_0)", ota * 1e3, 1 / ota, ota / hash);
    return 0;
}
