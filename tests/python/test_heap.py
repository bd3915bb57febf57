"""esp32.idf_heap_info over the simulated ESP-IDF heaps (docs/heap.md;
reference/espidf-formats.md §E)."""
import io
import contextlib

import esp32
import micropython
import pytest


def data_heaps():
    return esp32.idf_heap_info(esp32.HEAP_DATA)


def test_shapes_and_capabilities(board):
    everything = esp32.idf_heap_info(0)
    assert len(everything) == 5
    for total, free, largest, low in everything:
        assert 0 <= largest <= free <= total and low <= free
    data, exec_ = data_heaps(), esp32.idf_heap_info(esp32.HEAP_EXEC)
    assert data == everything[:4]                  # DRAM x2, D/IRAM x2
    assert exec_ == everything[2:]                 # D/IRAM x2, IRAM
    assert esp32.idf_heap_info(-1) == []
    assert esp32.idf_heap_info(1 << 10) == []      # SPIRAM: none on this board
    assert [t[0] for t in everything] == [6432, 136016, 15072, 113840, 19032]
    with pytest.raises(TypeError, match="can't convert str to int"):
        esp32.idf_heap_info("4")
    with pytest.raises(TypeError):
        esp32.idf_heap_info()


def test_micropython_heap_is_taken_at_boot(board):
    dram = data_heaps()[1]
    assert dram[0] - dram[1] > 56 * 1024           # the 56 KiB GC heap and the task stacks
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        micropython.mem_info()
    split = int(out.getvalue().split("max new split: ")[1].split()[0])
    assert split == max(h[2] for h in data_heaps())   # what the split heap could add


def test_nvs_handles_and_items_use_the_heap(board):
    before = sum(h[1] for h in data_heaps())
    handles = [esp32.NVS("ns%d" % i) for i in range(20)]   # MicroPython never closes them
    after_open = sum(h[1] for h in data_heaps())
    assert after_open < before - 20 * 40
    for i in range(120):
        handles[0].set_i32("k%d" % i, i)
    after_items = sum(h[1] for h in data_heaps())
    assert after_items <= after_open - 4 * 128      # hash-list blocks for ~140 items
    low = [h[3] for h in data_heaps()]
    for i in range(120):
        handles[0].erase_key("k%d" % i)
    freed = sum(h[1] for h in data_heaps())
    assert freed > after_items
    assert [h[3] for h in data_heaps()] == low     # the low-water mark remembers


def test_a_reset_gives_the_heap_back(board):
    fresh = data_heaps()
    for i in range(10):
        esp32.NVS("x%d" % i)
    assert data_heaps() != fresh
    board.reset()
    assert data_heaps() == fresh
