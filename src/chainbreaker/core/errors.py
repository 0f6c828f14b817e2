"""One small exception tree. Messages are written for analysts, not programmers.

Every error carries a Chinese message (shown by default) and an English one. The CLI prints
them without a traceback unless ``--debug`` is given.
"""

from __future__ import annotations


class ChainbreakerError(Exception):
    """Base of every error the user may see."""

    def __init__(self, zh: str, en: str | None = None, *, hint: str | None = None) -> None:
        super().__init__(en or zh)
        self.zh = zh
        self.en = en or zh
        self.hint = hint

    def message(self, lang: str = "zh") -> str:
        text = self.zh if lang == "zh" else self.en
        return f"{text}\n{self.hint}" if self.hint else text

    def __reduce__(self) -> tuple[object, ...]:
        # Default exception pickling replays ``args`` (the English text only) into ``__init__``
        # and loses ``zh``; errors cross process boundaries (parallel ingest), so keep every field.
        return _restore, (type(self), self.args, self.__dict__)


def _restore(cls: type[ChainbreakerError], args: tuple[object, ...], state: dict[str, object]) -> ChainbreakerError:
    exc = cls.__new__(cls)
    Exception.__init__(exc, *args)
    exc.__dict__.update(state)
    return exc


class InputError(ChainbreakerError):
    """A user-supplied file, argument or setting cannot be used as given."""


class MappingError(InputError):
    """Columns of an input file could not be mapped to the canonical fields."""

    def __init__(self, zh: str, en: str | None = None, *, fields: dict[str, str] | None = None,
                 hint: str | None = None) -> None:
        super().__init__(zh, en, hint=hint)
        self.fields = fields or {}


class WorkspaceError(ChainbreakerError):
    """The workspace is missing, locked or damaged."""


class ConfigError(ChainbreakerError):
    """A YAML rule, threshold or profile file is invalid."""


class EngineError(ChainbreakerError):
    """An analysis engine is not available (for example Spark is not installed)."""
