/* App image verification: esim_image_verify of a 1.5 MiB image (header,
 * segments, checksum, SHA-256) as a ratio to Mbed TLS hashing the same bytes
 * with SHA-256 in the same run.   build/bench/bench_image [rounds] */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <mbedtls/sha256.h>

#include "esp32sim/appimage.h"

#define IMAGE_SIZE (1536u * 1024u)

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double time_verify(const uint8_t *image, size_t len, int rounds)
{
    double best = 1e30;
    for (int i = 0; i < rounds; i++) {
        esim_image_info info;
        double t0 = now();
        esp_err_t err = esim_image_verify(image, len, &info);
        double t = now() - t0;
        if (err != ESP_OK) {
            fprintf(stderr, "bench_image: the image does not verify: %s\n", info.reason);
            exit(1);
        }
        best = t < best ? t : best;
    }
    return best;
}

static double time_sha256(const uint8_t *image, size_t len, int rounds)
{
    double best = 1e30;
    unsigned char digest[32];
    for (int i = 0; i < rounds; i++) {
        double t0 = now();
        mbedtls_sha256_ret(image, len, digest, 0);
        double t = now() - t0;
        best = t < best ? t : best;
    }
    return best;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 20;
    uint8_t *image = NULL;
    size_t len = 0;
    if (rounds < 1 || esim_image_make("bench", "1.0.0", IMAGE_SIZE, &image, &len) != ESP_OK) {
        fprintf(stderr, "bench_image: cannot build the image\n");
        return 1;
    }
    double sha = time_sha256(image, len, rounds);
    double verify = time_verify(image, len, rounds);
    double mib = (double)len / 1048576.0;
    printf("app image of %zu bytes (%.2f MiB), best of %d\n", len, mib, rounds);
    printf("%-34s %8.2f ms  %7.0f MiB/s   1.00x\n", "mbedtls SHA-256 (baseline)", sha * 1e3, mib / sha);
    printf("%-34s %8.2f ms  %7.0f MiB/s  %5.2fx\n", "esim_image_verify", verify * 1e3, mib / verify, verify / sha);
    free(image);
    return 0;
}
