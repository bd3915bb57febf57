import string
print(repr(string.whitespace))
print(string.ascii_letters)
print(string.hexdigits, string.octdigits)
print(string.punctuation, len(string.punctuation))
print(len(string.printable))
print(string.translate("hello", {ord("l"): "L", ord("o"): None, ord("h"): 72}))
