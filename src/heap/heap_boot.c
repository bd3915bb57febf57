/* esp32sim — what the firmware takes from the ESP-IDF heap before boot.py
 * runs (heap.h, docs/heap.md).
 *
 * The sequence is ESP-IDF 5.x start-up on a dual-core ESP32 followed by
 * MicroPython's ports/esp32 app_main() and mp_task(), up to the point where
 * boot.py is executed. Sizes are Kconfig defaults (ESP-IDF) or MicroPython
 * constants where they could be looked up; the rest are plausible sizes of
 * ESP-IDF's structures, marked "chosen". MicroPython's sdkconfig.base sets
 * CONFIG_NEWLIB_NANO_FORMAT=y, so esp_task.h adds no extra 512 bytes to the
 * system tasks' stacks, and it leaves the task stack sizes at their
 * defaults. In ESP-IDF's FreeRTOS stack depths are given in bytes. */
#include "esp32sim/heap.h"

/* FreeRTOS takes task stacks and TCBs, queues and semaphores with
 * heap_caps_malloc(INTERNAL | 8BIT); plain malloc() is
 * heap_caps_malloc_default(): DEFAULT | INTERNAL on a chip without PSRAM. */
#define RTOS_CAPS (ESIM_MALLOC_CAP_INTERNAL | ESIM_MALLOC_CAP_8BIT)
#define MALLOC_CAPS (ESIM_MALLOC_CAP_DEFAULT | ESIM_MALLOC_CAP_INTERNAL)

enum {
    /* A task control block on the ESP32, with newlib's reentrancy struct
     * and two thread-local pointers (CONFIG_FREERTOS_THREAD_LOCAL_STORAGE_
     * POINTERS=2 in sdkconfig.base): chosen, about 0x158 bytes. */
    TCB_BYTES = 344,
    /* A queue or semaphore's Queue_t with its spinlock: chosen. */
    QUEUE_BYTES = 84,
    /* CONFIG_FREERTOS_IDLE_TASK_STACKSIZE default. */
    IDLE_STACK = 1536,
    /* CONFIG_FREERTOS_TIMER_TASK_STACK_DEPTH default; the timer queue is
     * CONFIG_FREERTOS_TIMER_QUEUE_LENGTH (10) messages of 12 bytes (chosen). */
    TIMER_SVC_STACK = 2048,
    TIMER_QUEUE_ITEMS = 10 * 12,
    /* CONFIG_ESP_IPC_TASK_STACK_SIZE default, one task per CPU. */
    IPC_STACK = 1024,
    /* CONFIG_ESP_TIMER_TASK_STACK_SIZE default. */
    ESP_TIMER_STACK = 3584,
    /* CONFIG_ESP_MAIN_TASK_STACK_SIZE default: the task that runs app_main. */
    MAIN_STACK = 3584,
    /* MicroPython's mp_task: MICROPY_TASK_STACK_SIZE (16 * 1024) in
     * ports/esp32/mpconfigport.h. */
    MP_TASK_STACK = 16 * 1024,
    /* heap_caps_init keeps its table of registered heaps on the first DRAM
     * heap: one heap_t (caps, bounds, lock, handle, link) per heap, chosen
     * 40 bytes each. */
    HEAP_T_BYTES = 40,
};

typedef struct {
    uint32_t stack, tcb;
} task;

static esp_err_t take(esim_heaps *h, size_t size, uint32_t caps, uint32_t *out)
{
    uint32_t addr = esim_heap_caps_malloc(h, size, caps);
    if (out)
        *out = addr;
    return addr ? ESP_OK : ESP_ERR_NO_MEM;
}

/* xTaskCreatePinnedToCore: the stack first, then the TCB, since the
 * Xtensa stack grows down (FreeRTOS's portSTACK_GROWTH < 0 order). */
static esp_err_t create_task(esim_heaps *h, size_t stack_bytes, task *out)
{
    task t = {0};
    esp_err_t err = take(h, stack_bytes, RTOS_CAPS, &t.stack);
    if (!err)
        err = take(h, TCB_BYTES, RTOS_CAPS, &t.tcb);
    if (out)
        *out = t;
    return err;
}

/* What a task's deletion gives back (the idle task frees it later). */
static void delete_task(esim_heaps *h, const task *t)
{
    esim_heap_caps_free(h, t->tcb);
    esim_heap_caps_free(h, t->stack);
}

/* Start-up on CPU0 before the scheduler, then vTaskStartScheduler(). The
 * small objects (power-management locks: CONFIG_PM_ENABLE=y in
 * sdkconfig.base; the task watchdog: CONFIG_ESP_TASK_WDT_INIT default;
 * the console's VFS entries; interrupt handles) have chosen sizes. */
static esp_err_t start_idf(esim_heaps *h, task *main_task)
{
    esp_err_t err = take(h, HEAP_T_BYTES * esim_heaps_count(h), RTOS_CAPS, NULL);
    if (!err)   /* esp_timer: its interrupt handle, then its task */
        err = take(h, 32, MALLOC_CAPS, NULL);
    if (!err)
        err = create_task(h, ESP_TIMER_STACK, NULL);
    if (!err)   /* IPC: one task per CPU ("ipc0", "ipc1") */
        err = create_task(h, IPC_STACK, NULL);
    if (!err)
        err = create_task(h, IPC_STACK, NULL);
    if (!err)   /* esp_pm locks "rtos0" and "rtos1" */
        err = take(h, 48, MALLOC_CAPS, NULL);
    if (!err)
        err = take(h, 48, MALLOC_CAPS, NULL);
    if (!err)   /* task watchdog object */
        err = take(h, 32, MALLOC_CAPS, NULL);
    if (!err)   /* VFS entries for /dev/uart and /dev/console */
        err = take(h, 52, MALLOC_CAPS, NULL);
    if (!err)
        err = take(h, 52, MALLOC_CAPS, NULL);
    if (!err)   /* the "main" task that will call app_main() */
        err = create_task(h, MAIN_STACK, main_task);
    if (!err)   /* vTaskStartScheduler: IDLE0, IDLE1, then the timer service */
        err = create_task(h, IDLE_STACK, NULL);
    if (!err)
        err = create_task(h, IDLE_STACK, NULL);
    if (!err)
        err = take(h, QUEUE_BYTES + TIMER_QUEUE_ITEMS, RTOS_CAPS, NULL);
    if (!err)
        err = create_task(h, TIMER_SVC_STACK, NULL);
    return err;
}

/* app_main(): boardctrl_startup() runs nvs_flash_init() on the "nvs"
 * partition (6 pages in MicroPython's partition tables), then mp_task is
 * created. NVS sizes are chosen: its lock, the partition object, the
 * storage object, the page array, one hash-list block. */
static esp_err_t run_app_main(esim_heaps *h)
{
    esp_err_t err = take(h, QUEUE_BYTES, RTOS_CAPS, NULL);
    if (!err)
        err = take(h, 56, MALLOC_CAPS, NULL);
    if (!err)
        err = take(h, 96, MALLOC_CAPS, NULL);
    if (!err)
        err = take(h, 6 * 112, MALLOC_CAPS, NULL);
    if (!err)
        err = take(h, 128, MALLOC_CAPS, NULL);
    if (!err)
        err = create_task(h, MP_TASK_STACK, NULL);
    return err;
}

/* mp_task(), up to gc_init(): the UART REPL's interrupt handle (chosen),
 * then the GC heap: MP_PLAT_ALLOC_HEAP(MICROPY_GC_INITIAL_HEAP_SIZE), a
 * plain malloc of 56 KiB on the ESP32. MicroPython's split heap
 * (MICROPY_GC_SPLIT_HEAP_AUTO) takes more from ESP-IDF later, when Python
 * code needs it; a freshly booted board has just this one. */
#define GC_INITIAL_HEAP_BYTES (56u * 1024u)

static esp_err_t take_gc_heap(esim_heaps *h, uint32_t *gc_heap, size_t *gc_heap_size)
{
    esp_err_t err = take(h, 32, MALLOC_CAPS, NULL);
    if (err)
        return err;
    err = take(h, GC_INITIAL_HEAP_BYTES, MALLOC_CAPS, gc_heap);
    if (gc_heap_size)
        *gc_heap_size = err ? 0 : GC_INITIAL_HEAP_BYTES;
    return err;
}

/* After gc_init() and before boot.py: machine_pins_init() installs the
 * GPIO ISR service (one 8-byte handler slot per GPIO pin, 40 pins, and an
 * interrupt handle), and _boot.py's esp32.Partition lookup makes
 * esp_partition_find() load the partition list (4 entries of MicroPython's
 * table: nvs, phy_init, factory, vfs; chosen 64 bytes each) through an
 * iterator it frees again. */
static esp_err_t before_boot_py(esim_heaps *h)
{
    esp_err_t err = take(h, 40 * 8, MALLOC_CAPS, NULL);
    if (!err)
        err = take(h, 32, MALLOC_CAPS, NULL);
    for (int i = 0; !err && i < 4; i++)
        err = take(h, 64, MALLOC_CAPS, NULL);
    uint32_t iterator = 0;
    if (!err)
        err = take(h, 24, MALLOC_CAPS, &iterator);
    esim_heap_caps_free(h, iterator);
    return err;
}

esp_err_t esim_heaps_boot_firmware(esim_heaps *heaps, uint32_t *gc_heap, size_t *gc_heap_size)
{
    if (gc_heap)
        *gc_heap = 0;
    if (gc_heap_size)
        *gc_heap_size = 0;
    if (!heaps)
        return ESP_ERR_INVALID_ARG;
    esim_heaps_reset(heaps);
    task main_task = {0};
    esp_err_t err = start_idf(heaps, &main_task);
    if (!err)
        err = run_app_main(heaps);
    /* app_main() returns and the main task deletes itself; CPU0's idle task
     * frees its stack and TCB at once, while mp_task, pinned to CPU1
     * (MP_TASK_COREID is 1 on a dual-core chip), is still setting up. */
    if (!err)
        delete_task(heaps, &main_task);
    if (!err)
        err = take_gc_heap(heaps, gc_heap, gc_heap_size);
    if (!err)
        err = before_boot_py(heaps);
    return err;
}
