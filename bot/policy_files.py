"""The operators' policy-year folder (HUBAO_POLICY_DIR): one ``<year>.yaml`` per year,
drafts and published years, read at start beside the packaged years and written by the
``hubao policy`` commands.

A file that cannot be used stops start-up with a Chinese message naming it: hubao never
answers with figures from a year it could only half read. Published years are checked
again when read (a published file edited by hand afterwards is refused, not served).
Files are written atomically (a temporary file in the same folder, then ``os.replace``),
so a process starting meanwhile reads the old file or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.settings import os_reason
from rules.catalog import say
from rules.datafile import parse_yaml
from rules.errors import HubaoError
from rules.policy import PolicyYear
from rules.sentence import Sentence

SUFFIX = ".yaml"


class PolicyFileError(HubaoError):
    """A policy-year file that cannot be used; the message names it and the problem."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(say("bot.policy.file_error", path=path, problem=problem))
        self.path = path
        self.problem = problem


@dataclass(frozen=True)
class OperatorYear:
    """A year read from the operator folder, and the file it came from."""

    path: Path
    policy: PolicyYear


def year_path(folder: Path, year: int) -> Path:
    return folder / f"{year}{SUFFIX}"


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise PolicyFileError(path, say("bot.policy.no_such_file")) from None
    except UnicodeDecodeError:
        raise PolicyFileError(path, say("bot.policy.not_utf8")) from None
    except OSError as exc:
        raise PolicyFileError(path, os_reason(exc)) from None


def parse_data(path: Path, text: str) -> dict[str, Any]:
    """The mapping a year file holds; a YAML mistake is said with its line."""
    try:
        data = parse_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = str(getattr(exc, "problem", "") or "")
        if mark is not None:
            where = say("bot.policy.yaml_error", line=mark.line + 1, column=mark.column + 1)
        else:
            where = say("bot.policy.yaml_error_somewhere")
        raise PolicyFileError(path, f"{where}{problem}") from None
    if not isinstance(data, dict):
        raise PolicyFileError(path, say("bot.policy.not_a_mapping"))
    return data


def read_data(path: Path) -> dict[str, Any]:
    return parse_data(path, read_text(path))


def check_sentences(data: Mapping[str, Any]) -> list[Sentence]:
    """What ``rules.policy_check`` finds in a year's data."""
    from rules.policy_check import check_year

    return check_year(data)


def publish_sentences(data: Mapping[str, Any]) -> list[Sentence]:
    """Why a year's data cannot be published (errors, figures nobody confirmed)."""
    from rules.policy_check import publish_problems

    return publish_problems(data)


def _numbered(sentences: list[Sentence]) -> str:
    return "".join(f"\n  {n}. {s.text}" for n, s in enumerate(sentences, 1))


def validate(path: Path, data: Mapping[str, Any]) -> PolicyYear:
    """The policy year ``data`` describes; what is wrong is said in Chinese (the check's
    explanations, else the model's own words with the field's path)."""
    try:
        return PolicyYear.model_validate(data)
    except ValidationError as exc:
        explained = check_sentences(data)
        if explained:
            raise PolicyFileError(path, _numbered(explained)) from None
        fields = "".join(
            f"\n  {'.'.join(str(p) for p in err['loc']) or '-'}: {err['msg']}"
            for err in exc.errors()
        )
        raise PolicyFileError(path, say("bot.policy.invalid", fields=fields)) from None


def read_year(path: Path, *, check_published: bool = True) -> PolicyYear:
    """The year in ``path``; a published one must also pass the publishing check."""
    data = read_data(path)
    policy = validate(path, data)
    if check_published and policy.status == "published":
        problems = publish_sentences(data)
        if problems:
            raise PolicyFileError(
                path, say("bot.policy.published_but_wrong", problems=_numbered(problems))
            )
    return policy


def operator_files(folder: Path) -> list[Path]:
    """The year files in ``folder``; none when there is no folder."""
    try:
        # Hidden files (an editor's own, ours while being written) are not years.
        return sorted(
            p
            for p in folder.iterdir()
            if p.suffix == SUFFIX and not p.name.startswith(".") and p.is_file()
        )
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise PolicyFileError(folder, os_reason(exc)) from None


def scan_operator_years(folder: Path) -> tuple[list[OperatorYear], list[PolicyFileError]]:
    """Every year the folder holds, and every file in it that cannot be used."""
    years: list[OperatorYear] = []
    problems: list[PolicyFileError] = []
    seen: dict[int, Path] = {}
    for path in operator_files(folder):
        try:
            policy = read_year(path)
            if path.name != year_path(folder, policy.year).name:
                raise PolicyFileError(
                    path,
                    say("bot.policy.wrong_name", year=policy.year, name=f"{policy.year}.yaml"),
                )
            if policy.year in seen:
                raise PolicyFileError(
                    path, say("bot.policy.same_year", year=policy.year, other=seen[policy.year])
                )
        except PolicyFileError as exc:
            problems.append(exc)
            continue
        seen[policy.year] = path
        years.append(OperatorYear(path, policy))
    return years, problems


def load_operator_years(folder: Path) -> list[PolicyYear]:
    """The operators' years (drafts included: listed, never used); a file that cannot be
    used raises ``HubaoError`` naming it (and every other such file)."""
    years, problems = scan_operator_years(folder)
    if problems:
        if len(problems) == 1:
            raise problems[0]
        raise HubaoError("\n".join(p.message for p in problems))
    return [y.policy for y in years]


# --- writing ---------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """Money as the strings the year files use (never floats), dates as YAML dates, codes
    (``StrEnum``) as plain strings, tuples as lists."""


def _as_str(dumper: yaml.SafeDumper, value: object) -> yaml.Node:
    return dumper.represent_str(str(value))


def _as_list(dumper: yaml.SafeDumper, value: tuple[Any, ...]) -> yaml.Node:
    return dumper.represent_list(list(value))


_Dumper.add_representer(Decimal, _as_str)
_Dumper.add_multi_representer(str, _as_str)
_Dumper.add_representer(tuple, _as_list)


def dump_yaml(data: Mapping[str, Any]) -> str:
    return yaml.dump(dict(data), Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=99)


def comment(text: str) -> str:
    """``text`` as YAML comment lines."""
    return "".join(f"# {line}".rstrip() + "\n" for line in text.splitlines())


def set_top_level(text: str, values: Mapping[str, Any]) -> str:
    """``text`` with the top-level keys ``values`` set, its comments and layout kept: the
    keys' old lines go, the new ones are added at the end. Falls back to writing the whole
    mapping afresh when the result would not read back as intended."""
    data = parse_data(Path(), text)
    lines = text.splitlines(keepends=True)
    kept: list[str] = []
    skipping = False
    for line in lines:
        top = line[:1] not in {" ", "\t", "#", "\n", "\r", "-", ""}
        if top:  # indented lines and "- " items belong to the key above them
            skipping = line.split(":", 1)[0].strip().strip("'\"") in values
        if not skipping:
            kept.append(line)
    body = "".join(kept)
    if body and not body.endswith("\n"):
        body += "\n"
    result = body + dump_yaml(values)
    with contextlib.suppress(HubaoError):
        if parse_data(Path(), result) == {**data, **values}:
            return result
    header = "".join(line for line in lines if line.startswith("#"))
    return header + dump_yaml({**data, **values})


def write_atomically(path: Path, text: str) -> None:
    """Write ``path`` whole or not at all (the folder is created when missing)."""
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise PolicyFileError(path, os_reason(exc)) from None
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temp, 0o644)  # mkstemp makes it private; every hubao process reads it
        os.replace(temp, path)
    except OSError as exc:
        raise PolicyFileError(path, os_reason(exc)) from None
    finally:
        temp.unlink(missing_ok=True)


def publication(by: str, now: dt.datetime) -> dict[str, Any]:
    """The keys publishing sets."""
    return {
        "status": "published",
        "published_by": by,
        "published_at": now.astimezone(dt.UTC).replace(microsecond=0),
    }
