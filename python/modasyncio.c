/* esp32sim binding — the board's asyncio module (also uasyncio): MicroPython's
 * asyncio (extmod/asyncio) in C, running on the board's virtual clock. Board
 * code gets it through the board's import; the host keeps CPython's asyncio.
 *
 * The loop (docs/asyncio.md): one run queue ordered by the millisecond of
 * ticks_ms each task may run at, first come first served among equals.
 * When the first task is not due, the board's clock moves on to it (never
 * past the next stimulus, so a Pin IRQ handler runs when its edge comes).
 * With nothing queued but tasks waiting on a ThreadSafeFlag or an Event,
 * the clock moves in steps of IDLE_STEP_US so that stimuli, IRQ handlers
 * and scheduled calls can wake them; the run's time limit ends that. */
#include "asyncio_internal.h"

#include "esp32sim/stimulus.h"

#define IDLE_STEP_US 1000u

esim_aio_state *esim_aio_state_of(PyObject *module)
{
    return (esim_aio_state *)PyModule_GetState(module);
}

static void forget_loop(esim_aio_state *st)
{
    esim_aio_queue_clear(&st->run_queue);
    Py_CLEAR(st->cur_task);
    Py_CLEAR(st->stop_task);
    Py_CLEAR(st->exc_handler);
    if (st->flags != NULL)
        PyList_SetSlice(st->flags, 0, PyList_GET_SIZE(st->flags), NULL);
}

esim_aio_state *esim_aio_fresh_state(PyObject *module)
{
    esim_aio_state *st = esim_aio_state_of(module);
    esim_py_boot_key now = esim_py_boot_now();
    if (!st->booted || !esim_py_same_boot(st->boot, now)) {
        forget_loop(st);
        st->boot = now;
        st->booted = true;
    }
    return st;
}

int esim_aio_now_ms(uint64_t *ms)
{
    esim_device *board = esim_py_board();
    if (board == NULL)
        return -1;
    *ms = esim_device_time_us(board) / 1000u;
    return 0;
}

/* ---- exception handling ---- */

static PyObject *module_of(PyObject *self)
{
    return PyType_GetModule(Py_TYPE(self));
}

static void write_out(const char *text)
{
    PyObject *out = PySys_GetObject("stdout");
    if (out != NULL && out != Py_None)
        PyFile_WriteString(text, out);
    PyErr_Clear();
}

static PyObject *reraise(PyObject *module, PyObject *exc)
{
    (void)module;
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    return NULL;
}

static PyMethodDef reraise_def = {"reraise", reraise, METH_O, NULL};

/* "<generator object 'name' at 3ffe1234>", as MicroPython shows a coroutine. */
static PyObject *coro_text(PyObject *coro)
{
    PyObject *name = coro ? PyObject_GetAttrString(coro, "__name__") : NULL;
    if (name == NULL) {
        PyErr_Clear();
        return coro ? PyObject_Repr(coro) : PyUnicode_FromString("None");
    }
    PyObject *text = PyUnicode_FromFormat("<generator object '%U' at %x>", name,
                                          (unsigned)((uintptr_t)coro & 0xffffffffu));
    Py_DECREF(name);
    return text;
}

/* MicroPython's Loop.default_exception_handler: the message, the task and
 * its coroutine, then the exception's traceback, on the board's output. */
static int default_handler(PyObject *context)
{
    PyObject *message = PyMapping_GetItemString(context, "message");
    PyObject *future = message ? PyMapping_GetItemString(context, "future") : NULL;
    PyObject *exc = future ? PyMapping_GetItemString(context, "exception") : NULL;
    PyObject *coro = exc ? PyObject_GetAttrString(future, "coro") : NULL;
    if (coro == NULL)
        PyErr_Clear();
    PyObject *ctext = exc ? coro_text(coro) : NULL;
    PyObject *ftext = ctext ? PyObject_Str(future) : NULL;
    PyObject *mtext = ftext ? PyObject_Str(message) : NULL;
    PyObject *lines = mtext ? PyUnicode_FromFormat("%U\nfuture: %U coro= %U\n", mtext, ftext, ctext) : NULL;
    int err = lines == NULL ? -1 : 0;
    if (lines != NULL) {
        esim_py_heap_guard_pause();
        write_out(PyUnicode_AsUTF8(lines));
        esim_py_heap_guard_resume();
        PyObject *fn = PyCFunction_New(&reraise_def, NULL);
        if (fn == NULL || !PyExceptionInstance_Check(exc))
            err = fn == NULL ? -1 : 0;
        else
            err = esim_py_call_protected(fn, exc);
        Py_XDECREF(fn);
    }
    Py_XDECREF(lines);
    Py_XDECREF(mtext);
    Py_XDECREF(ftext);
    Py_XDECREF(ctext);
    Py_XDECREF(coro);
    Py_XDECREF(exc);
    Py_XDECREF(future);
    Py_XDECREF(message);
    return err;
}

static int call_handler(esim_aio_state *st, PyObject *context)
{
    if (st->exc_handler == NULL)
        return default_handler(context);
    PyObject *r = PyObject_CallFunctionObjArgs(st->exc_handler, st->loop, context, NULL);
    Py_XDECREF(r);
    return r == NULL ? -1 : 0;
}

/* A task ended by an exception nobody retrieved. */
static int report_unretrieved(esim_aio_state *st, esim_aio_task *t)
{
    PyObject *context = Py_BuildValue("{s:s,s:O,s:O}", "message", "Task exception wasn't retrieved", "exception",
                                      t->data ? t->data : Py_None, "future", (PyObject *)t);
    if (context == NULL)
        return -1;
    int err = call_handler(st, context);
    Py_DECREF(context);
    return err;
}

/* ---- the run loop ---- */

/* Let time pass towards `until_us` (boot clock), stopping at the next
 * stimulus so that the IRQ handler it triggers runs at its time. */
static int pass_time(esim_device *board, uint64_t until_us)
{
    uint64_t now = esim_device_time_us(board);
    if (until_us <= now)
        return 0;
    uint64_t step = until_us - now;
    esim_stimulus *stim = esim_device_stimulus(board);
    uint64_t next = stim ? esim_stimulus_next_time(stim) : UINT64_MAX;
    uint64_t world = esim_device_world_time_us(board);
    if (next != UINT64_MAX && next > world && next - world < step)
        step = next - world;
    return esim_py_let_time_pass(board, step);
}

/* Wait until a task may run: 1, or 0 when the loop has nothing left to
 * do, or -1 with an exception set. */
static int wait_for_ready(esim_aio_state *st, esim_device *board, esim_aio_task *main_task)
{
    for (;;) {
        if (Py_MakePendingCalls() < 0 || esim_py_run_pending_irqs() < 0 || esim_aio_poll_flags(st) < 0)
            return -1;
        uint64_t now = esim_device_time_us(board);
        if (st->run_queue.len > 0) {
            uint64_t at_ms = st->run_queue.items[0]->key_ms;
            if (at_ms <= now / 1000u)
                return 1;
            if (pass_time(board, at_ms * 1000u) < 0)
                return -1;
            continue;
        }
        if (PyList_GET_SIZE(st->flags) == 0) {
            Py_CLEAR(st->cur_task);
            if (main_task == NULL || main_task->state != AIO_RUNNING)
                return 0;
        }
        if (pass_time(board, now + IDLE_STEP_US) < 0)
            return -1;
    }
}

static PyObject *stop_iteration(PyObject *value)
{
    return PyObject_CallOneArg(PyExc_StopIteration, value);
}

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

/* Resume t's coroutine (throwing in what is pending for it). 0 when it
 * yielded; 1 when it ended, with *er its StopIteration or exception; -1
 * with an exception to let through (not an Exception nor CancelledError:
 * KeyboardInterrupt, SystemExit, esp32sim.Reset ...). */
static int step_task(esim_aio_state *st, esim_aio_task *t, PyObject **er)
{
    *er = NULL;
    if (t->coro == NULL) {   /* run_forever's stopper */
        *er = stop_iteration(Py_None);
        return *er ? 1 : -1;
    }
    PyObject *pending = t->data;
    t->data = NULL;
    PyObject *res = NULL;
    if (pending == NULL) {
        PySendResult r = PyIter_Send(t->coro, Py_None, &res);
        if (r == PYGEN_RETURN) {
            *er = stop_iteration(res);
            Py_DECREF(res);
            return *er ? 1 : -1;
        }
    } else {
        PyObject *exc = PyExceptionClass_Check(pending) ? PyObject_CallNoArgs(pending) : Py_NewRef(pending);
        res = exc ? PyObject_CallMethod(t->coro, "throw", "O", exc) : NULL;
        Py_XDECREF(exc);
        Py_DECREF(pending);
    }
    if (res != NULL) {
        Py_DECREF(res);
        return 0;
    }
    if (!PyErr_ExceptionMatches(PyExc_Exception) && !PyErr_ExceptionMatches(st->CancelledError))
        return -1;
    *er = fetch_exception();
    return *er ? 1 : -1;
}

static bool is_stop(PyObject *er)
{
    return PyErr_GivenExceptionMatches(er, PyExc_StopIteration);
}

/* A task ended with `er` (stolen): wake what waits on it; an exception
 * nobody awaits is queued to be reported. */
static int task_ended(esim_aio_state *st, esim_aio_task *t, PyObject *er, bool awaited)
{
    int err = 0;
    if (t->on_done != NULL) {
        PyObject *gather = t->on_done;
        t->on_done = NULL;
        err = esim_aio_gather_child_done(gather, t, er);
        Py_DECREF(gather);
        awaited = true;
    } else if (t->has_waiters) {
        esim_aio_task *w;
        while (!err && (w = esim_aio_queue_pop(&t->waiters)) != NULL) {
            err = esim_aio_schedule(st, w);
            Py_DECREF(w);
            awaited = true;
        }
    }
    t->state = awaited || t->has_waiters ? AIO_DONE_AWAITED : AIO_DONE_UNAWAITED;
    if (!err && !awaited && !is_stop(er) && !PyErr_GivenExceptionMatches(er, st->CancelledError))
        err = esim_aio_schedule(st, t);
    Py_XSETREF(t->data, er);
    return err;
}

static PyObject *value_of(PyObject *er)
{
    return PyObject_GetAttrString(er, "value");
}

/* One turn: run the first task. NULL and *finished when the main task
 * ended (*out its value), or NULL with an exception set. */
static int run_one(esim_aio_state *st, esim_aio_task *main_task, PyObject **out)
{
    esim_aio_task *t = esim_aio_queue_pop(&st->run_queue);
    Py_XSETREF(st->cur_task, (PyObject *)t);
    if (t->state != AIO_RUNNING) {
        /* Ended by an exception: report it unless awaited since. */
        return t->state == AIO_DONE_UNAWAITED ? report_unretrieved(st, t) : 0;
    }
    PyObject *er;
    int r = step_task(st, t, &er);
    if (r <= 0)
        return r;
    bool is_main = t == main_task;
    if (is_main) {
        Py_CLEAR(st->cur_task);
        if (!is_stop(er)) {
            t->state = AIO_DONE_AWAITED;
            Py_XSETREF(t->data, Py_NewRef(er));
            PyErr_SetObject((PyObject *)Py_TYPE(er), er);
            Py_DECREF(er);
            return -1;
        }
    }
    Py_INCREF(er);
    if (task_ended(st, t, er, is_main) < 0) {
        Py_DECREF(er);
        return -1;
    }
    if (is_main)
        *out = value_of(er);
    Py_DECREF(er);
    return is_main ? (*out ? 1 : -1) : 0;
}

/* MicroPython's run_until_complete(main_task): None when the queue runs
 * dry without a main task. */
static PyObject *run_until_complete(PyObject *module, esim_aio_task *main_task)
{
    esim_aio_state *st = esim_aio_fresh_state(module);
    esim_device *board = esim_py_board();
    if (board == NULL)
        return NULL;
    Py_XINCREF(main_task);
    PyObject *out = NULL;
    for (;;) {
        int r = wait_for_ready(st, board, main_task);
        if (r < 0)
            break;
        if (r == 0) {
            out = Py_NewRef(Py_None);
            break;
        }
        r = run_one(st, main_task, &out);
        if (r != 0)
            break;
    }
    if (out == NULL)
        Py_CLEAR(st->cur_task);
    Py_XDECREF(main_task);
    return out;
}

/* ---- module functions ---- */

static PyObject *aio_create_task(PyObject *module, PyObject *coro)
{
    return esim_aio_create_task(module, coro);
}

static PyObject *aio_run(PyObject *module, PyObject *coro)
{
    PyObject *t = esim_aio_create_task(module, coro);
    if (t == NULL)
        return NULL;
    PyObject *out = run_until_complete(module, (esim_aio_task *)t);
    Py_DECREF(t);
    return out;
}

static PyObject *sleep_for(PyObject *module, PyObject *arg, bool seconds)
{
    uint64_t at_ms;
    if (esim_aio_sleep_key(arg, seconds, &at_ms) < 0)
        return NULL;
    return esim_aio_sleep_until(module, at_ms);
}

static PyObject *aio_sleep(PyObject *module, PyObject *arg)
{
    return sleep_for(module, arg, true);
}

static PyObject *aio_sleep_ms(PyObject *module, PyObject *arg)
{
    return sleep_for(module, arg, false);
}

static PyObject *aio_current_task(PyObject *module, PyObject *unused)
{
    (void)unused;
    esim_aio_task *t = esim_aio_current(esim_aio_fresh_state(module));
    return Py_XNewRef((PyObject *)t);
}

/* get_event_loop(runq_len=0, waitq_len=0): the lengths are for old
 * uasyncio code and ignored. */
static PyObject *aio_get_event_loop(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)args;
    (void)kwargs;
    return Py_NewRef(esim_aio_fresh_state(module)->loop);
}

static PyObject *aio_new_event_loop(PyObject *module, PyObject *unused)
{
    (void)unused;
    esim_aio_state *st = esim_aio_fresh_state(module);
    esim_aio_queue_clear(&st->run_queue);
    if (st->flags != NULL)
        PyList_SetSlice(st->flags, 0, PyList_GET_SIZE(st->flags), NULL);
    return Py_NewRef(st->loop);
}

static PyObject *aio_gather(PyObject *module, PyObject *args, PyObject *kwargs)
{
    return esim_aio_gather(module, args, kwargs);
}

static PyObject *aio_wait_for(PyObject *module, PyObject *args, PyObject *kwargs)
{
    return esim_aio_wait_for(module, args, kwargs);
}

static PyObject *aio_wait_for_ms(PyObject *module, PyObject *args, PyObject *kwargs)
{
    return esim_aio_wait_for_ms(module, args, kwargs);
}

/* Streams need a UART or a socket to read and write. */
static PyObject *aio_streams(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    (void)args;
    (void)kwargs;
    PyErr_SetString(PyExc_NotImplementedError,
                    "esp32sim: asyncio streams are not simulated (no UART or network)");
    return NULL;
}

#define KW_FN(name, fn, doc) {name, (PyCFunction)(void (*)(void))fn, METH_VARARGS | METH_KEYWORDS, doc}

static PyMethodDef aio_functions[] = {
    {"run", aio_run, METH_O, "run(coro): run coro as the main task; return its value."},
    {"create_task", aio_create_task, METH_O, "create_task(coro): a Task queued to run."},
    {"sleep", aio_sleep, METH_O, "sleep(t): awaitable pause of t seconds of board time."},
    {"sleep_ms", aio_sleep_ms, METH_O, "sleep_ms(t): awaitable pause of t milliseconds of board time."},
    {"current_task", aio_current_task, METH_NOARGS, "current_task(): the running Task."},
    KW_FN("get_event_loop", aio_get_event_loop, "get_event_loop(): the Loop."),
    {"new_event_loop", aio_new_event_loop, METH_NOARGS, "new_event_loop(): empty the loop; the Loop."},
    KW_FN("gather", aio_gather, "gather(*awaitables, return_exceptions=False): their results, in order."),
    KW_FN("wait_for", aio_wait_for, "wait_for(aw, timeout): aw's result, or TimeoutError after timeout s."),
    KW_FN("wait_for_ms", aio_wait_for_ms, "wait_for_ms(aw, timeout): as wait_for, timeout in ms."),
    KW_FN("open_connection", aio_streams, "Not simulated (no network)."),
    KW_FN("start_server", aio_streams, "Not simulated (no network)."),
    KW_FN("StreamReader", aio_streams, "Not simulated (no UART or network)."),
    KW_FN("StreamWriter", aio_streams, "Not simulated (no UART or network)."),
    KW_FN("Stream", aio_streams, "Not simulated (no UART or network)."),
    {NULL, NULL, 0, NULL},
};

/* ---- Loop ---- */

static esim_aio_state *loop_state(PyObject *self)
{
    return esim_aio_fresh_state(module_of(self));
}

static PyObject *loop_create_task(PyObject *self, PyObject *coro)
{
    return esim_aio_create_task(module_of(self), coro);
}

static PyObject *loop_run_forever(PyObject *self, PyObject *unused)
{
    (void)unused;
    esim_aio_state *st = loop_state(self);
    esim_aio_task *stopper = esim_aio_new_task(module_of(self), NULL);
    if (stopper == NULL)
        return NULL;
    Py_XSETREF(st->stop_task, (PyObject *)stopper);
    PyObject *out = run_until_complete(module_of(self), stopper);
    Py_XDECREF(out);
    return out ? Py_NewRef(Py_None) : NULL;
}

static PyObject *loop_run_until_complete(PyObject *self, PyObject *aw)
{
    PyObject *module = module_of(self);
    loop_state(self);
    PyObject *t = esim_aio_promote(module, aw);
    if (t == NULL)
        return NULL;
    PyObject *out = run_until_complete(module, (esim_aio_task *)t);
    Py_DECREF(t);
    return out;
}

static PyObject *loop_stop(PyObject *self, PyObject *unused)
{
    (void)unused;
    esim_aio_state *st = loop_state(self);
    if (st->stop_task != NULL) {
        PyObject *t = st->stop_task;
        st->stop_task = NULL;
        int err = esim_aio_schedule(st, (esim_aio_task *)t);
        Py_DECREF(t);
        if (err)
            return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *loop_close(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    Py_RETURN_NONE;
}

static PyObject *loop_set_exception_handler(PyObject *self, PyObject *handler)
{
    esim_aio_state *st = loop_state(self);
    Py_XSETREF(st->exc_handler, handler == Py_None ? NULL : Py_NewRef(handler));
    Py_RETURN_NONE;
}

static PyObject *loop_get_exception_handler(PyObject *self, PyObject *unused)
{
    (void)unused;
    esim_aio_state *st = loop_state(self);
    return Py_NewRef(st->exc_handler ? st->exc_handler : Py_None);
}

static PyObject *loop_default_exception_handler(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *loop, *context;
    if (!PyArg_UnpackTuple(args, "default_exception_handler", 2, 2, &loop, &context))
        return NULL;
    if (default_handler(context) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *loop_call_exception_handler(PyObject *self, PyObject *context)
{
    if (call_handler(loop_state(self), context) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef loop_methods[] = {
    {"create_task", loop_create_task, METH_O, "create_task(coro): a Task queued to run."},
    {"run_forever", loop_run_forever, METH_NOARGS, "run_forever(): run tasks until stop()."},
    {"run_until_complete", loop_run_until_complete, METH_O, "run_until_complete(aw): run until aw ends."},
    {"stop", loop_stop, METH_NOARGS, "stop(): make run_forever return."},
    {"close", loop_close, METH_NOARGS, "close(): does nothing."},
    {"set_exception_handler", loop_set_exception_handler, METH_O, "set_exception_handler(handler)."},
    {"get_exception_handler", loop_get_exception_handler, METH_NOARGS, "get_exception_handler()."},
    {"default_exception_handler", loop_default_exception_handler, METH_VARARGS,
     "default_exception_handler(loop, context): print the context."},
    {"call_exception_handler", loop_call_exception_handler, METH_O, "call_exception_handler(context)."},
    {NULL, NULL, 0, NULL},
};

static void loop_dealloc(PyObject *self)
{
    PyTypeObject *type = Py_TYPE(self);
    type->tp_free(self);
    Py_DECREF(type);
}

static PyObject *loop_repr(PyObject *self)
{
    (void)self;
    return PyUnicode_FromString("<class 'Loop'>");
}

static PyType_Slot loop_slots[] = {
    {Py_tp_dealloc, loop_dealloc},
    {Py_tp_repr, loop_repr},
    {Py_tp_methods, loop_methods},
    {Py_tp_doc, "The event loop (one per board)."},
    {0, NULL},
};

static PyType_Spec loop_spec = {
    .name = "asyncio.Loop",
    .basicsize = sizeof(PyObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = loop_slots,
};

/* ---- the module ---- */

static int aio_traverse(PyObject *module, visitproc visit, void *arg)
{
    esim_aio_state *st = esim_aio_state_of(module);
    if (st == NULL)
        return 0;
    Py_VISIT(st->cur_task);
    Py_VISIT(st->stop_task);
    Py_VISIT(st->exc_handler);
    Py_VISIT(st->flags);
    Py_VISIT(st->loop);
    Py_VISIT(st->CancelledError);
    Py_VISIT(st->TimeoutError);
    Py_VISIT(st->task_type);
    Py_VISIT(st->op_type);
    Py_VISIT(st->event_type);
    Py_VISIT(st->lock_type);
    Py_VISIT(st->flag_type);
    Py_VISIT(st->loop_type);
    return esim_aio_queue_traverse(&st->run_queue, visit, arg);
}

static int aio_clear(PyObject *module)
{
    esim_aio_state *st = esim_aio_state_of(module);
    if (st == NULL)
        return 0;
    forget_loop(st);
    Py_CLEAR(st->flags);
    Py_CLEAR(st->loop);
    Py_CLEAR(st->CancelledError);
    Py_CLEAR(st->TimeoutError);
    Py_CLEAR(st->task_type);
    Py_CLEAR(st->op_type);
    Py_CLEAR(st->event_type);
    Py_CLEAR(st->lock_type);
    Py_CLEAR(st->flag_type);
    Py_CLEAR(st->loop_type);
    return 0;
}

static void aio_free(void *module)
{
    aio_clear((PyObject *)module);
}

static struct PyModuleDef asyncio_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "asyncio",
    .m_doc = "MicroPython's asyncio, on the board's virtual clock.",
    .m_size = sizeof(esim_aio_state),
    .m_methods = aio_functions,
    .m_traverse = aio_traverse,
    .m_clear = aio_clear,
    .m_free = aio_free,
};

static int add_exceptions(PyObject *module, esim_aio_state *st)
{
    st->CancelledError = PyErr_NewException("asyncio.CancelledError", PyExc_BaseException, NULL);
    st->TimeoutError = PyErr_NewException("asyncio.TimeoutError", PyExc_Exception, NULL);
    if (st->CancelledError == NULL || st->TimeoutError == NULL)
        return -1;
    if (PyModule_AddObjectRef(module, "CancelledError", st->CancelledError) < 0 ||
        PyModule_AddObjectRef(module, "TimeoutError", st->TimeoutError) < 0)
        return -1;
    return 0;
}

static int add_loop(PyObject *module, esim_aio_state *st)
{
    st->loop_type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &loop_spec, NULL);
    if (st->loop_type == NULL)
        return -1;
    st->loop = PyType_GenericAlloc(st->loop_type, 0);
    if (st->loop == NULL)
        return -1;
    return PyModule_AddObjectRef(module, "Loop", st->loop);
}

PyObject *esim_py_make_asyncio(void)
{
    PyObject *module = PyModule_Create(&asyncio_def);
    if (module == NULL)
        return NULL;
    esim_aio_state *st = esim_aio_state_of(module);
    st->flags = PyList_New(0);
    PyObject *version = Py_BuildValue("(iii)", 3, 0, 0);
    int err = st->flags == NULL || version == NULL || PyModule_AddObjectRef(module, "__version__", version) < 0 ||
              add_exceptions(module, st) < 0 || esim_aio_add_task_type(module, st) < 0 ||
              esim_aio_add_sync_types(module, st) < 0 || add_loop(module, st) < 0;
    Py_XDECREF(version);
    if (err)
        Py_CLEAR(module);
    return module;
}
