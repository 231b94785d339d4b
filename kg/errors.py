"""Errors that reach the user as a one-line message naming the file or query at fault."""

from __future__ import annotations


class UserError(Exception):
    """A problem with the user's input or environment; printed without a traceback."""

    exit_code = 1


class ArticleError(UserError):
    """An article cannot be read or understood; names the file and the reason."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class QueryError(UserError):
    """A SPARQL query is malformed or cannot run; names the query."""

    exit_code = 2
