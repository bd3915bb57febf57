/* esp32sim binding — what the files of the board's asyncio module share
 * (modasyncio.c: the module and its run loop; asyncio_task.c: tasks, queues
 * and the awaitables built in C; asyncio_sync.c: Event, Lock,
 * ThreadSafeFlag, gather and wait_for). docs/asyncio.md describes it. */
#ifndef ESP32SIM_PY_ASYNCIO_INTERNAL_H
#define ESP32SIM_PY_ASYNCIO_INTERNAL_H

#include "binding.h"

/* Tasks ordered by the millisecond they may run at; tasks due at the same
 * millisecond keep the order they were pushed in. Holds references. */
typedef struct esim_aio_task esim_aio_task;
typedef struct {
    esim_aio_task **items;
    size_t len, cap;
} esim_aio_queue;

typedef enum { AIO_RUNNING, AIO_DONE_UNAWAITED, AIO_DONE_AWAITED } esim_aio_task_state;

struct esim_aio_task {
    PyObject_HEAD
    PyObject *module;        /* the asyncio module (its state) */
    PyObject *coro;          /* NULL: the loop's stopper, done when it runs */
    esim_aio_task_state state;
    bool has_waiters;        /* some task awaits it (MicroPython: state is a queue) */
    esim_aio_queue waiters;
    PyObject *on_done;       /* the gather waiting for it, or NULL */
    PyObject *wait_on;       /* what it waits on (Event, Lock, Task, flag, gather) */
    PyObject *data;          /* pending exception to throw in, or when done the
                              * StopIteration holding its value / its exception */
    esim_aio_queue *queue;   /* the queue it is in, or NULL */
    uint64_t key_ms;
};

/* The module's state: one event loop per interpreter, forgotten at each
 * new boot of the board. */
typedef struct {
    esim_py_boot_key boot;
    bool booted;             /* boot holds the boot it was last used in */
    esim_aio_queue run_queue;
    PyObject *cur_task;      /* the task running, or NULL */
    PyObject *stop_task;     /* run_forever's, until stop() queues it */
    PyObject *exc_handler;   /* NULL: the default one */
    PyObject *flags;         /* list of ThreadSafeFlags a task waits on */
    PyObject *loop;          /* the Loop object */
    PyObject *CancelledError, *TimeoutError;
    PyTypeObject *task_type, *op_type, *event_type, *lock_type, *flag_type, *loop_type;
} esim_aio_state;

esim_aio_state *esim_aio_state_of(PyObject *module);

/* The state with the loop emptied if the board has started a new boot
 * since it was last used. */
esim_aio_state *esim_aio_fresh_state(PyObject *module);

/* The board's clock in milliseconds since boot (no time passes). -1 with
 * an exception set when there is no board. */
int esim_aio_now_ms(uint64_t *ms);

/* ---- queues (asyncio_task.c) ---- */
int esim_aio_queue_push(esim_aio_queue *q, esim_aio_task *t, uint64_t key_ms);
esim_aio_task *esim_aio_queue_pop(esim_aio_queue *q);   /* new reference */
void esim_aio_queue_remove(esim_aio_queue *q, esim_aio_task *t);
void esim_aio_queue_clear(esim_aio_queue *q);
int esim_aio_queue_traverse(esim_aio_queue *q, visitproc visit, void *arg);

/* Put `t` on the run queue to run now (at_ms: at that millisecond);
 * what it waited on is forgotten. */
int esim_aio_schedule(esim_aio_state *st, esim_aio_task *t);
int esim_aio_schedule_at(esim_aio_state *st, esim_aio_task *t, uint64_t at_ms);
/* Make `t` wait in `q` (an Event's, a Lock's, a Task's waiters) on `wait_on`. */
int esim_aio_wait_in(esim_aio_queue *q, esim_aio_task *t, PyObject *wait_on);

/* ---- tasks (asyncio_task.c) ---- */
int esim_aio_add_task_type(PyObject *module, esim_aio_state *st);
esim_aio_task *esim_aio_new_task(PyObject *module, PyObject *coro);
/* create_task: a new task for `coro`, queued to run. */
PyObject *esim_aio_create_task(PyObject *module, PyObject *coro);
/* aw itself when it is a Task, else create_task(aw). */
PyObject *esim_aio_promote(PyObject *module, PyObject *aw);
/* Task.cancel(): 1 when cancelled, 0 when already done, -1 on error. */
int esim_aio_cancel(esim_aio_task *t);
/* The first step of `await task` (MicroPython's Task.__iter__). */
int esim_aio_begin_await(esim_aio_task *t);
/* The running task, or NULL with RuntimeError set. */
esim_aio_task *esim_aio_current(esim_aio_state *st);
/* Let the wait relation of `t` go (what it waits on forgets it). */
void esim_aio_set_wait(esim_aio_task *t, PyObject *wait_on);

/* ---- awaitables built in C (asyncio_task.c) ----
 * An op is awaited once; its step function runs at each resumption. */
typedef enum { OP_YIELD, OP_AWAIT, OP_DONE, OP_ERROR } esim_aio_step;
typedef struct esim_aio_op esim_aio_op;
/* `value` is the result of the last await (borrowed), NULL with an
 * exception set when it raised or one was thrown in. OP_DONE sets
 * op->result; OP_AWAIT sets op->sub. */
typedef esim_aio_step (*esim_aio_step_fn)(esim_aio_op *op, PyObject *value);
struct esim_aio_op {
    PyObject_HEAD
    PyObject *module;
    esim_aio_step_fn step;
    int stage;
    PyObject *sub;          /* what it awaits now (a Task or another op) */
    PyObject *result;
    PyObject *obj[4];
    long long num[2];
};
esim_aio_op *esim_aio_new_op(PyObject *module, esim_aio_step_fn step);
/* An op that sleeps until the board's clock reaches at_ms. */
PyObject *esim_aio_sleep_until(PyObject *module, uint64_t at_ms);
int esim_aio_sleep_key(PyObject *arg, bool seconds, uint64_t *at_ms);

/* ---- Event, Lock, ThreadSafeFlag, gather, wait_for (asyncio_sync.c) ---- */
int esim_aio_add_sync_types(PyObject *module, esim_aio_state *st);
/* What `t` waits on lets it go (it is being cancelled). */
void esim_aio_sync_forget(esim_aio_state *st, PyObject *wait_on, esim_aio_task *t);
/* A gather's sub-task finished with `er` (StopIteration or exception). */
int esim_aio_gather_child_done(PyObject *gather, esim_aio_task *t, PyObject *er);
/* Queue the tasks whose ThreadSafeFlag is set. */
int esim_aio_poll_flags(esim_aio_state *st);
PyObject *esim_aio_gather(PyObject *module, PyObject *args, PyObject *kwargs);
PyObject *esim_aio_wait_for(PyObject *module, PyObject *args, PyObject *kwargs);
PyObject *esim_aio_wait_for_ms(PyObject *module, PyObject *args, PyObject *kwargs);

#endif
