# An application split into a package in /lib, with relative imports and
# a lazily loaded submodule, as micropython-lib packages are laid out.
import sensors
from sensors import units
from sensors.filters import moving_average

print(sensors.__name__, sensors.VERSION)
print(units.c_to_f(21.5), units.c_to_f(-40))
print(moving_average([1, 2, 3, 4, 5, 6], 3))
print(sensors.calibrate(100))
