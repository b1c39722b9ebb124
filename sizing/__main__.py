"""`python -m sizing`: runs the command line (cli/sizing_main.py)."""

import gc
import os
import sys

# The command line computes elementwise with numpy and never calls BLAS: OpenBLAS's thread
# pool, started when numpy is imported, only costs start-up time (~60 ms on a 2-CPU
# machine). A value the user sets still wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
# No pydantic plugins are used: without this, building the first validator scans every
# installed distribution's entry points for them (importlib.metadata, ~25-40 ms).
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "1")
# Loading the modules (numpy, pydantic and its schemas, the command's own) makes ~10^5
# long-lived objects and no garbage: the cyclic collector, run every 700 allocations,
# would walk them again and again (~25 ms CPU of a 0.5 s `plan`, measured). It is off
# while they load; then they are frozen (never walked again) and it runs as usual.
gc.disable()

# after the environment is set and with the collector off:
from cli.sizing_main import command_module, command_named, main  # noqa: E402

command = command_named(sys.argv[1:])
if command is not None:
    command_module(command)  # its imports, while the collector is off
gc.freeze()
gc.enable()
code = main()
# End without tearing the interpreter down: freeing every module and object (numpy,
# pydantic, the catalog) costs ~0.1 s of a 0.5 s `estimate`, and the operating system
# reclaims the memory anyway. Nothing is lost: the output is flushed here, every file the
# commands write is closed by its `with` block, and none of them logs or registers atexit
# work (tests/sizing call `cli.main` itself, which returns normally).
for stream in (sys.stdout, sys.stderr):
    try:
        stream.flush()
    except (BrokenPipeError, ValueError):  # the reader went away (e.g. piped into head)
        pass  # and main() closed the stream
    except OSError as exc:  # e.g. a full disk behind a redirect
        os.write(2, f"error: cannot write the output ({exc.strerror})\n".encode())
        code = code or 1
os._exit(code)
