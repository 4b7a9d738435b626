"""Parsing the YAML data files (policy years, the knowledge base, the texts)."""

from __future__ import annotations

from typing import Any

import yaml

# libyaml's parser when PyYAML was built with it: about ten times faster, which is most of
# a command's start-up (every answer and policy figure is read from these files).
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str) -> Any:
    """The data of a YAML document, as ``yaml.safe_load`` reads it."""
    return yaml.load(text, Loader=_LOADER)
