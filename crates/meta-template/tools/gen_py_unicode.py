"""Writes src/py_unicode.rs: the Unicode data Python's str methods use, as Rust tables."""
import sys, unicodedata
def ranges(pred):
    out=[]; start=None
    for cp in range(0x110000):
        ok = pred(chr(cp))
        if ok and start is None: start=cp
        if not ok and start is not None: out.append((start,cp-1)); start=None
    if start is not None: out.append((start,0x10ffff))
    return out
def surrogate(c): return 0xd800 <= ord(c) <= 0xdfff
tables = {
 "DECIMAL": lambda c: c.isdecimal(),
 "NUMERIC": lambda c: c.isnumeric(),
 "TITLECASE": lambda c: unicodedata.category(c) == "Lt",
 "UPPERCASE": lambda c: c.isupper(),
 "LOWERCASE": lambda c: c.islower(),
 "PRINTABLE": lambda c: c.isprintable(),
 "XID_START": lambda c: not surrogate(c) and c.isidentifier(),
 "XID_CONTINUE": lambda c: not surrogate(c) and ("a"+c).isidentifier(),
}
out = []
out.append(f"//! Python's Unicode character data (Python {sys.version_info[0]}.{sys.version_info[1]}, Unicode {unicodedata.unidata_version}) where `str`\n//! methods need it, so `isdecimal`, `isnumeric`, `istitle`, `isidentifier`, `isprintable`,\n//! `casefold` and `repr` agree with the Python cookiecutter runs on rather than with the\n//! Unicode version Rust ships. Written by `tools/gen_py_unicode.py` (run it with the venv's\n//! Python: `python tools/gen_py_unicode.py src/py_unicode.rs`); do not edit by hand.\n")
out.append("/// Whether `c` is in one of the sorted, disjoint inclusive `ranges`.\npub fn in_ranges(ranges: &[(u32, u32)], c: char) -> bool {\n    let cp = u32::from(c);\n    ranges\n        .binary_search_by(|(lo, hi)| {\n            if *hi < cp {\n                std::cmp::Ordering::Less\n            } else if *lo > cp {\n                std::cmp::Ordering::Greater\n            } else {\n                std::cmp::Ordering::Equal\n            }\n        })\n        .is_ok()\n}\n")
docs = {"DECIMAL":"`str.isdecimal`: general category Nd.","NUMERIC":"`str.isnumeric`: Numeric_Type Decimal, Digit or Numeric (CJK numerals too).","TITLECASE":"General category Lt (what `str.istitle` takes for a capital).","UPPERCASE":"`str.isupper` of one character.","LOWERCASE":"`str.islower` of one character.","PRINTABLE":"`str.isprintable` of one character (what `repr` leaves unescaped).","XID_START":"What an identifier starts with (`str.isidentifier`: XID_Start and `_`).","XID_CONTINUE":"What an identifier goes on with (XID_Continue)."}
for name,pred in tables.items():
    r = ranges(pred)
    print(name, len(r), file=sys.stderr)
    out.append(f"/// {docs[name]}\npub const {name}: &[(u32, u32)] = &[\n" + "".join(f"    (0x{a:x}, 0x{b:x}),\n" for a,b in r) + "];\n")
fold = [(cp, chr(cp).casefold()) for cp in range(0x110000) if not surrogate(chr(cp)) and chr(cp).casefold() != chr(cp)]
print("CASEFOLD", len(fold), file=sys.stderr)
def lit(s): return '"' + "".join(f"\\u{{{ord(ch):x}}}" for ch in s) + '"'
out.append("/// `str.casefold` of each character it changes, sorted.\npub const CASEFOLD: &[(u32, &str)] = &[\n" + "".join(f"    (0x{cp:x}, {lit(s)}),\n" for cp,s in fold) + "];\n")
open(sys.argv[1],"w").write("\n".join(out))
