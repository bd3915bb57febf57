/* esp32sim binding — asyncio's tasks, its queues and the awaitables made in
 * C (docs/asyncio.md).
 *
 * A queue keeps tasks in the order of the millisecond they may run at,
 * first pushed first among equals, as MicroPython's pairing heap does. A
 * task waiting on something sits in that thing's queue (an Event's, a
 * Lock's, the waiters of a Task) and remembers it in wait_on, so that
 * cancelling it can take it out and run it at once.
 *
 * An "op" is an awaitable made in C: a small state machine whose step
 * function runs each time the coroutine awaiting it is resumed. A step
 * yields to the loop (after queueing the task somewhere), awaits a Task or
 * another op, or ends with a value or an exception. */
#include "asyncio_internal.h"

/* ---- queues ---- */

int esim_aio_queue_push(esim_aio_queue *q, esim_aio_task *t, uint64_t key_ms)
{
    if (q->len == q->cap) {
        size_t cap = q->cap ? 2 * q->cap : 8;
        esim_aio_task **items = PyMem_Realloc(q->items, cap * sizeof *items);
        if (items == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        q->items = items;
        q->cap = cap;
    }
    size_t at = q->len;
    while (at > 0 && q->items[at - 1]->key_ms > key_ms)
        at--;
    memmove(q->items + at + 1, q->items + at, (q->len - at) * sizeof *q->items);
    q->items[at] = (esim_aio_task *)Py_NewRef(t);
    q->len++;
    t->key_ms = key_ms;
    t->queue = q;
    return 0;
}

static void queue_take(esim_aio_queue *q, size_t at)
{
    q->items[at]->queue = NULL;
    memmove(q->items + at, q->items + at + 1, (q->len - at - 1) * sizeof *q->items);
    q->len--;
}

esim_aio_task *esim_aio_queue_pop(esim_aio_queue *q)
{
    if (q->len == 0)
        return NULL;
    esim_aio_task *t = q->items[0];
    queue_take(q, 0);
    return t;
}

void esim_aio_queue_remove(esim_aio_queue *q, esim_aio_task *t)
{
    for (size_t i = 0; i < q->len; i++) {
        if (q->items[i] == t) {
            queue_take(q, i);
            Py_DECREF(t);
            return;
        }
    }
}

void esim_aio_queue_clear(esim_aio_queue *q)
{
    while (q->len > 0)
        Py_DECREF(esim_aio_queue_pop(q));
    PyMem_Free(q->items);
    q->items = NULL;
    q->cap = 0;
}

int esim_aio_queue_traverse(esim_aio_queue *q, visitproc visit, void *arg)
{
    for (size_t i = 0; i < q->len; i++)
        Py_VISIT(q->items[i]);
    return 0;
}

/* ---- scheduling ---- */

void esim_aio_set_wait(esim_aio_task *t, PyObject *wait_on)
{
    Py_XSETREF(t->wait_on, Py_XNewRef(wait_on));
}

/* Out of whatever queue or flag it waits in; it keeps a reference. */
static void unqueue(esim_aio_state *st, esim_aio_task *t)
{
    Py_INCREF(t);
    if (t->queue != NULL)
        esim_aio_queue_remove(t->queue, t);
    if (t->wait_on != NULL)
        esim_aio_sync_forget(st, t->wait_on, t);
    esim_aio_set_wait(t, NULL);
    Py_CLEAR(t->data);
    Py_DECREF(t);
}

int esim_aio_schedule_at(esim_aio_state *st, esim_aio_task *t, uint64_t at_ms)
{
    Py_INCREF(t);
    unqueue(st, t);
    int err = esim_aio_queue_push(&st->run_queue, t, at_ms);
    Py_DECREF(t);
    return err;
}

int esim_aio_schedule(esim_aio_state *st, esim_aio_task *t)
{
    uint64_t now;
    if (esim_aio_now_ms(&now))
        return -1;
    return esim_aio_schedule_at(st, t, now);
}

int esim_aio_wait_in(esim_aio_queue *q, esim_aio_task *t, PyObject *wait_on)
{
    uint64_t now;
    if (esim_aio_now_ms(&now) || esim_aio_queue_push(q, t, now))
        return -1;
    esim_aio_set_wait(t, wait_on);
    return 0;
}

esim_aio_task *esim_aio_current(esim_aio_state *st)
{
    if (st->cur_task == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "no running event loop");
        return NULL;
    }
    return (esim_aio_task *)st->cur_task;
}

/* ---- Task ---- */

static int task_traverse(PyObject *self, visitproc visit, void *arg)
{
    esim_aio_task *t = (esim_aio_task *)self;
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(t->module);
    Py_VISIT(t->coro);
    Py_VISIT(t->on_done);
    Py_VISIT(t->wait_on);
    Py_VISIT(t->data);
    return esim_aio_queue_traverse(&t->waiters, visit, arg);
}

static int task_clear(PyObject *self)
{
    esim_aio_task *t = (esim_aio_task *)self;
    Py_CLEAR(t->module);
    Py_CLEAR(t->coro);
    Py_CLEAR(t->on_done);
    Py_CLEAR(t->wait_on);
    Py_CLEAR(t->data);
    esim_aio_queue_clear(&t->waiters);
    return 0;
}

static void task_dealloc(PyObject *self)
{
    PyTypeObject *type = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    task_clear(self);
    type->tp_free(self);
    Py_DECREF(type);
}

esim_aio_task *esim_aio_new_task(PyObject *module, PyObject *coro)
{
    esim_aio_state *st = esim_aio_state_of(module);
    esim_aio_task *t = PyObject_GC_New(esim_aio_task, st->task_type);
    if (t == NULL)
        return NULL;
    t->module = Py_NewRef(module);
    t->coro = Py_XNewRef(coro);
    t->state = AIO_RUNNING;
    t->has_waiters = false;
    t->waiters = (esim_aio_queue){NULL, 0, 0};
    t->on_done = NULL;
    t->wait_on = NULL;
    t->data = NULL;
    t->queue = NULL;
    t->key_ms = 0;
    PyObject_GC_Track((PyObject *)t);
    return t;
}

PyObject *esim_aio_create_task(PyObject *module, PyObject *coro)
{
    if (!PyObject_HasAttrString(coro, "send")) {
        PyErr_SetString(PyExc_TypeError, "coroutine expected");
        return NULL;
    }
    esim_aio_state *st = esim_aio_fresh_state(module);
    esim_aio_task *t = st ? esim_aio_new_task(module, coro) : NULL;
    if (t != NULL && esim_aio_schedule(st, t) < 0)
        Py_CLEAR(t);
    return (PyObject *)t;
}

PyObject *esim_aio_promote(PyObject *module, PyObject *aw)
{
    if (Py_IS_TYPE(aw, esim_aio_state_of(module)->task_type))
        return Py_NewRef(aw);
    return esim_aio_create_task(module, aw);
}

int esim_aio_cancel(esim_aio_task *t)
{
    if (t->state != AIO_RUNNING)
        return 0;
    esim_aio_state *st = esim_aio_state_of(t->module);
    if ((PyObject *)t == st->cur_task) {
        PyErr_SetString(PyExc_RuntimeError, "can't cancel self");
        return -1;
    }
    /* A task awaiting another passes the cancel on to it. */
    while (t->wait_on != NULL && Py_IS_TYPE(t->wait_on, st->task_type))
        t = (esim_aio_task *)t->wait_on;
    uint64_t now;
    if (esim_aio_now_ms(&now))
        return -1;
    bool waiting = t->wait_on != NULL;
    bool sleeping = t->queue == &st->run_queue && t->key_ms > now;
    if ((waiting || sleeping) && esim_aio_schedule_at(st, t, now) < 0)
        return -1;
    Py_XSETREF(t->data, Py_NewRef(st->CancelledError));
    return 1;
}

int esim_aio_begin_await(esim_aio_task *t)
{
    if (t->state != AIO_RUNNING) {
        t->state = AIO_DONE_AWAITED;
        return 0;
    }
    if (t->on_done != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "can't wait");
        return -1;
    }
    t->has_waiters = true;
    return 0;
}

/* Raise what a finished task ended with: its value as StopIteration. */
static PyObject *raise_outcome(PyObject *data)
{
    if (data == NULL)
        PyErr_SetNone(PyExc_StopIteration);
    else
        PyErr_SetObject((PyObject *)Py_TYPE(data), data);
    return NULL;
}

static PyObject *task_next(PyObject *self)
{
    esim_aio_task *t = (esim_aio_task *)self;
    if (t->state != AIO_RUNNING)
        return raise_outcome(t->data);
    esim_aio_task *cur = esim_aio_current(esim_aio_state_of(t->module));
    if (cur == NULL || esim_aio_wait_in(&t->waiters, cur, self) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *task_await(PyObject *self)
{
    if (esim_aio_begin_await((esim_aio_task *)self) < 0)
        return NULL;
    return Py_NewRef(self);
}

static PyObject *task_cancel(PyObject *self, PyObject *unused)
{
    (void)unused;
    int r = esim_aio_cancel((esim_aio_task *)self);
    return r < 0 ? NULL : PyBool_FromLong(r);
}

static PyObject *task_done(PyObject *self, PyObject *unused)
{
    (void)unused;
    return PyBool_FromLong(((esim_aio_task *)self)->state != AIO_RUNNING);
}

static PyObject *task_repr(PyObject *self)
{
    (void)self;
    return PyUnicode_FromString("<Task>");
}

static PyObject *task_get_coro(PyObject *self, void *closure)
{
    (void)closure;
    esim_aio_task *t = (esim_aio_task *)self;
    return Py_NewRef(t->coro ? t->coro : Py_None);
}

static PyObject *task_get_data(PyObject *self, void *closure)
{
    (void)closure;
    esim_aio_task *t = (esim_aio_task *)self;
    PyObject *data = t->data ? t->data : t->wait_on;
    return Py_NewRef(data ? data : Py_None);
}

static PyMethodDef task_methods[] = {
    {"cancel", task_cancel, METH_NOARGS, "cancel(): throw CancelledError into the task; False when it is done."},
    {"done", task_done, METH_NOARGS, "done(): True when the task has finished."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef task_getset[] = {
    {"coro", task_get_coro, NULL, "The coroutine the task runs.", NULL},
    {"data", task_get_data, NULL, "What the task waits on, or its outcome.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot task_slots[] = {
    {Py_tp_dealloc, task_dealloc},
    {Py_tp_traverse, task_traverse},
    {Py_tp_clear, task_clear},
    {Py_tp_repr, task_repr},
    {Py_tp_iter, PyObject_SelfIter},
    {Py_tp_iternext, task_next},
    {Py_am_await, task_await},
    {Py_tp_methods, task_methods},
    {Py_tp_getset, task_getset},
    {Py_tp_doc, "A coroutine run by the loop; await it for its result."},
    {0, NULL},
};

static PyType_Spec task_spec = {
    .name = "asyncio.Task",
    .basicsize = sizeof(esim_aio_task),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = task_slots,
};

/* ---- ops ---- */

static int op_traverse(PyObject *self, visitproc visit, void *arg)
{
    esim_aio_op *op = (esim_aio_op *)self;
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(op->module);
    Py_VISIT(op->sub);
    Py_VISIT(op->result);
    for (int i = 0; i < 4; i++)
        Py_VISIT(op->obj[i]);
    return 0;
}

static int op_clear(PyObject *self)
{
    esim_aio_op *op = (esim_aio_op *)self;
    Py_CLEAR(op->module);
    Py_CLEAR(op->sub);
    Py_CLEAR(op->result);
    for (int i = 0; i < 4; i++)
        Py_CLEAR(op->obj[i]);
    return 0;
}

static void op_dealloc(PyObject *self)
{
    PyTypeObject *type = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    op_clear(self);
    type->tp_free(self);
    Py_DECREF(type);
}

esim_aio_op *esim_aio_new_op(PyObject *module, esim_aio_step_fn step)
{
    esim_aio_op *op = PyObject_GC_New(esim_aio_op, esim_aio_state_of(module)->op_type);
    if (op == NULL)
        return NULL;
    op->module = Py_NewRef(module);
    op->step = step;
    op->stage = 0;
    op->sub = NULL;
    op->result = NULL;
    for (int i = 0; i < 4; i++)
        op->obj[i] = NULL;
    op->num[0] = op->num[1] = 0;
    PyObject_GC_Track((PyObject *)op);
    return op;
}

static void raise_instance(PyObject *exc)
{
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
}

static PyObject *op_resume(esim_aio_op *op, PyObject *thrown);

/* Resume what `op` awaits: its yield, or NULL when it finished, with its
 * value in *value (new reference) or its exception set. */
static PyObject *advance_sub(esim_aio_op *op, PyObject *thrown, PyObject **value)
{
    PyObject *sub = Py_NewRef(op->sub);
    PyObject *yielded;
    if (Py_IS_TYPE(sub, Py_TYPE(op)))
        yielded = op_resume((esim_aio_op *)sub, thrown);
    else if (thrown != NULL)
        yielded = NULL, raise_instance(thrown);
    else
        yielded = Py_TYPE(sub)->tp_iternext(sub);
    *value = NULL;
    if (yielded == NULL) {
        Py_CLEAR(op->sub);
        if (!PyErr_Occurred())
            *value = Py_NewRef(Py_None);
        else if (PyErr_ExceptionMatches(PyExc_StopIteration)) {
            PyObject *type, *exc, *tb;
            PyErr_Fetch(&type, &exc, &tb);
            PyErr_NormalizeException(&type, &exc, &tb);
            *value = exc ? PyObject_GetAttrString(exc, "value") : Py_NewRef(Py_None);
            Py_XDECREF(type);
            Py_XDECREF(exc);
            Py_XDECREF(tb);
        }
    }
    Py_DECREF(sub);
    return yielded;
}

static PyObject *op_finish(esim_aio_op *op)
{
    PyObject *stop = PyObject_CallOneArg(PyExc_StopIteration, op->result ? op->result : Py_None);
    if (stop != NULL) {
        PyErr_SetObject(PyExc_StopIteration, stop);
        Py_DECREF(stop);
    }
    return NULL;
}

static PyObject *op_resume(esim_aio_op *op, PyObject *thrown)
{
    PyObject *value = NULL;
    if (op->step == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "cannot reuse already awaited coroutine");
        return NULL;
    }
    Py_INCREF(op);
    if (op->sub != NULL) {
        PyObject *yielded = advance_sub(op, thrown, &value);
        if (yielded != NULL) {
            Py_DECREF(op);
            return yielded;
        }
    } else if (thrown != NULL) {
        raise_instance(thrown);
    } else {
        value = Py_NewRef(Py_None);
    }
    PyObject *out = NULL;
    for (;;) {
        esim_aio_step s = op->step(op, value);
        Py_CLEAR(value);
        if (s == OP_AWAIT) {
            out = advance_sub(op, NULL, &value);
            if (out != NULL)
                break;
            continue;
        }
        if (s == OP_YIELD) {
            out = Py_NewRef(Py_None);
        } else {
            op->step = NULL;
            if (s == OP_DONE)
                op_finish(op);
        }
        break;
    }
    Py_DECREF(op);
    return out;
}

static PyObject *op_next(PyObject *self)
{
    return op_resume((esim_aio_op *)self, NULL);
}

static PyObject *op_send(PyObject *self, PyObject *value)
{
    (void)value;   /* what is sent in is not used, as in MicroPython */
    return op_resume((esim_aio_op *)self, NULL);
}

/* throw(exc) or throw(type[, value[, tb]]) */
static PyObject *op_throw(PyObject *self, PyObject *args)
{
    PyObject *type, *value = Py_None, *tb = Py_None;
    if (!PyArg_UnpackTuple(args, "throw", 1, 3, &type, &value, &tb))
        return NULL;
    PyObject *exc;
    if (PyExceptionInstance_Check(type))
        exc = Py_NewRef(type);
    else if (PyExceptionClass_Check(type))
        exc = value == Py_None ? PyObject_CallNoArgs(type) : PyObject_CallOneArg(type, value);
    else {
        PyErr_SetString(PyExc_TypeError, "exceptions must derive from BaseException");
        return NULL;
    }
    if (exc == NULL)
        return NULL;
    PyObject *out = op_resume((esim_aio_op *)self, exc);
    Py_DECREF(exc);
    return out;
}

static PyObject *op_close(PyObject *self, PyObject *unused)
{
    (void)unused;
    esim_aio_op *op = (esim_aio_op *)self;
    op->step = NULL;
    Py_CLEAR(op->sub);
    Py_RETURN_NONE;
}

static PyObject *op_await(PyObject *self)
{
    return Py_NewRef(self);
}

static PyMethodDef op_methods[] = {
    {"send", op_send, METH_O, "send(value): resume."},
    {"throw", op_throw, METH_VARARGS, "throw(exc): resume with an exception."},
    {"close", op_close, METH_NOARGS, "close(): abandon."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot op_slots[] = {
    {Py_tp_dealloc, op_dealloc},
    {Py_tp_traverse, op_traverse},
    {Py_tp_clear, op_clear},
    {Py_tp_iter, PyObject_SelfIter},
    {Py_tp_iternext, op_next},
    {Py_am_await, op_await},
    {Py_tp_methods, op_methods},
    {Py_tp_doc, "An awaitable of the asyncio module."},
    {0, NULL},
};

static PyType_Spec op_spec = {
    .name = "asyncio.generator",
    .basicsize = sizeof(esim_aio_op),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = op_slots,
};

/* ---- sleeping ---- */

/* MicroPython's ticks_add refuses a step of half the ticks period or more. */
#define MAX_SLEEP_MS ((1LL << 29) - 1)

static esim_aio_step sleep_step(esim_aio_op *op, PyObject *value)
{
    if (value == NULL)
        return OP_ERROR;
    if (op->stage == 1)
        return OP_DONE;
    esim_aio_state *st = esim_aio_state_of(op->module);
    esim_aio_task *cur = esim_aio_current(st);
    if (cur == NULL || esim_aio_schedule_at(st, cur, (uint64_t)op->num[0]) < 0)
        return OP_ERROR;
    op->stage = 1;
    return OP_YIELD;
}

PyObject *esim_aio_sleep_until(PyObject *module, uint64_t at_ms)
{
    esim_aio_op *op = esim_aio_new_op(module, sleep_step);
    if (op != NULL)
        op->num[0] = (long long)at_ms;
    return (PyObject *)op;
}

int esim_aio_sleep_key(PyObject *arg, bool seconds, uint64_t *at_ms)
{
    long long ms;
    if (seconds) {
        double s = PyFloat_AsDouble(arg);
        if (s == -1.0 && PyErr_Occurred())
            return -1;
        double d = s * 1000.0;
        ms = d != d ? 0 : d > (double)MAX_SLEEP_MS ? MAX_SLEEP_MS + 1 : d < 0 ? 0 : (long long)d;
    } else {
        int32_t n;
        if (esim_py_get_int(arg, &n))
            return -1;
        ms = n < 0 ? 0 : n;
    }
    if (ms > MAX_SLEEP_MS) {
        PyErr_SetString(PyExc_OverflowError, "ticks interval overflow");
        return -1;
    }
    uint64_t now;
    if (esim_aio_now_ms(&now))
        return -1;
    *at_ms = now + (uint64_t)ms;
    return 0;
}

int esim_aio_add_task_type(PyObject *module, esim_aio_state *st)
{
    st->task_type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &task_spec, NULL);
    st->op_type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &op_spec, NULL);
    if (st->task_type == NULL || st->op_type == NULL)
        return -1;
    return PyModule_AddObjectRef(module, "Task", (PyObject *)st->task_type);
}
