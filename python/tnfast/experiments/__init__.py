"""End-to-end jobs run by the ``tnfast`` command.

Every module here that defines ``register(subparsers)`` adds its own subcommand(s); a module
that reproduces a paper's experiment registers under ``tnfast repro <name>`` by defining
``register_repro(repro_subparsers)``.
"""
