import operator
class O:
    x = 5
print(operator.attrgetter("x")(O()))
print(operator.lt(1, 2), operator.le(2, 2), operator.gt(1, 2), operator.ge(3, 2), operator.eq(1, 1), operator.ne(1, 1))
print(operator.mod(7, 3), operator.truediv(7, 2), operator.floordiv(7, 2))
print(sorted([(1, "b"), (0, "a")], key=operator.attrgetter("count") and (lambda t: t[1])))
