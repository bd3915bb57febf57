from functools import partial, reduce, wraps, lru_cache, cache
def add(a, b, c=0):
    return a + b + c
p = partial(add, 1, c=10)
print("partial", p(2))
print("reduce", reduce(lambda x, y: x * y, [1, 2, 3, 4, 5]))
print("reduce init", reduce(lambda x, y: x + y, [], 7))
@wraps(add)
def w(*a):
    return add(*a)
print("wraps", w(1, 2))
calls = []
@lru_cache(maxsize=2)
def sq(x):
    calls.append(x)
    return x * x
print("lru", [sq(i) for i in (1, 2, 1, 3, 2, 1)], calls)
@cache
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)
print("cache fib(30)", fib(30))
