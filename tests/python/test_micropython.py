"""micropython: const, opt_level, heap_lock/heap_unlock, mem_info and friends,
schedule, as the ESP32 port has them (mem_info and stack_use print a model)."""
import re

import pytest

import esp32sim
import machine
import micropython

HEAP_TOTAL = 56000          # the ESP32 port's initial 56 KiB GC heap
BLOCK = 16
STACK_LIMIT = 15360

GC_LINE = re.compile(r"^GC: total: (\d+), used: (\d+), free: (\d+), max new split: (\d+)$")
BLOCKS_LINE = re.compile(r"^ No\. of 1-blocks: (\d+), 2-blocks: (\d+), max blk sz: (\d+), max free sz: (\d+)$")


# ---- const, opt_level ----

def test_const_returns_its_argument():
    x = object()
    assert micropython.const(x) is x
    assert micropython.const(123) == 123
    with pytest.raises(TypeError, match="^function takes 1 positional arguments but 0 were given$"):
        micropython.const()
    with pytest.raises(TypeError, match="^function takes 1 positional arguments but 2 were given$"):
        micropython.const(1, 2)


def test_opt_level_get_and_set():
    assert micropython.opt_level() == 0
    try:
        assert micropython.opt_level(3) is None
        assert micropython.opt_level() == 3
        micropython.opt_level(-1)
        assert micropython.opt_level() == -1
        micropython.opt_level(2**30)            # kept as a word, read back as a 31-bit small int
        assert micropython.opt_level() == -2**30
    finally:
        micropython.opt_level(0)


def test_opt_level_argument_errors():
    with pytest.raises(TypeError, match="^can't convert str to int$"):
        micropython.opt_level("1")
    with pytest.raises(TypeError, match="^function expected at most 1 arguments, got 2$"):
        micropython.opt_level(1, 2)
    assert micropython.opt_level() == 0


# ---- heap lock ----

def test_heap_lock_nests():
    assert micropython.heap_lock() is None
    assert micropython.heap_lock() is None
    assert micropython.heap_unlock() == 1
    assert micropython.heap_unlock() == 0


def test_heap_unlock_without_lock_wraps_like_the_board():
    # The 16-bit lock counter (depth << 1) wraps: the heap is left "locked".
    assert micropython.heap_unlock() == 32767
    micropython.heap_lock()                      # back to depth 0
    micropython.heap_lock()
    assert micropython.heap_unlock() == 0


def test_heap_lock_argument_errors():
    with pytest.raises(TypeError, match="^function takes 0 positional arguments but 1 were given$"):
        micropython.heap_lock(1)
    with pytest.raises(TypeError, match="^function takes 0 positional arguments but 1 were given$"):
        micropython.heap_unlock(1)


# ---- emergency buffer, kbd_intr ----

def test_alloc_emergency_exception_buf():
    assert micropython.alloc_emergency_exception_buf(100) is None
    assert micropython.alloc_emergency_exception_buf(0) is None
    with pytest.raises(TypeError, match="^function takes 1 positional arguments but 0 were given$"):
        micropython.alloc_emergency_exception_buf()
    with pytest.raises(TypeError, match="^can't convert str to int$"):
        micropython.alloc_emergency_exception_buf("100")


def test_kbd_intr():
    assert micropython.kbd_intr(-1) is None
    assert micropython.kbd_intr(3) is None
    with pytest.raises(TypeError, match="^can't convert str to int$"):
        micropython.kbd_intr("\x03")
    with pytest.raises(TypeError, match="^function takes 1 positional arguments but 0 were given$"):
        micropython.kbd_intr()


# ---- mem_info, stack_use, qstr_info ----

def parse_mem_info(text):
    lines = text.split("\n")
    stack = re.fullmatch(r"stack: (\d+) out of (\d+)", lines[0])
    gc = GC_LINE.match(lines[1])
    blocks = BLOCKS_LINE.match(lines[2])
    assert stack and gc and blocks, text
    return ([int(g) for g in stack.groups()], [int(g) for g in gc.groups()],
            [int(g) for g in blocks.groups()], lines[3:])


def test_mem_info_format(board, capsys):
    assert micropython.mem_info() is None
    out = capsys.readouterr().out
    stack, gc, blocks, rest = parse_mem_info(out)
    assert stack[1] == STACK_LIMIT and 0 < stack[0] <= STACK_LIMIT
    total, used, free, split = gc
    assert total == HEAP_TOTAL and used + free == total
    assert used % BLOCK == 0 and free % BLOCK == 0 and split > 0
    one, two, max_blk, max_free = blocks
    assert max_free * BLOCK == free              # the model's free blocks are one run
    assert one + 2 * two <= used // BLOCK and max_blk >= 1
    assert rest == [""]                          # nothing after the two GC lines


def test_mem_info_stack_matches_stack_use(board, capsys):
    micropython.mem_info()
    use = micropython.stack_use()
    stack, _, _, _ = parse_mem_info(capsys.readouterr().out)
    assert stack[0] == use


def test_stack_use_grows_with_call_depth():
    def nested(n):
        return micropython.stack_use() if n == 0 else nested(n - 1)
    here = nested(0)
    deeper = nested(3)
    assert type(here) is int and here > 0
    assert deeper > here
    assert deeper - here == 3 * ((deeper - here) // 3)   # a fixed cost per frame
    with pytest.raises(TypeError, match="^function takes 0 positional arguments but 1 were given$"):
        micropython.stack_use(1)


def used_bytes(capsys):
    micropython.mem_info()
    return parse_mem_info(capsys.readouterr().out)[1][1]


HEAP_BASELINE = 1792       # what the model's heap holds at the first look after a boot


def test_mem_info_first_look_after_a_boot_sees_the_baseline(board, capsys):
    used_bytes(capsys)
    with pytest.raises(esp32sim.Reset):
        machine.reset()
    assert used_bytes(capsys) == HEAP_BASELINE
    held = [object() for _ in range(1000)]
    assert used_bytes(capsys) > HEAP_BASELINE
    with pytest.raises(esp32sim.Reset):
        machine.reset()
    assert used_bytes(capsys) == HEAP_BASELINE      # a fresh heap after the reset
    held += [object() for _ in range(1000)]
    board.soft_reset()
    assert used_bytes(capsys) == HEAP_BASELINE      # and after a soft reset
    assert len(held) == 2000


def test_mem_info_used_follows_allocations(board, capsys):
    before = used_bytes(capsys)
    held = [object() for _ in range(1000)]
    after = used_bytes(capsys)
    assert after >= before + 500 * BLOCK
    del held[:]
    assert used_bytes(capsys) < after


def test_mem_info_used_is_capped_when_the_idf_heap_is_spent(board, capsys):
    used_bytes(capsys)
    held = [object() for _ in range(HEAP_TOTAL)]     # far more than the ESP32's RAM holds
    micropython.mem_info()
    _, gc, blocks, _ = parse_mem_info(capsys.readouterr().out)
    # the split heap grew into the IDF heap until no block was left to add
    assert gc[0] > 3 * HEAP_TOTAL
    assert gc[1] == gc[0] and gc[2] == 0
    assert gc[3] < 64 * 1024                          # max new split: what is left is small
    assert blocks[3] == 0
    assert len(held) == HEAP_TOTAL


def expand_layout(lines):
    """The block kinds the allocation table dump draws, one char per block."""
    assert re.fullmatch(r"GC memory layout; from [0-9a-f]+:", lines[0])
    blocks = ""
    for line in lines[1:]:
        free_lines = re.fullmatch(r" {7}\((\d+) lines all free\)", line)
        if free_lines:
            blocks += "." * (64 * int(free_lines.group(1)))
            continue
        row = re.fullmatch(r"([0-9a-f]{8}): ([.h=]+)", line)
        assert row, line
        assert int(row.group(1), 16) == len(blocks) * BLOCK
        blocks += row.group(2)
    return blocks


@pytest.mark.parametrize("verbose", [1, True, False])
def test_mem_info_verbose_dumps_the_allocation_table(board, capsys, verbose):
    [object() for _ in range(100)]     # some churn: the table must stay consistent
    micropython.mem_info(verbose)   # any argument at all, even False, asks for the table
    _, gc, blocks, rest = parse_mem_info(capsys.readouterr().out)
    assert rest[-1] == ""
    table = expand_layout(rest[:-1])
    assert len(table) * BLOCK == HEAP_TOTAL
    heads = re.findall(r"h=*", table.rstrip("."))
    assert "".join(heads) == table.rstrip(".")        # used blocks first, then one free run
    assert table.count(".") * BLOCK == gc[2]
    assert sum(map(len, heads)) * BLOCK == gc[1]
    assert [sum(len(h) == 1 for h in heads), sum(len(h) == 2 for h in heads),
            max(map(len, heads)), table.count(".")] == blocks


def test_mem_info_argument_errors():
    with pytest.raises(TypeError, match="^function expected at most 1 arguments, got 2$"):
        micropython.mem_info(1, 2)
    with pytest.raises(TypeError, match="^function doesn't take keyword arguments$"):
        micropython.mem_info(verbose=1)


def test_qstr_info(capsys):
    assert micropython.qstr_info() is None
    assert micropython.qstr_info(1) is None
    out = capsys.readouterr().out.split("\n")
    line = "qstr pool: n_pool=0, n_qstr=0, n_str_data_bytes=0, n_total_bytes=0"
    assert out == [line, line, ""]
    with pytest.raises(TypeError, match="^function expected at most 1 arguments, got 2$"):
        micropython.qstr_info(1, 2)


# ---- schedule ----

def test_schedule_calls_soon(board):
    calls = []
    assert micropython.schedule(calls.append, 5) is None
    for _ in range(3):
        pass
    assert calls == [5]


def test_schedule_runs_in_order(board):
    calls = []
    for i in range(4):
        micropython.schedule(calls.append, i)
    for _ in range(3):
        pass
    assert calls == [0, 1, 2, 3]


def test_schedule_queue_holds_eight(board):
    ran, errors = [], []

    def fill(_):
        for i in range(9):
            try:
                micropython.schedule(ran.append, i)
            except RuntimeError as e:
                errors.append(str(e))

    micropython.schedule(fill, None)
    for _ in range(20):
        pass
    assert errors == ["schedule queue full"]
    assert ran == list(range(8))


def test_schedule_prints_exceptions_instead_of_raising(board, capsys):
    def boom(arg):
        raise ValueError("scheduled %d" % arg)

    micropython.schedule(boom, 7)
    micropython.schedule(42, None)               # not callable: found out when it runs
    for _ in range(3):
        pass
    out = capsys.readouterr().out.split("\n")
    # MicroPython's format: the frames without source lines, then the exception.
    assert out == [
        "Traceback (most recent call last):",
        '  File "%s", line %d, in boom' % (__file__, boom.__code__.co_firstlineno + 1),
        "ValueError: scheduled 7",
        "TypeError: 'int' object isn't callable",      # raised before any frame: no traceback
        "",
    ]


def test_schedule_reset_unwinds_and_empties_the_queue(board):
    calls = []

    def reset_now(_):
        micropython.schedule(calls.append, "after reset")
        machine.reset()

    boots = board.boot_count
    with pytest.raises(esp32sim.Reset):
        micropython.schedule(reset_now, None)
        for _ in range(3):
            pass
    for _ in range(3):
        pass
    assert board.boot_count == boots + 1
    assert calls == []


def test_schedule_argument_errors(board):
    with pytest.raises(TypeError, match="^function takes 2 positional arguments but 1 were given$"):
        micropython.schedule(print)
    with pytest.raises(TypeError, match="^function doesn't take keyword arguments$"):
        micropython.schedule(print, 1, arg=2)
