/* esp32sim — the board's calendar (include/esp32sim/calendar.h).
 *
 * Days are counted in the proleptic Gregorian calendar through a year that
 * starts on 1 March, so the leap day is the last day of its year and a
 * month's first day is a linear function of its number (153 days in every
 * five months from March). */
#include "esp32sim/calendar.h"

#define SECONDS_PER_DAY 86400
#define DAYS_PER_ERA 146097            /* 400 Gregorian years */
#define DAYS_0000_03_01_TO_2000_01_01 730425
#define SATURDAY 5                     /* 2000-01-01, Monday being 0 */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
    return a - floor_div(a, b) * b;
}

static int is_leap(int64_t year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

/* Days from 2000-01-01 to year-month-01, month 1..12. */
static int64_t days_to_month(int64_t year, int month)
{
    int64_t y = month <= 2 ? year - 1 : year;
    int64_t era = floor_div(y, 400);
    int64_t year_of_era = y - era * 400;
    int64_t march_month = month > 2 ? month - 3 : month + 9;
    int64_t day_of_year = (153 * march_month + 2) / 5;
    int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * DAYS_PER_ERA + day_of_era - DAYS_0000_03_01_TO_2000_01_01;
}

static int days_before_month(int64_t year, int month)
{
    static const int cumulative[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
    return cumulative[month - 1] + (month > 2 && is_leap(year));
}

static void date_from_days(int64_t days, esim_civil_time *out)
{
    int64_t z = days + DAYS_0000_03_01_TO_2000_01_01;
    int64_t era = floor_div(z, DAYS_PER_ERA);
    int64_t day_of_era = z - era * DAYS_PER_ERA;
    int64_t year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    int64_t march_month = (5 * day_of_year + 2) / 153;
    out->mday = (int)(day_of_year - (153 * march_month + 2) / 5 + 1);
    out->month = (int)(march_month < 10 ? march_month + 3 : march_month - 9);
    out->year = year_of_era + era * 400 + (out->month <= 2);
    out->weekday = (int)floor_mod(days + SATURDAY, 7);
    out->yearday = days_before_month(out->year, out->month) + out->mday;
}

void esim_civil_from_seconds(int64_t seconds, esim_civil_time *out)
{
    int64_t days = floor_div(seconds, SECONDS_PER_DAY);
    int64_t in_day = seconds - days * SECONDS_PER_DAY;
    out->hour = (int)(in_day / 3600);
    out->minute = (int)(in_day / 60 % 60);
    out->second = (int)(in_day % 60);
    date_from_days(days, out);
}

int64_t esim_seconds_from_civil(int64_t year, int64_t month, int64_t mday, int64_t hour, int64_t minute,
                                int64_t second)
{
    int64_t month0 = month - 1;
    year += floor_div(month0, 12);
    int64_t days = days_to_month(year, (int)floor_mod(month0, 12) + 1) + mday - 1;
    return days * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second;
}
