/* esp32sim binding — Device methods about the world around the board
 * (device_world.c), listed in the Device type by modesp32sim.c. */
#ifndef ESP32SIM_PY_DEVICE_WORLD_H
#define ESP32SIM_PY_DEVICE_WORLD_H

#include "binding.h"
#include "esp32sim/sleep.h"

/* The board of a Device object (ValueError when it is closed). */
esim_device *esim_py_device_of(PyObject *device);

PyObject *esim_py_device_set_pin(PyObject *self, PyObject *args);
PyObject *esim_py_device_set_touch(PyObject *self, PyObject *args);
PyObject *esim_py_device_set_temperature(PyObject *self, PyObject *args);
PyObject *esim_py_device_set_adc(PyObject *self, PyObject *args);
PyObject *esim_py_device_stimulus(PyObject *self, PyObject *arg);
PyObject *esim_py_device_load_stimulus(PyObject *self, PyObject *arg);
PyObject *esim_py_device_pin_level(PyObject *self, PyObject *args);
PyObject *esim_py_device_pin_changes(PyObject *self, PyObject *args);
PyObject *esim_py_device_advance_us(PyObject *self, PyObject *args);
PyObject *esim_py_device_get_world_time_us(PyObject *self, void *closure);
PyObject *esim_py_device_get_boot_started_us(PyObject *self, void *closure);
PyObject *esim_py_device_get_time_limit_us(PyObject *self, void *closure);
int esim_py_device_set_time_limit_us(PyObject *self, PyObject *value, void *closure);
PyObject *esim_py_device_get_wake_reason(PyObject *self, void *closure);

#endif
