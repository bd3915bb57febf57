import base64
print(base64.b64encode(b"Aladdin:open sesame"))
print(base64.b64decode(b"QWxhZGRpbjpvcGVuIHNlc2FtZQ=="))
print(base64.b64decode("aGk="), base64.b64decode(b"aG\nk="))
print(base64.b64encode(b""), base64.b64encode(b"\xfb\xff"), base64.b64encode(b"\xfb\xff", b"-_"))
print(base64.urlsafe_b64encode(b"\xfb\xff\xfe"))
print(base64.b64decode(b"-_8=", b"-_"))
print(base64.b32encode(b"abcde"), base64.b32encode(b"a"), base64.b32encode(b"hello!"))
print(base64.b32decode(b"MFRGGZDF"), base64.b32decode(b"ME======"), base64.b32decode(b"me======", True))
print(base64.b16encode(b"\x01\xab"), base64.b16decode(b"01AB"), base64.b16decode(b"01ab", True))
print(base64.encodebytes(b"x" * 60))
print(base64.decodebytes(b"eHh4\n"))
for bad in (b"YQ", b"Y"):
    try:
        base64.b64decode(bad)
    except Exception as e:
        print(type(e).__name__, e)
try:
    base64.b64encode("text")
except TypeError as e:
    print("TypeError", e)
try:
    base64.b32decode(b"ABC")
except Exception as e:
    print(type(e).__name__)
try:
    base64.b64decode(b"a$==", validate=True)
except Exception as e:
    print(type(e).__name__)
