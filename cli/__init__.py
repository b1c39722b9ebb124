"""The command line: ``python -m sizing`` and ``python -m pricing``.

A composition layer (docs/design.md): the only place besides the app where `sizing` and
`pricing` meet. One module per command, named after it (``python -m sizing compare`` is
cli/compare.py); `cli.sizing_main` parses and dispatches ``python -m sizing``,
`cli.prices` is ``python -m pricing``; shared helpers are in `cli.common`.
"""
