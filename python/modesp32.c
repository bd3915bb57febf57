/* esp32sim binding — the esp32 module. Its classes live in their own files
 * (esp32_partition.c, …), as in MicroPython's ESP32 port. */
#include "binding.h"

static struct PyModuleDef esp32_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "esp32",
    .m_doc = "Functionality specific to the ESP32, on a simulated board.",
    .m_size = -1,
};

PyObject *esim_py_make_esp32(void)
{
    PyObject *m = PyModule_Create(&esp32_module);
    if (m == NULL)
        return NULL;
    if (esim_py_add_partition_type(m) < 0 || esim_py_add_nvs_type(m) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
