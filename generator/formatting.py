"""Format rendered modules with black, chunk by chunk, reusing earlier results.

Black is the slow step of generation (about 5 s for 14,000 lines on this project's 2-core
machines, and all versions together render several hundred thousand lines). Three things
keep it fast:

- a module is formatted as separate top-level chunks, and a chunk already formatted (in
  this run for another API version, or in an earlier run) is not formatted again;
- the chunks still to format are split across worker processes;
- results persist in a cache file keyed by black's version and mode.

Joining formatted chunks with the separator black itself puts between top-level statements
gives the file black would produce for the whole module; the tests check that with
`black --check`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import black

from generator.errors import GeneratorError
from generator.render import PythonModule

log = logging.getLogger(__name__)

# Black's defaults, so that a plain `black --check generated/` agrees with the output.
MODE = black.Mode()

# Below this many chunks, starting worker processes costs more than it saves.
_PARALLEL_THRESHOLD = 200


def _key(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()


# A method is formatted inside this stand-in class, which is then cut off again.
_MEMBER_WRAPPER = "class _:\n"


def is_member(chunk: str) -> bool:
    """Tell whether a chunk is a method of the class before it (its first line is indented)."""
    return chunk[:1] in (" ", "\t")


def _format_one(source: str) -> str:
    try:
        if is_member(source):
            formatted = black.format_str(_MEMBER_WRAPPER + source, mode=MODE)
            return formatted[len(_MEMBER_WRAPPER):]
        return black.format_str(source, mode=MODE)
    except black.InvalidInput as error:
        # The rendered source is not valid Python: a template or a name is wrong.
        first_line = source.splitlines()[0] if source else ""
        raise GeneratorError(
            f"rendered code does not parse ({error}); the chunk starts with: {first_line!r}"
        ) from None


def _format_batch(sources: list[str]) -> list[str]:
    return [_format_one(source) for source in sources]


class Formatter:
    """Formats chunks through a persistent cache of black's results."""

    def __init__(self, cache_file: Path | None, workers: int | None = None) -> None:
        self._cache_file = cache_file
        self._workers = workers or max(1, min(os.cpu_count() or 1, 4))
        self._cache: dict[str, str] = {}
        self._dirty = False
        self.formatted_count = 0
        self.reused_count = 0
        if cache_file is not None and cache_file.exists():
            try:
                with cache_file.open("rb") as stream:
                    stored = pickle.load(stream)
                if stored.get("black") == black.__version__ and stored.get("mode") == repr(MODE):
                    self._cache = stored["chunks"]
            except (OSError, pickle.UnpicklingError, EOFError, KeyError, AttributeError) as error:
                log.warning("ignoring unreadable format cache %s: %s", cache_file, error)

    def format_modules(self, modules: Iterable[PythonModule]) -> None:
        """Format every chunk of `modules` not yet in the cache."""
        missing: dict[str, str] = {}
        for module in modules:
            for chunk in module.chunks:
                key = _key(chunk)
                if key in self._cache or key in missing:
                    self.reused_count += 1
                else:
                    missing[key] = chunk
        if not missing:
            return

        keys = list(missing)
        sources = [missing[key] for key in keys]
        if len(sources) < _PARALLEL_THRESHOLD or self._workers == 1:
            results = _format_batch(sources)
        else:
            # Interleaved batches even out the work: big and small chunks alternate.
            batches = [sources[index :: self._workers] for index in range(self._workers)]
            with ProcessPoolExecutor(max_workers=self._workers) as pool:
                outputs = list(pool.map(_format_batch, batches))
            results = [""] * len(sources)
            for index, output in enumerate(outputs):
                results[index :: self._workers] = output
        self._cache.update(zip(keys, results))
        self.formatted_count += len(keys)
        self._dirty = True

    def text(self, module: PythonModule) -> str:
        """Return the formatted source of a module whose chunks were formatted."""
        pieces: list[str] = []
        for chunk in module.chunks:
            formatted = self._cache[_key(chunk)].strip("\n")
            if not formatted:
                continue
            if pieces:
                pieces.append("\n\n" if is_member(chunk) else module.separator)
            pieces.append(formatted)
        return "".join(pieces) + "\n"

    def save(self) -> None:
        """Write the cache, keeping only what this run used when it grew too large."""
        if not self._dirty or self._cache_file is None:
            return
        self._cache_file.parent.mkdir(parents=True, exist_ok=True)
        payload = {"black": black.__version__, "mode": repr(MODE), "chunks": self._cache}
        handle, temporary = tempfile.mkstemp(dir=self._cache_file.parent, suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as stream:
                pickle.dump(payload, stream, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, self._cache_file)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        self._dirty = False
