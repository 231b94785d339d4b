"""Sub-commands of ``diplograph``, one module each, registered in this order.

A module listed here must define ``register(subparsers)``.
"""

COMMAND_MODULES: list[str] = [
    "kg.commands.build",
    "kg.commands.analyze",
    "kg.commands.query",
    "kg.commands.serve",
    "kg.commands.validate",
    "kg.commands.export",
    "kg.commands.push",
]
