/* esp32sim — helpers shared by the partition table's binary and CSV sides.
 * Not public. */
#ifndef ESP32SIM_PARTTABLE_INTERNAL_H
#define ESP32SIM_PARTTABLE_INTERNAL_H

#include <stddef.h>

/* Length of a label: at most `max` bytes, it need not be NUL-terminated. */
static inline size_t esim_label_len(const char *label, size_t max)
{
    size_t n = 0;
    while (n < max && label[n] != '\0')
        n++;
    return n;
}

#endif
