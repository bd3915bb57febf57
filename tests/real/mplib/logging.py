import logging
import sys
import time

logging.basicConfig(level=logging.DEBUG, stream=sys.stdout)
log = logging.getLogger("app")
log.debug("debug %d", 1)
log.info("info %s=%r", "k", "v")
log.warning("warn %(a)s-%(b)s", {"a": 1, "b": 2})
log.error("error")
log.critical("critical")
logging.info("root info")
print(log.getEffectiveLevel(), log.isEnabledFor(logging.DEBUG))

log.setLevel(logging.ERROR)
log.warning("hidden")
log.error("shown")
print(log.getEffectiveLevel(), log.isEnabledFor(logging.WARNING))

quiet = logging.getLogger("quiet")
h = logging.StreamHandler(sys.stdout)
h.setFormatter(logging.Formatter("%(asctime)s|%(msecs)d|%(levelname)s|%(name)s|%(message)s"))
quiet.addHandler(h)
quiet.setLevel(logging.INFO)
time.sleep_ms(1500)
quiet.info("timed")
print(logging.Formatter().usesTime(), logging.Formatter("%(asctime)s").usesTime())

h.setLevel(logging.WARNING)
quiet.info("filtered by handler")
quiet.warning("passed handler")
logging.addLevelName(25, "NOTICE")
quiet.log(25, "custom %s", "level")
quiet.removeHandler(h)
print(quiet.hasHandlers(), logging.getLogger("quiet") is quiet)

try:
    raise ValueError("bad")
except ValueError as e:
    log.exception("no exc_info on this board")
    log.exception("explicit", exc_info=e)

try:
    logging.basicConfig(filename="x.log", stream=sys.stdout)
except ValueError as e:
    print("ValueError", e)
try:
    log.error("%d items", "many")
except TypeError:
    print("TypeError")
