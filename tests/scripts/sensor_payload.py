# Pack readings for an uplink the way sensor firmware does: a binary
# record, its hex and base64 forms, a SHA-256 tag and a JSON summary.
import ustruct
import ubinascii
import uhashlib
import ujson
import ucollections

Reading = ucollections.namedtuple("Reading", ("seq", "temp_c10", "humidity", "battery_mv"))
readings = [Reading(1, 215, 48, 3712), Reading(2, -35, 91, 3698)]

record = b"".join(ustruct.pack("<HhBH", *r) for r in readings)
print(len(record), ubinascii.hexlify(record))
print(ubinascii.b2a_base64(record))
print(ubinascii.hexlify(uhashlib.sha256(record).digest()[:8]))
print(ustruct.unpack_from("<HhBH", record, ustruct.calcsize("<HhBH")))

summary = ucollections.OrderedDict()
summary["n"] = len(readings)
summary["min_c"] = min(r.temp_c10 for r in readings) / 10
summary["ok"] = all(r.battery_mv > 3600 for r in readings)
text = ujson.dumps(summary)
print(text)
print(ujson.loads(text)["min_c"])
