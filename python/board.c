/* esp32sim binding — the current board the modules act on. */
#include "binding.h"

static esim_device *current_board;
static esim_device *default_board;   /* created on first use when none was chosen */
static uint64_t generation;          /* bumped whenever the current board changes */

esim_device *esim_py_board(void)
{
    if (current_board != NULL)
        return current_board;
    if (default_board == NULL) {
        esim_ptable_error why = {-1, ""};
        esp_err_t err = esim_device_open(NULL, &default_board, &why);
        if (err) {
            PyErr_Format(PyExc_RuntimeError, "cannot create the default board: %s", why.message);
            return NULL;
        }
    }
    current_board = default_board;
    generation++;
    return current_board;
}

void esim_py_set_board(esim_device *dev)
{
    current_board = dev;
    generation++;
}

uint64_t esim_py_board_generation(void)
{
    return generation;
}

esim_device *esim_py_current_board_or_null(void)
{
    return current_board;
}

esim_py_boot_key esim_py_boot_of(const esim_device *dev)
{
    esim_py_boot_key k = {generation, esim_device_boot_count(dev), esim_device_soft_reset_since_boot(dev)};
    return k;
}

esim_py_boot_key esim_py_boot_now(void)
{
    esim_py_boot_key none = {generation, 0, false};
    return current_board != NULL ? esim_py_boot_of(current_board) : none;
}

bool esim_py_same_boot(esim_py_boot_key a, esim_py_boot_key b)
{
    return a.generation == b.generation && a.boot_count == b.boot_count && a.soft_reset == b.soft_reset;
}
