import fnmatch
print(fnmatch.fnmatch("main.py", "*.py"), fnmatch.fnmatch("main.pyc", "*.py"))
print(fnmatch.fnmatch("boot.py", "b??t.py"), fnmatch.fnmatch("bot.py", "b??t.py"))
print(fnmatch.fnmatchcase("Main.PY", "*.py"), fnmatch.fnmatch("Main.PY", "*.PY"))
print(fnmatch.fnmatch("data7.bin", "data[0-9].bin"), fnmatch.fnmatch("datax.bin", "data[!0-9].bin"))
print(fnmatch.fnmatch("data7.bin", "data[!0-9].bin"), fnmatch.fnmatch("a]b", "a[]]b"))
print(fnmatch.fnmatch("a[b", "a[b"), fnmatch.fnmatch("a+b(c)", "a+b(c)"), fnmatch.fnmatch("aab", "a+b"))
print(fnmatch.filter(["a.py", "b.txt", "c.py", "d.mpy"], "*.py"))
print(fnmatch.filter(["lib", "log1", "log22"], "log?"))
print(fnmatch.translate("*.py"), fnmatch.translate("[!a]?"))
try:
    fnmatch.fnmatch("a", 1)
except TypeError:
    print("TypeError")
