"""The board's gc module (board code imports it as gc; here it is
_esp32sim.gc): its figures agree with micropython.mem_info() and with
esp32.idf_heap_info, as the esp32 module's documentation describes."""
import contextlib
import io
import re

import _esp32sim
import esp32
import micropython
import pytest

gc = _esp32sim.gc


def mem_info():
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        micropython.mem_info()
    fields = dict(re.findall(r"(total|used|free|max new split): (\d+)", out.getvalue()))
    return {k: int(v) for k, v in fields.items()}


def test_mem_free_is_free_plus_max_new_split(board):
    free, alloc = gc.mem_free(), gc.mem_alloc()
    info = mem_info()
    split = info["max new split"]
    assert split == max(h[2] for h in esp32.idf_heap_info(esp32.HEAP_DATA))   # the IDF heap's largest free block
    assert info["total"] == 56000                                             # the 56 KiB initial heap's pool
    # the figures move as the host allocates; between two calls only by a few blocks
    assert abs((free - split) - (info["total"] - alloc)) <= 64
    assert 0 <= info["used"] - alloc <= 1024   # capturing mem_info's text allocates a little


def test_max_new_split_follows_the_idf_heap(board):
    before = gc.mem_free()
    idf = esp32.idf_heap_info(esp32.HEAP_DATA)
    assert before > max(h[2] for h in idf)


def test_threshold_collect_and_enable(board):
    assert gc.threshold() == -1
    gc.threshold(4096)
    assert gc.threshold() == 4096
    gc.threshold(-5)
    assert gc.threshold() == -1
    assert gc.collect() is None
    gc.disable()
    assert gc.isenabled() is False
    gc.enable()
    assert gc.isenabled() is True
    with pytest.raises(TypeError, match="function takes 0 positional arguments but 1 were given"):
        gc.mem_free(1)


def test_the_split_heap_grows_into_the_idf_heap(board):
    idf_before = sum(h[1] for h in esp32.idf_heap_info(esp32.HEAP_DATA))
    assert mem_info()["total"] == 56000
    keep = [bytearray(8) for _ in range(6000)]     # more than the 56 KiB heap holds
    info = mem_info()
    assert info["total"] > 56000                    # areas were added ...
    idf_after = sum(h[1] for h in esp32.idf_heap_info(esp32.HEAP_DATA))
    assert idf_before - idf_after >= info["total"] - 56000   # ... taken from the IDF heap
    assert info["max new split"] == max(h[2] for h in esp32.idf_heap_info(1 << 12))   # MALLOC_CAP_DEFAULT
    assert len(keep) == 6000
    board.reset()                                   # a reset gives it all back
    assert mem_info()["total"] == 56000
    assert sum(h[1] for h in esp32.idf_heap_info(esp32.HEAP_DATA)) == idf_before
