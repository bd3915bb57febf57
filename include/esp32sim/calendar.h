/* esp32sim — the board's calendar: seconds on the RTC, counted from the
 * ESP32 port's epoch 2000-01-01 00:00:00, to and from a civil date and
 * time (proleptic Gregorian, no time zone: the board's local time is UTC).
 * Used by machine.RTC and time.localtime/gmtime/mktime. */
#ifndef ESP32SIM_CALENDAR_H
#define ESP32SIM_CALENDAR_H

#include <stdint.h>

typedef struct {
    int64_t year;     /* full year, e.g. 2026 */
    int month;        /* 1..12 */
    int mday;         /* 1..31 */
    int hour;         /* 0..23 */
    int minute;       /* 0..59 */
    int second;       /* 0..59 */
    int weekday;      /* 0..6, Monday is 0 */
    int yearday;      /* 1..366 */
} esim_civil_time;

/* The date and time `seconds` after the epoch (negative: before it). */
void esim_civil_from_seconds(int64_t seconds, esim_civil_time *out);

/* Seconds after the epoch of a date and time. Fields out of range are
 * carried as MicroPython's mktime carries them: second 60 is the next
 * minute, month 13 January of the next year, mday 0 the last day of the
 * previous month, negative values count back. */
int64_t esim_seconds_from_civil(int64_t year, int64_t month, int64_t mday, int64_t hour, int64_t minute,
                                int64_t second);

#endif
