# Import shim: the btree module is built in C by the _esp32sim extension.
import sys
import _esp32sim

sys.modules[__name__] = _esp32sim.btree
