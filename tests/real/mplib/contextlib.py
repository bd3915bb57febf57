import contextlib
from contextlib import contextmanager, closing, suppress, ExitStack

@contextmanager
def tag(name):
    print("<%s>" % name)
    try:
        yield name.upper()
    finally:
        print("</%s>" % name)

with tag("p") as t:
    print("body", t)

@contextmanager
def swallow():
    try:
        yield
    except ValueError as e:
        print("caught", type(e).__name__, e)

with swallow():
    raise ValueError("v")
print("after swallow")

try:
    with tag("q"):
        raise ValueError("inner")
except ValueError as e:
    print("propagated", e)

@tag("deco")
def work(x):
    print("work", x)
    return x * 2
print(work(3), work(4))

@contextmanager
def noyield():
    if False:
        yield

try:
    with noyield():
        pass
except RuntimeError as e:
    print("RuntimeError", e)

@contextmanager
def twice():
    yield 1
    yield 2

try:
    with twice():
        pass
except RuntimeError as e:
    print("RuntimeError", e)

class Res:
    def __init__(self, n):
        self.n = n
    def close(self):
        print("close", self.n)

with closing(Res(1)) as r:
    print("using", r.n)

with suppress(KeyError, IndexError):
    [][1]
print("suppressed")
try:
    with suppress(KeyError):
        1 // 0
except ZeroDivisionError:
    print("not suppressed")

try:
    st = ExitStack()
    st.callback(print, "callback")
    st.close()
except TypeError as e:
    print("TypeError", e)
