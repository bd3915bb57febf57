/* esp32sim binding — asyncio's Event, Lock and ThreadSafeFlag, gather and
 * wait_for, with MicroPython's semantics (docs/asyncio.md). */
#include "asyncio_internal.h"

/* ---- shared pieces ---- */

static esim_aio_state *module_state(PyObject *self)
{
    return esim_aio_state_of(PyType_GetModule(Py_TYPE(self)));
}

static PyObject *self_module(PyObject *self)
{
    return PyType_GetModule(Py_TYPE(self));
}

/* An op that ends at once with `result`. */
static esim_aio_step done_step(esim_aio_op *op, PyObject *value)
{
    (void)op;
    return value == NULL ? OP_ERROR : OP_DONE;
}

static PyObject *done_op(PyObject *module, PyObject *result)
{
    esim_aio_op *op = esim_aio_new_op(module, done_step);
    if (op != NULL)
        op->result = Py_NewRef(result);
    return (PyObject *)op;
}

static void sync_dealloc(PyObject *self, int (*clear)(PyObject *))
{
    PyTypeObject *type = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    clear(self);
    type->tp_free(self);
    Py_DECREF(type);
}

/* ---- Event ---- */

typedef struct {
    PyObject_HEAD
    bool is_set;
    esim_aio_queue waiting;
} event_object;

static int event_traverse(PyObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    return esim_aio_queue_traverse(&((event_object *)self)->waiting, visit, arg);
}

static int event_clear_refs(PyObject *self)
{
    esim_aio_queue_clear(&((event_object *)self)->waiting);
    return 0;
}

static void event_dealloc(PyObject *self)
{
    sync_dealloc(self, event_clear_refs);
}

static PyObject *event_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    if (esim_py_check_num(PyTuple_GET_SIZE(args), kwargs, 0, 0, 0))
        return NULL;
    event_object *ev = PyObject_GC_New(event_object, type);
    if (ev == NULL)
        return NULL;
    ev->is_set = false;
    ev->waiting = (esim_aio_queue){NULL, 0, 0};
    PyObject_GC_Track((PyObject *)ev);
    return (PyObject *)ev;
}

static PyObject *event_is_set(PyObject *self, PyObject *unused)
{
    (void)unused;
    return PyBool_FromLong(((event_object *)self)->is_set);
}

static PyObject *event_set(PyObject *self, PyObject *unused)
{
    (void)unused;
    event_object *ev = (event_object *)self;
    esim_aio_state *st = module_state(self);
    esim_aio_task *t;
    while ((t = esim_aio_queue_pop(&ev->waiting)) != NULL) {
        int err = esim_aio_schedule(st, t);
        Py_DECREF(t);
        if (err)
            return NULL;
    }
    ev->is_set = true;
    Py_RETURN_NONE;
}

static PyObject *event_clear(PyObject *self, PyObject *unused)
{
    (void)unused;
    ((event_object *)self)->is_set = false;
    Py_RETURN_NONE;
}

static esim_aio_step event_wait_step(esim_aio_op *op, PyObject *value)
{
    if (value == NULL)
        return OP_ERROR;
    event_object *ev = (event_object *)op->obj[0];
    if (op->stage == 0 && !ev->is_set) {
        esim_aio_task *cur = esim_aio_current(esim_aio_state_of(op->module));
        if (cur == NULL || esim_aio_wait_in(&ev->waiting, cur, op->obj[0]) < 0)
            return OP_ERROR;
        op->stage = 1;
        return OP_YIELD;
    }
    op->result = Py_NewRef(Py_True);
    return OP_DONE;
}

static PyObject *event_wait(PyObject *self, PyObject *unused)
{
    (void)unused;
    esim_aio_op *op = esim_aio_new_op(self_module(self), event_wait_step);
    if (op != NULL)
        op->obj[0] = Py_NewRef(self);
    return (PyObject *)op;
}

static PyMethodDef event_methods[] = {
    {"is_set", event_is_set, METH_NOARGS, "is_set(): True when set."},
    {"set", event_set, METH_NOARGS, "set(): set it and wake the tasks waiting."},
    {"clear", event_clear, METH_NOARGS, "clear(): unset it."},
    {"wait", event_wait, METH_NOARGS, "wait(): awaitable, returns True once set."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot event_slots[] = {
    {Py_tp_new, event_new},
    {Py_tp_dealloc, event_dealloc},
    {Py_tp_traverse, event_traverse},
    {Py_tp_clear, event_clear_refs},
    {Py_tp_methods, event_methods},
    {Py_tp_doc, "Event(): a flag tasks can wait for."},
    {0, NULL},
};

static PyType_Spec event_spec = {
    .name = "asyncio.Event",
    .basicsize = sizeof(event_object),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .slots = event_slots,
};

/* ---- Lock ---- */

typedef struct {
    PyObject_HEAD
    bool locked;
    PyObject *next_owner;   /* unlocked, but handed to this task */
    esim_aio_queue waiting;
} lock_object;

static int lock_traverse(PyObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(((lock_object *)self)->next_owner);
    return esim_aio_queue_traverse(&((lock_object *)self)->waiting, visit, arg);
}

static int lock_clear_refs(PyObject *self)
{
    Py_CLEAR(((lock_object *)self)->next_owner);
    esim_aio_queue_clear(&((lock_object *)self)->waiting);
    return 0;
}

static void lock_dealloc(PyObject *self)
{
    sync_dealloc(self, lock_clear_refs);
}

static PyObject *lock_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    if (esim_py_check_num(PyTuple_GET_SIZE(args), kwargs, 0, 0, 0))
        return NULL;
    lock_object *lk = PyObject_GC_New(lock_object, type);
    if (lk == NULL)
        return NULL;
    lk->locked = false;
    lk->next_owner = NULL;
    lk->waiting = (esim_aio_queue){NULL, 0, 0};
    PyObject_GC_Track((PyObject *)lk);
    return (PyObject *)lk;
}

static PyObject *lock_locked(PyObject *self, PyObject *unused)
{
    (void)unused;
    return PyBool_FromLong(((lock_object *)self)->locked);
}

static int release(lock_object *lk, esim_aio_state *st)
{
    if (!lk->locked) {
        PyErr_SetString(PyExc_RuntimeError, "Lock not acquired");
        return -1;
    }
    lk->locked = false;
    esim_aio_task *next = esim_aio_queue_pop(&lk->waiting);
    if (next == NULL)
        return 0;
    Py_XSETREF(lk->next_owner, (PyObject *)next);
    return esim_aio_schedule(st, next);
}

static PyObject *lock_release(PyObject *self, PyObject *unused)
{
    (void)unused;
    if (release((lock_object *)self, module_state(self)) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static esim_aio_step acquire_step(esim_aio_op *op, PyObject *value)
{
    lock_object *lk = (lock_object *)op->obj[0];
    esim_aio_state *st = esim_aio_state_of(op->module);
    if (value == NULL) {
        /* Cancelled after release() handed it the lock: hand it on. */
        if (PyErr_ExceptionMatches(st->CancelledError) && lk->next_owner != NULL &&
            lk->next_owner == st->cur_task) {
            PyObject *type, *exc, *tb;
            PyErr_Fetch(&type, &exc, &tb);
            Py_CLEAR(lk->next_owner);
            lk->locked = true;
            if (release(lk, st) < 0) {
                Py_XDECREF(type);
                Py_XDECREF(exc);
                Py_XDECREF(tb);
                return OP_ERROR;
            }
            PyErr_Restore(type, exc, tb);
        }
        return OP_ERROR;
    }
    if (op->stage == 0 && (lk->locked || lk->next_owner != NULL)) {
        esim_aio_task *cur = esim_aio_current(st);
        if (cur == NULL || esim_aio_wait_in(&lk->waiting, cur, op->obj[0]) < 0)
            return OP_ERROR;
        op->stage = 1;
        return OP_YIELD;
    }
    Py_CLEAR(lk->next_owner);
    lk->locked = true;
    op->result = Py_NewRef(Py_True);
    return OP_DONE;
}

static PyObject *lock_acquire(PyObject *self, PyObject *unused)
{
    (void)unused;
    esim_aio_op *op = esim_aio_new_op(self_module(self), acquire_step);
    if (op != NULL)
        op->obj[0] = Py_NewRef(self);
    return (PyObject *)op;
}

static PyObject *lock_aexit(PyObject *self, PyObject *args)
{
    (void)args;
    if (release((lock_object *)self, module_state(self)) < 0)
        return NULL;
    return done_op(self_module(self), Py_None);
}

static PyMethodDef lock_methods[] = {
    {"locked", lock_locked, METH_NOARGS, "locked(): True when held."},
    {"release", lock_release, METH_NOARGS, "release(): let the next waiting task have it."},
    {"acquire", lock_acquire, METH_NOARGS, "acquire(): awaitable, returns True once held."},
    {"__aenter__", lock_acquire, METH_NOARGS, "async with: acquire."},
    {"__aexit__", lock_aexit, METH_VARARGS, "async with: release."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot lock_slots[] = {
    {Py_tp_new, lock_new},
    {Py_tp_dealloc, lock_dealloc},
    {Py_tp_traverse, lock_traverse},
    {Py_tp_clear, lock_clear_refs},
    {Py_tp_methods, lock_methods},
    {Py_tp_doc, "Lock(): a mutex for tasks, handed on in the order they asked."},
    {0, NULL},
};

static PyType_Spec lock_spec = {
    .name = "asyncio.Lock",
    .basicsize = sizeof(lock_object),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .slots = lock_slots,
};

/* ---- ThreadSafeFlag ----
 * Set from anywhere (a Pin IRQ handler, a scheduled call); the loop looks
 * at the flags tasks wait on at each turn, as MicroPython polls it. */

typedef struct {
    PyObject_HEAD
    bool is_set;
    PyObject *waiter;   /* the task waiting, or NULL */
} flag_object;

static int flag_traverse(PyObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(((flag_object *)self)->waiter);
    return 0;
}

static int flag_clear_refs(PyObject *self)
{
    Py_CLEAR(((flag_object *)self)->waiter);
    return 0;
}

static void flag_dealloc(PyObject *self)
{
    sync_dealloc(self, flag_clear_refs);
}

static PyObject *flag_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    if (esim_py_check_num(PyTuple_GET_SIZE(args), kwargs, 0, 0, 0))
        return NULL;
    flag_object *f = PyObject_GC_New(flag_object, type);
    if (f == NULL)
        return NULL;
    f->is_set = false;
    f->waiter = NULL;
    PyObject_GC_Track((PyObject *)f);
    return (PyObject *)f;
}

static PyObject *flag_set(PyObject *self, PyObject *unused)
{
    (void)unused;
    ((flag_object *)self)->is_set = true;
    Py_RETURN_NONE;
}

static PyObject *flag_clear(PyObject *self, PyObject *unused)
{
    (void)unused;
    ((flag_object *)self)->is_set = false;
    Py_RETURN_NONE;
}

static void unregister_flag(esim_aio_state *st, PyObject *flag)
{
    Py_ssize_t n = PyList_GET_SIZE(st->flags);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (PyList_GET_ITEM(st->flags, i) == flag) {
            PyList_SetSlice(st->flags, i, i + 1, NULL);
            return;
        }
    }
}

static esim_aio_step flag_wait_step(esim_aio_op *op, PyObject *value)
{
    if (value == NULL)
        return OP_ERROR;
    flag_object *f = (flag_object *)op->obj[0];
    if (op->stage == 0 && !f->is_set) {
        esim_aio_state *st = esim_aio_state_of(op->module);
        esim_aio_task *cur = esim_aio_current(st);
        if (cur == NULL)
            return OP_ERROR;
        if (f->waiter != NULL) {
            PyErr_SetString(PyExc_RuntimeError, "ThreadSafeFlag already has a task waiting");
            return OP_ERROR;
        }
        if (PyList_Append(st->flags, op->obj[0]) < 0)
            return OP_ERROR;
        f->waiter = Py_NewRef(cur);
        esim_aio_set_wait(cur, op->obj[0]);
        op->stage = 1;
        return OP_YIELD;
    }
    f->is_set = false;
    op->result = Py_NewRef(Py_None);
    return OP_DONE;
}

static PyObject *flag_wait(PyObject *self, PyObject *unused)
{
    (void)unused;
    esim_aio_op *op = esim_aio_new_op(self_module(self), flag_wait_step);
    if (op != NULL)
        op->obj[0] = Py_NewRef(self);
    return (PyObject *)op;
}

int esim_aio_poll_flags(esim_aio_state *st)
{
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(st->flags);) {
        flag_object *f = (flag_object *)PyList_GET_ITEM(st->flags, i);
        if (!f->is_set || f->waiter == NULL) {
            i++;
            continue;
        }
        PyObject *task = f->waiter;
        f->waiter = NULL;
        PyList_SetSlice(st->flags, i, i + 1, NULL);
        int err = esim_aio_schedule(st, (esim_aio_task *)task);
        Py_DECREF(task);
        if (err)
            return -1;
    }
    return 0;
}

void esim_aio_sync_forget(esim_aio_state *st, PyObject *wait_on, esim_aio_task *t)
{
    if (!Py_IS_TYPE(wait_on, st->flag_type))
        return;
    flag_object *f = (flag_object *)wait_on;
    if (f->waiter == (PyObject *)t) {
        Py_CLEAR(f->waiter);
        unregister_flag(st, wait_on);
    }
}

static PyMethodDef flag_methods[] = {
    {"set", flag_set, METH_NOARGS, "set(): wake the waiting task (safe from an IRQ handler)."},
    {"clear", flag_clear, METH_NOARGS, "clear(): unset it."},
    {"wait", flag_wait, METH_NOARGS, "wait(): awaitable, returns once set and clears it."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot flag_slots[] = {
    {Py_tp_new, flag_new},
    {Py_tp_dealloc, flag_dealloc},
    {Py_tp_traverse, flag_traverse},
    {Py_tp_clear, flag_clear_refs},
    {Py_tp_methods, flag_methods},
    {Py_tp_doc, "ThreadSafeFlag(): a flag an interrupt handler can set to wake one task."},
    {0, NULL},
};

static PyType_Spec flag_spec = {
    .name = "asyncio.ThreadSafeFlag",
    .basicsize = sizeof(flag_object),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .slots = flag_slots,
};

/* ---- gather ----
 * obj[0]: the awaitables, then their tasks; obj[1]: the exception to
 * raise; obj[2]: the task awaiting the gather; num[0]: return_exceptions;
 * num[1]: sub-tasks still running. */

static PyObject *fetch_exception(void)
{
    PyObject *type, *exc, *tb;
    PyErr_Fetch(&type, &exc, &tb);
    PyErr_NormalizeException(&type, &exc, &tb);
    if (exc != NULL && tb != NULL)
        PyException_SetTraceback(exc, tb);
    Py_XDECREF(type);
    Py_XDECREF(tb);
    return exc;
}

static esim_aio_step gather_start(esim_aio_op *op)
{
    esim_aio_state *st = esim_aio_state_of(op->module);
    Py_ssize_t n = PyTuple_GET_SIZE(op->obj[0]);
    PyObject *tasks = PyList_New(n);
    if (tasks == NULL)
        return OP_ERROR;
    if (n == 0) {
        op->result = tasks;
        return OP_DONE;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *t = esim_aio_promote(op->module, PyTuple_GET_ITEM(op->obj[0], i));
        if (t == NULL) {
            Py_DECREF(tasks);
            return OP_ERROR;
        }
        PyList_SET_ITEM(tasks, i, t);
    }
    Py_SETREF(op->obj[0], tasks);
    for (Py_ssize_t i = 0; i < n; i++) {
        esim_aio_task *t = (esim_aio_task *)PyList_GET_ITEM(tasks, i);
        if (t->state != AIO_RUNNING || t->has_waiters || t->on_done != NULL) {
            PyErr_SetString(PyExc_RuntimeError, "can't gather");
            return OP_ERROR;
        }
        t->on_done = Py_NewRef(op);
    }
    esim_aio_task *cur = esim_aio_current(st);
    if (cur == NULL)
        return OP_ERROR;
    op->obj[2] = Py_NewRef(cur);
    op->num[1] = n;
    esim_aio_set_wait(cur, (PyObject *)op);
    op->stage = 1;
    return OP_YIELD;
}

/* Sub-tasks still running are let go (and cancelled when the gather is);
 * the others give their value, or their exception. */
static esim_aio_step gather_finish(esim_aio_op *op, bool cancel_all)
{
    PyObject *tasks = op->obj[0];
    Py_ssize_t n = PyList_GET_SIZE(tasks);
    PyObject *results = PyList_New(n);
    if (results == NULL)
        return OP_ERROR;
    for (Py_ssize_t i = 0; i < n; i++) {
        esim_aio_task *t = (esim_aio_task *)PyList_GET_ITEM(tasks, i);
        PyObject *item;
        if (t->on_done == (PyObject *)op) {
            Py_CLEAR(t->on_done);
            if (cancel_all && esim_aio_cancel(t) < 0) {
                Py_DECREF(results);
                return OP_ERROR;
            }
            item = Py_NewRef(t);
        } else if (t->data != NULL && PyErr_GivenExceptionMatches(t->data, PyExc_StopIteration)) {
            item = PyObject_GetAttrString(t->data, "value");
        } else {
            item = Py_NewRef(t->data ? t->data : Py_None);
        }
        if (item == NULL) {
            Py_DECREF(results);
            return OP_ERROR;
        }
        PyList_SET_ITEM(results, i, item);
    }
    if (op->obj[1] != NULL) {
        Py_DECREF(results);
        PyErr_SetObject((PyObject *)Py_TYPE(op->obj[1]), op->obj[1]);
        return OP_ERROR;
    }
    op->result = results;
    return OP_DONE;
}

static esim_aio_step gather_step(esim_aio_op *op, PyObject *value)
{
    if (op->stage == 0)
        return value == NULL ? OP_ERROR : gather_start(op);
    bool cancel_all = false;
    if (value == NULL) {
        esim_aio_state *st = esim_aio_state_of(op->module);
        if (!PyErr_ExceptionMatches(st->CancelledError))
            return OP_ERROR;
        cancel_all = true;
        Py_XSETREF(op->obj[1], fetch_exception());
    }
    return gather_finish(op, cancel_all);
}

int esim_aio_gather_child_done(PyObject *gather, esim_aio_task *t, PyObject *er)
{
    (void)t;
    esim_aio_op *op = (esim_aio_op *)gather;
    esim_aio_task *waiter = (esim_aio_task *)op->obj[2];
    if (waiter == NULL || waiter->wait_on != gather)
        return 0;   /* already woken (an exception, or it was cancelled) */
    if (!op->num[0] && !PyErr_GivenExceptionMatches(er, PyExc_StopIteration)) {
        Py_XSETREF(op->obj[1], Py_NewRef(er));
    } else if (--op->num[1] > 0) {
        return 0;
    }
    return esim_aio_schedule(esim_aio_state_of(op->module), waiter);
}

PyObject *esim_aio_gather(PyObject *module, PyObject *args, PyObject *kwargs)
{
    int return_exceptions = 0;
    if (kwargs != NULL) {
        Py_ssize_t pos = 0;
        PyObject *key, *val;
        while (PyDict_Next(kwargs, &pos, &key, &val)) {
            if (PyUnicode_CompareWithASCIIString(key, "return_exceptions") != 0) {
                PyErr_SetString(PyExc_TypeError, "unexpected keyword argument");
                return NULL;
            }
            return_exceptions = PyObject_IsTrue(val);
            if (return_exceptions < 0)
                return NULL;
        }
    }
    esim_aio_op *op = esim_aio_new_op(module, gather_step);
    if (op != NULL) {
        op->obj[0] = Py_NewRef(args);
        op->num[0] = return_exceptions;
    }
    return (PyObject *)op;
}

/* ---- wait_for ----
 * The awaitable runs in a runner task while the caller sleeps for the
 * timeout; whichever ends first cancels the other. Runner: obj[0] the
 * task that waits, obj[1] the awaited task. wait_for: obj[0] the awaited
 * task, obj[1] the timeout, obj[2] the runner; num[0] timeout in seconds. */

static esim_aio_step runner_step(esim_aio_op *op, PyObject *value)
{
    if (op->stage == 0 && value != NULL) {
        op->stage = 1;
        if (esim_aio_begin_await((esim_aio_task *)op->obj[1]) == 0) {
            op->sub = Py_NewRef(op->obj[1]);
            return OP_AWAIT;
        }
        value = NULL;
    }
    esim_aio_state *st = esim_aio_state_of(op->module);
    PyObject *status = value != NULL ? Py_NewRef(Py_True) : fetch_exception();
    PyObject *result = value != NULL ? value : Py_None;
    if (status == NULL)
        return OP_ERROR;
    esim_aio_task *waiter = (esim_aio_task *)op->obj[0];
    int cancelled = 0;
    if (waiter->wait_on == NULL && waiter->data == NULL)
        cancelled = esim_aio_cancel(waiter);
    if (cancelled > 0) {
        PyObject *exc = PyObject_CallFunctionObjArgs(st->CancelledError, status, result, NULL);
        if (exc == NULL)
            cancelled = -1;
        else
            Py_XSETREF(waiter->data, exc);
    }
    Py_DECREF(status);
    if (cancelled < 0)
        return OP_ERROR;
    op->result = Py_NewRef(Py_None);
    return OP_DONE;
}

static esim_aio_step wait_for_start(esim_aio_op *op)
{
    esim_aio_state *st = esim_aio_state_of(op->module);
    PyObject *task = esim_aio_promote(op->module, op->obj[0]);
    if (task == NULL)
        return OP_ERROR;
    Py_SETREF(op->obj[0], task);
    if (op->obj[1] == Py_None) {
        if (esim_aio_begin_await((esim_aio_task *)task) < 0)
            return OP_ERROR;
        op->stage = 3;
        op->sub = Py_NewRef(task);
        return OP_AWAIT;
    }
    esim_aio_task *cur = esim_aio_current(st);
    if (cur == NULL)
        return OP_ERROR;
    esim_aio_op *runner = esim_aio_new_op(op->module, runner_step);
    if (runner == NULL)
        return OP_ERROR;
    runner->obj[0] = Py_NewRef(cur);
    runner->obj[1] = Py_NewRef(task);
    op->obj[2] = esim_aio_create_task(op->module, (PyObject *)runner);
    Py_DECREF(runner);
    uint64_t at_ms;
    if (op->obj[2] == NULL || esim_aio_sleep_key(op->obj[1], op->num[0], &at_ms) < 0)
        return OP_ERROR;
    op->sub = esim_aio_sleep_until(op->module, at_ms);
    if (op->sub == NULL)
        return OP_ERROR;
    op->stage = 1;
    return OP_AWAIT;
}

/* The sleep was cancelled: by the runner (args: status, result) or from
 * outside (no args). */
static esim_aio_step wait_for_woken(esim_aio_op *op, esim_aio_state *st)
{
    PyObject *er = fetch_exception();
    if (er == NULL)
        return OP_ERROR;
    PyObject *args = PyObject_GetAttrString(er, "args");
    PyObject *status = args && PyTuple_Check(args) && PyTuple_GET_SIZE(args) > 0 ? PyTuple_GET_ITEM(args, 0) : Py_None;
    esim_aio_step s = OP_ERROR;
    if (args == NULL) {
        /* error set */
    } else if (status == Py_None) {
        if (esim_aio_cancel((esim_aio_task *)op->obj[2]) >= 0)
            PyErr_SetObject((PyObject *)Py_TYPE(er), er);
    } else if (status == Py_True) {
        op->result = Py_NewRef(PyTuple_GET_SIZE(args) > 1 ? PyTuple_GET_ITEM(args, 1) : Py_None);
        s = OP_DONE;
    } else {
        PyErr_SetObject((PyObject *)Py_TYPE(status), status);
    }
    (void)st;
    Py_XDECREF(args);
    Py_DECREF(er);
    return s;
}

static esim_aio_step wait_for_step(esim_aio_op *op, PyObject *value)
{
    esim_aio_state *st = esim_aio_state_of(op->module);
    switch (op->stage) {
    case 0:
        return value == NULL ? OP_ERROR : wait_for_start(op);
    case 1:
        if (value == NULL)
            return PyErr_ExceptionMatches(st->CancelledError) ? wait_for_woken(op, st) : OP_ERROR;
        /* The timeout passed first. */
        if (esim_aio_cancel((esim_aio_task *)op->obj[2]) < 0 ||
            esim_aio_begin_await((esim_aio_task *)op->obj[2]) < 0)
            return OP_ERROR;
        op->sub = Py_NewRef(op->obj[2]);
        op->stage = 2;
        return OP_AWAIT;
    case 2:
        if (value != NULL)
            PyErr_SetNone(st->TimeoutError);
        return OP_ERROR;
    default:
        if (value == NULL)
            return OP_ERROR;
        op->result = Py_NewRef(value);
        return OP_DONE;
    }
}

static PyObject *make_wait_for(PyObject *module, PyObject *args, PyObject *kwargs, bool seconds)
{
    if (esim_py_check_num(PyTuple_GET_SIZE(args), kwargs, 2, 2, 0))
        return NULL;
    esim_aio_op *op = esim_aio_new_op(module, wait_for_step);
    if (op != NULL) {
        op->obj[0] = Py_NewRef(PyTuple_GET_ITEM(args, 0));
        op->obj[1] = Py_NewRef(PyTuple_GET_ITEM(args, 1));
        op->num[0] = seconds;
    }
    return (PyObject *)op;
}

PyObject *esim_aio_wait_for(PyObject *module, PyObject *args, PyObject *kwargs)
{
    return make_wait_for(module, args, kwargs, true);
}

PyObject *esim_aio_wait_for_ms(PyObject *module, PyObject *args, PyObject *kwargs)
{
    return make_wait_for(module, args, kwargs, false);
}

/* ---- the types ---- */

static PyTypeObject *add_type(PyObject *module, PyType_Spec *spec, const char *name)
{
    PyObject *type = PyType_FromModuleAndSpec(module, spec, NULL);
    if (type == NULL || PyModule_AddObjectRef(module, name, type) < 0) {
        Py_XDECREF(type);
        return NULL;
    }
    return (PyTypeObject *)type;
}

int esim_aio_add_sync_types(PyObject *module, esim_aio_state *st)
{
    st->event_type = add_type(module, &event_spec, "Event");
    st->lock_type = st->event_type ? add_type(module, &lock_spec, "Lock") : NULL;
    st->flag_type = st->lock_type ? add_type(module, &flag_spec, "ThreadSafeFlag") : NULL;
    return st->flag_type ? 0 : -1;
}
