"""An example meta plugin: `meta hello-py [NAME]` greets NAME and publishes `hello:greeted`;
its service answers every greeting with `hello:answered`.

Everything meta tells a plugin is in its environment (see docs/plugins.md); the bus is plain
ZeroMQ with JSON (CloudEvents 1.0) messages, so pyzmq is all it takes.
"""

import json
import os
import sys

USAGE = """Usage: meta hello-py [NAME]

Greets NAME (or the world) and publishes a `hello:greeted` event on the meta bus."""


def env(name):
    value = os.environ.get(name)
    if not value:
        sys.exit(f"hello-py: `{name}` is not set: run me through meta (`meta hello-py`)")
    return value


def import_zmq():
    """pyzmq, or a message saying how to get it (meta runs the `python3` on PATH)."""
    try:
        import zmq
    except ImportError:
        sys.exit(
            "hello-py: this plugin needs pyzmq for the `python3` on PATH: "
            "`python3 -m pip install pyzmq` (or activate a venv that has it)"
        )
    return zmq


def publish(ctx, event_type, data):
    """Sends one event to the daemon's ingest socket. PUSH queues it until the connection is
    up; the linger bounds how long closing waits for that when no daemon runs."""
    zmq = import_zmq()

    push = ctx.socket(zmq.PUSH)
    push.setsockopt(zmq.LINGER, 1000)
    push.connect(env("META_BUS_INGEST"))
    event = {
        "type": event_type,
        "source": "/plugins/" + env("META_PLUGIN_NAME"),
        "data": data,
    }
    push.send(json.dumps(event).encode())
    push.close()


def greet(args):
    if "--help" in args or "-h" in args:
        print(USAGE)
        return 0
    if len(args) > 1:
        print(f"hello-py: expected at most one NAME\n\n{USAGE}", file=sys.stderr)
        return 2
    name = args[0] if args else "world"
    root = env("META_ROOT")
    zmq = import_zmq()
    print(f"Hello, {name}! (plugin {env('META_PLUGIN_NAME')} in meta-repo {os.path.basename(root)})")
    sys.stdout.flush()

    ctx = zmq.Context()
    publish(ctx, "hello:greeted", {"name": name})
    ctx.term()
    return 0


def serve():
    """The service: answers each `hello:greeted` with `hello:answered`, and tells of each
    branch switch in the meta-repo with `hello:noticed`."""
    zmq = import_zmq()

    ctx = zmq.Context()
    sub = ctx.socket(zmq.SUB)
    sub.connect(env("META_BUS_EVENTS"))
    # Topics are the event type followed by `:`, so this never matches `hello:greetedx`.
    sub.setsockopt(zmq.SUBSCRIBE, b"hello:greeted:")
    # The daemon follows every repository: `{project, from, to}`, project null for the
    # meta-repo itself, a branch null when detached.
    sub.setsockopt(zmq.SUBSCRIBE, b"core:repo:branch-switched:")
    while True:
        _topic, body = sub.recv_multipart()
        event = json.loads(body)
        if event["type"] == "core:repo:branch-switched":
            data = event.get("data") or {}
            publish(ctx, "hello:noticed", {"project": data.get("project"), "branch": data.get("to")})
            continue
        name = (event.get("data") or {}).get("name", "world")
        publish(ctx, "hello:answered", {"to": name, "sequence": event.get("sequence")})


def main(argv):
    if not argv or argv[0] not in ("greet", "serve"):
        print("hello.py: expected `greet` or `serve` (meta passes one; see meta-plugin.toml)", file=sys.stderr)
        return 2
    if argv[0] == "serve":
        serve()
        return 0
    return greet(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
