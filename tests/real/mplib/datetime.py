import time
from datetime import date, datetime, time as dtime, timedelta, timezone
td = timedelta(days=1, hours=2, minutes=3, seconds=4, milliseconds=5)
print(td, td.days, td.seconds, td.microseconds, timedelta(minutes=1, seconds=30).total_seconds())
print(-td, timedelta(hours=-1), abs(timedelta(hours=-1)), timedelta(weeks=2).days)
print(td * 2, td // 2, timedelta(hours=3) / timedelta(minutes=30), timedelta(0) == timedelta(), bool(timedelta(0)))
print(repr(timedelta(seconds=1)), timedelta(microseconds=1500).isoformat())
d = date(2024, 2, 28)
print(d, d + timedelta(days=1), d + timedelta(days=2), d.weekday(), d.isoweekday())
print(date(2024, 3, 1) - d, d.toordinal(), date.fromordinal(738944), date.fromisoformat("1999-12-31"))
print(d.replace(day=29), d.timetuple(), d < date(2024, 3, 1), d == date(2024, 2, 28))
print(date.today(), date.fromtimestamp(86400 * 366))
dt = datetime(2021, 12, 31, 23, 59, 59, 500000)
print(dt, dt + timedelta(seconds=1), dt.isoformat(timespec="seconds"))
print(dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second, dt.microsecond)
print(dt.date(), dt.time(), datetime(2022, 1, 1) - dt)
tz = timezone(timedelta(hours=5, minutes=30))
aware = datetime(2020, 6, 1, 12, 0, tzinfo=tz)
print(aware, aware.utcoffset(), aware.tzname(), tz)
print(aware.astimezone(timezone.utc), (aware - datetime.EPOCH).days)
print(datetime.fromisoformat("2011-11-04T00:05:23+04:00"))
print(datetime.fromtimestamp(0), datetime.fromtimestamp(946684800, timezone.utc))
print(datetime.now(timezone.utc))
time.sleep(30)
print(datetime.now(timezone.utc), date.today())
print(datetime.combine(date(2000, 1, 2), dtime(3, 4, 5)), dtime(13, 5, 7, 120).isoformat())
print(datetime(2000, 1, 1) < datetime(2000, 1, 2), datetime(2000, 1, 1) == datetime(2000, 1, 1, 0))
for args in ((2023, 2, 29), (2023, 13, 1), (0, 1, 1)):
    try:
        date(*args)
    except ValueError:
        print("ValueError", args)
try:
    dtime(24)
except ValueError:
    print("ValueError hour")
try:
    aware - datetime(2020, 6, 1)
except TypeError:
    print("TypeError naive-aware")
try:
    datetime(2020, 1, 1).timestamp()
except NotImplementedError:
    print("NotImplementedError")
