#!/usr/bin/env python3
"""Writes the committed seed corpora under fuzz/seeds/<target>/: small, real-looking inputs
(valid events, ZMTP handshakes and sessions, manifests, configs, templates) plus a few near
misses. Rerun after changing it; the output is deterministic."""

import json
import pathlib
import shutil
import struct

ROOT = pathlib.Path(__file__).resolve().parent
SEEDS = ROOT / "seeds"
REPO = ROOT.parent


def write(target, name, data):
    path = SEEDS / target / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)


# --- ingest: events as publishers send them, and as the log holds them ----------------------
EVENTS = {
    "minimal": {"type": "acme:build:done"},
    "file_created": {"type": "core:file:created", "source": "/plugins/watch",
                     "data": {"path": "src/a/b.txt", "project": "src/a", "is_dir": False}},
    "with_metadata": {"type": "hello-rs:greeted", "source": "/plugins/hello-rs", "user": "ada",
                      "attempt": 3, "urgent": True, "data": {"name": "world"}},
    "full": {"specversion": "1.0", "id": "0190c2b4-7d1e-7cc1-9a55-3f0b7f1e2a10",
             "source": "/meta/cli", "type": "core:plugin:installed",
             "time": "2026-12-06T18:00:00.123456Z", "datacontenttype": "application/json",
             "subject": "hello", "dataschema": "https://example.invalid/s",
             "data": {"name": "hello", "version": "0.1.0", "source": "builtin"}},
    "logged": {"specversion": "1.0", "id": "0190c2b4-7d1e-7cc1-9a55-3f0b7f1e2a11",
               "source": "/meta/daemon", "type": "core:system:startup",
               "time": "2026-12-06T18:00:00.000001Z", "sequence": "00000000000000000042",
               "datacontenttype": "application/json", "data": {"pid": 4242, "version": "0.1.0"}},
    "data_base64": {"type": "acme:blob:stored", "data_base64": "aGVsbG8="},
    "escaped_keys": None,  # written by hand below
    "bad_type": {"type": "Core:File"},
    "bad_extension": {"type": "a:b", "Bad-Name": 1},
    "big_integer": {"type": "a:b", "count": 4294967296},
    "bad_time": {"type": "a:b", "time": "yesterday"},
}
for name, event in EVENTS.items():
    if event is not None:
        write("ingest", name + ".json", json.dumps(event))
write("ingest", "escaped_keys.json", '{"t\\u0079pe":"a:b","d\\u0061ta":"line\\nbreak"}')
write("ingest", "duplicate.json", '{"type":"a:b","type":"a:c"}')
write("ingest", "pretty.json", json.dumps(EVENTS["full"], indent=2))
write("ingest", "not_object.json", '["type","a:b"]')

# --- event_type: a type, then NUL and a subscription prefix --------------------------------
for i, (ty, prefix) in enumerate([
    ("core:file:created", "core:file"), ("core:file:created", "core:file:"),
    ("core:filesystem:mounted", "core:file:"), ("core:files", "core:file"),
    ("acme:build:done", ""), ("a:b:c:d:e:f:g:h", "a:b:c:d:e:f:g:h:"),
    ("x1:y_2:z-3", "x1"), ("a" * 32 + ":b", "a"), ("a:b:c:d:e:f:g:h:i", "a"),
    ("Core:file", "core"), ("core::file", ":"), ("hello-rs:greeted", "hello-rs:"),
    ("00000000000000000042", ""), ("18446744073709551616", "1"), ("user", "u"),
]):
    write("event_type", f"seed{i:02}", ty + "\0" + prefix)

# --- zmtp: see fuzz_targets/zmtp.rs for the operation format -------------------------------
def greeting(mechanism=b"NULL", major=3, minor=0):
    g = bytearray(64)
    g[0], g[9], g[10], g[11] = 0xFF, 0x7F, major, minor
    g[12:12 + len(mechanism)] = mechanism
    return bytes(g)


def frame(body, flags=0):
    if len(body) <= 255:
        return bytes([flags, len(body)]) + body
    return bytes([flags | 0x02]) + struct.pack(">Q", len(body)) + body


def command(name, data=b""):
    return frame(bytes([len(name)]) + name + data, 0x04)


def ready(socket_type, extra=b""):
    prop = bytes([11]) + b"Socket-Type" + struct.pack(">I", len(socket_type)) + socket_type
    return command(b"READY", prop + extra)


def send(data, peer=0):
    """Operations sending `data` from connection `peer`, in chunks of at most 255 bytes."""
    out = bytearray()
    for i in range(0, len(data), 255):
        chunk = data[i:i + 255]
        out += bytes([(peer << 3) | 0, len(chunk)]) + chunk
    return bytes(out)


TURN = bytes([4])


def connect(room_64=64):
    return bytes([5, room_64])


def hang_up(peer):
    return bytes([6 | 8 | (peer << 4)])


def drain(peer, n16):
    return bytes([6 | (peer << 4), n16])


def publish(topic, body):
    return bytes([7, len(topic)]) + topic + bytes([len(body)]) + body


PULL, XPUB = bytes([0 | (3 << 1)]), bytes([1 | (1 << 1)])
event = json.dumps(EVENTS["file_created"]).encode()
push = greeting() + ready(b"PUSH")
write("zmtp", "pull_one_event", PULL + send(push + frame(event)) + TURN)
write("zmtp", "pull_multi_frame", PULL + send(push + frame(b"a", 1) + frame(b"b", 1) + frame(event)) + TURN)
write("zmtp", "pull_byte_by_byte", PULL + b"".join(send(bytes([b])) + TURN for b in push + frame(event)))
write("zmtp", "pull_two_peers", PULL + connect() + send(push + frame(event) * 3, 0)
      + send(push + frame(event) * 3, 1) + TURN + hang_up(0) + TURN)
write("zmtp", "pull_long_frame", bytes([0 | (2 << 1)]) + send(push + frame(event * 3)) + TURN)
write("zmtp", "pull_over_limit", bytes([0]) + send(push + frame(event)) + TURN)
write("zmtp", "pull_ping", PULL + send(push + command(b"PING", b"\x00\x64ctx") + frame(event)) + TURN)
write("zmtp", "pull_zmtp31_metadata", PULL + send(greeting(minor=1) + ready(b"PUSH", bytes([8]) + b"Identity" + struct.pack(">I", 0))) + TURN)
write("zmtp", "pull_wrong_socket", PULL + send(greeting() + ready(b"PUB")) + TURN)
write("zmtp", "pull_curve", PULL + send(greeting(b"CURVE")) + TURN)
write("zmtp", "pull_zmtp2", PULL + send(greeting(major=2)) + TURN)
write("zmtp", "pull_error", PULL + send(push + command(b"ERROR", b"\x03bye")) + TURN)
write("zmtp", "pull_data_before_ready", PULL + send(greeting() + frame(event)) + TURN)
write("zmtp", "pull_http", PULL + send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" + bytes(40)) + TURN)
sub = greeting() + ready(b"SUB")
write("zmtp", "xpub_subscribe_publish", XPUB + send(sub + frame(b"\x01core:file:")) + TURN
      + publish(b"core:file:created:", event[:200]) + publish(b"acme:x:", b"{}") + drain(0, 64) + TURN)
write("zmtp", "xpub_commands", XPUB + send(greeting(minor=1) + ready(b"XSUB") + command(b"SUBSCRIBE", b"core:")
      + command(b"SUBSCRIBE", b"") + command(b"CANCEL", b"core:") + command(b"PING", b"\x00\x0a") + command(b"PONG"))
      + TURN + publish(b"a:b:", b"x") + TURN)
write("zmtp", "xpub_hwm", bytes([1]) + send(sub + frame(b"\x01")) + TURN + connect(0) + send(sub + frame(b"\x01a:"), 1) + TURN
      + b"".join(publish(b"a:b:", b"{}") for _ in range(5)) + drain(1, 255) + TURN + hang_up(0) + TURN)
write("zmtp", "xpub_unsubscribe", XPUB + send(sub + frame(b"\x01a:") + frame(b"\x01a:") + frame(b"\x00a:")) + TURN
      + publish(b"a:b:", b"{}"))
write("zmtp", "xpub_multi_frame", XPUB + send(sub + frame(b"\x01x", 1) + frame(b"\x01y")) + TURN)
write("zmtp", "xpub_wrong_socket", XPUB + send(greeting() + ready(b"PUSH")) + TURN)

# --- manifest: the shipped examples and variations -----------------------------------------
for example in ["hello-rs", "hello-python"]:
    write("manifest", example + ".toml", (REPO / "examples" / example / "meta-plugin.toml").read_text())
write("manifest", "minimal.toml", 'api = 1\n\n[plugin]\nname = "x"\nversion = "1.0.0"\n')
write("manifest", "commands.toml", 'api = 1\n[plugin]\nname = "tools"\nversion = "0.2.0"\ndescription = "d"\n\n'
      '[[command]]\nname = "lint"\nexec = ["./lint", "--all"]\n\n[[command]]\nname = "fmt"\nabout = "format"\nexec = ["fmt"]\n')
write("manifest", "service_always.toml", 'api = 1\n[plugin]\nname = "svc"\nversion = "1"\n[service]\nexec = ["./s"]\n'
      'subscribe = [""]\nrestart = "always"\n[events]\npublish = ["svc:", "svc:x:"]\n')
write("manifest", "inline_tables.toml", 'api = 1\nplugin = { name = "x", version = "1" }\ncommand = [{ name = "a", exec = ["a"] }]\n')
write("manifest", "bad_api.toml", 'api = "one"\n[plugin]\nname = "Bad Name"\nversion = ""\n')
write("manifest", "unicode.toml", 'api = 1\n[plugin]\nname = "é"\nversion = "1"\ndescription = """\nmulti\nline ✓\n"""\n')

# --- config: the meta-repo config as `meta init` writes it, and variations -------------------
init = (REPO / "templates" / "metarepo" / "{{cookiecutter.project_slug}}" / "meta" / "metarepo.toml").read_text()
write("config", "init.toml", init.replace("{{ cookiecutter.project_name|tojson }}", '"acme"'))
write("config", "minimal.toml", '[metarepo]\nname = "acme"\n')
write("config", "tcp.toml", '[metarepo]\nname = "acme"\ngroups = ["a", "b.c"]\n[events]\ntcp = "127.0.0.1:7700"\n'
      'fanout_hwm = 1000\ndurability = "always"\n[plugins.watch]\nenabled = false\n[plugins.hello]\nenabled = true\n')
write("config", "remote.toml", '[metarepo]\nname = "acme"\n[events]\ntcp = "[::]:7700"\ntcp_allow_remote = true\n')
write("config", "errors.toml", '[metarepo]\nname = " "\ngroups = [".x", "a", "a"]\n[events]\nlog_kep = 0\n')

# --- template: cookiecutter.json NUL folder NUL file NUL content ----------------------------
def template(name, context, folder, file, content):
    write("template", name, json.dumps(context, indent=4) + "\0" + folder + "\0" + file + "\0" + content)


template("basic", {"project_name": "My Project", "project_slug": "{{ cookiecutter.project_name|lower|replace(' ', '-') }}"},
         "{{cookiecutter.project_slug}}", "README.md", "# {{ cookiecutter.project_name }}\n")
template("choices", {"project_slug": "demo", "license": ["MIT", "BSD-3"], "use_ci": "y", "n": 3},
         "{{cookiecutter.project_slug}}", "{{cookiecutter.license}}.txt",
         "{% if cookiecutter.use_ci == 'y' %}ci{% endif %}\n{% for i in range(cookiecutter.n|int) %}{{ i }}{% endfor %}\n")
template("filters", {"project_slug": "x", "name": "Ünïcode Name", "items": {"a": 1, "b": [1, 2]}},
         "{{cookiecutter.project_slug}}", "f.txt",
         "{{ cookiecutter.name|slugify }} {{ cookiecutter.items|jsonify }} {{ cookiecutter.name|title|truncate(5) }}\r\n"
         "{% now 'utc', '%Y' %} {{ '%s-%d'|format('a', 3) }} {{ cookiecutter.items.b|sum }}\n")
template("copy_without_render", {"project_slug": "raw", "_copy_without_render": ["*.html", "raw/*", "[!a]*.css"]},
         "{{cookiecutter.project_slug}}", "page.html", "{{ not rendered }}\n")
template("escape_attempt", {"project_slug": "../escape", "file": "../../etc/x"},
         "{{cookiecutter.project_slug}}", "{{cookiecutter.file}}", "nope\n")
template("custom_syntax", {"project_slug": "cs", "_jinja2_env_vars": {"trim_blocks": True},
                           "_extensions": ["cookiecutter.extensions.SlugifyExtension"]},
         "{{cookiecutter.project_slug}}", "a.txt", "{% raw %}{{ x }}{% endraw %}\n{% set y = 1 %}{{ y }}\n")
template("undefined", {"project_slug": "u"}, "{{cookiecutter.project_slug}}", "{{cookiecutter.missing}}", "{{ cookiecutter.nope.deeper }}")
template("macros", {"project_slug": "m", "_private": "p", "__prompts__": {"project_slug": "Slug?"}},
         "{{cookiecutter.project_slug}}", "m.txt",
         "{% macro m(x) %}<{{ x }}>{% endmacro %}{{ m(cookiecutter._private) }}{% include 'nope.txt' ignore missing %}\n")
