/* Tests for the board's calendar: seconds since 2000-01-01 to dates and
 * back, weekdays and year days, leap years and the carrying of fields out
 * of range as MicroPython's mktime does. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "esp32sim/calendar.h"

typedef struct {
    int64_t seconds;
    int64_t year;
    int month, mday, hour, minute, second, weekday, yearday;
} known_instant;

/* Worked out independently (Python's datetime). */
static const known_instant known[] = {
    {0, 2000, 1, 1, 0, 0, 0, 5, 1},
    {59 * 86400, 2000, 2, 29, 0, 0, 0, 1, 60},
    {848843107, 2026, 11, 24, 13, 45, 7, 1, 328},
    {3160857600, 2100, 3, 1, 0, 0, 0, 0, 60},
    {-946684800, 1970, 1, 1, 0, 0, 0, 3, 1},
    {1200798848, 2038, 1, 19, 3, 14, 8, 1, 19},
    {4294967295, 2136, 2, 7, 6, 28, 15, 1, 38},
    {-1, 1999, 12, 31, 23, 59, 59, 4, 365},
};

static void test_known_instants_to_dates(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        esim_civil_time t;
        esim_civil_from_seconds(known[i].seconds, &t);
        assert_int_equal(t.year, known[i].year);
        assert_int_equal(t.month, known[i].month);
        assert_int_equal(t.mday, known[i].mday);
        assert_int_equal(t.hour, known[i].hour);
        assert_int_equal(t.minute, known[i].minute);
        assert_int_equal(t.second, known[i].second);
        assert_int_equal(t.weekday, known[i].weekday);
        assert_int_equal(t.yearday, known[i].yearday);
    }
}

static void test_known_dates_to_seconds(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        const known_instant *k = &known[i];
        assert_int_equal(esim_seconds_from_civil(k->year, k->month, k->mday, k->hour, k->minute, k->second),
                         k->seconds);
    }
}

static void test_every_day_of_four_centuries_round_trips(void **state)
{
    (void)state;
    int64_t previous_yearday = 0;
    for (int64_t day = -146097; day < 146097; day++) {
        esim_civil_time t;
        esim_civil_from_seconds(day * 86400 + 3723, &t);
        assert_int_equal(esim_seconds_from_civil(t.year, t.month, t.mday, t.hour, t.minute, t.second),
                         day * 86400 + 3723);
        assert_true(t.yearday == previous_yearday + 1 || t.yearday == 1);
        previous_yearday = t.yearday;
    }
}

static void test_fields_out_of_range_carry(void **state)
{
    (void)state;
    int64_t new_year_2001 = esim_seconds_from_civil(2001, 1, 1, 0, 0, 0);
    assert_int_equal(esim_seconds_from_civil(2000, 13, 1, 0, 0, 0), new_year_2001);
    assert_int_equal(esim_seconds_from_civil(2000, 12, 32, 0, 0, 0), new_year_2001);
    assert_int_equal(esim_seconds_from_civil(2000, 12, 31, 24, 0, 0), new_year_2001);
    assert_int_equal(esim_seconds_from_civil(2000, 12, 31, 23, 59, 60), new_year_2001);
    assert_int_equal(esim_seconds_from_civil(2001, 1, 1, 0, 0, -1), new_year_2001 - 1);
    assert_int_equal(esim_seconds_from_civil(2001, 3, 0, 0, 0, 0), esim_seconds_from_civil(2001, 2, 28, 0, 0, 0));
    assert_int_equal(esim_seconds_from_civil(2000, 0, 1, 0, 0, 0), esim_seconds_from_civil(1999, 12, 1, 0, 0, 0));
    assert_int_equal(esim_seconds_from_civil(2000, -11, 1, 0, 0, 0), esim_seconds_from_civil(1999, 1, 1, 0, 0, 0));
    assert_int_equal(esim_seconds_from_civil(2000, 25, 1, 0, 0, 0), esim_seconds_from_civil(2002, 1, 1, 0, 0, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_instants_to_dates),
        cmocka_unit_test(test_known_dates_to_seconds),
        cmocka_unit_test(test_every_day_of_four_centuries_round_trips),
        cmocka_unit_test(test_fields_out_of_range_carry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
