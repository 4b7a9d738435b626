"""Roster checks: each row of a unit's roster as the platform will judge it, and the
unit-level checks (change against last year, the social-insurance ratio, attachments).

``model`` holds the shapes (the template's columns, rows, findings, a roster's outcome),
``cells`` reads single cells, ``rows`` checks the rows, ``insured`` settles the rows kept out
only for their social-insurance answer, and ``unit`` checks the unit as a whole.
Findings and notes are codes and values; their sentences live in the text catalog.
"""

from rules.roster.cells import (
    looks_numeric_id,
    parse_birth_date,
    parse_sex,
    parse_social_insurance,
)
from rules.roster.insured import people_if_insured
from rules.roster.model import (
    REQUIRED_FIELDS,
    TEMPLATE_FIELDS,
    Code,
    Person,
    RosterCheck,
    RosterField,
    RosterRow,
    RowFinding,
    Severity,
)
from rules.roster.rows import check_rows
from rules.roster.unit import (
    SUPPORTING_DOCUMENTS,
    Attachment,
    ChangeCheck,
    Document,
    RatioCheck,
    UnitCheck,
    check_change,
    check_ratio,
    check_unit,
)

__all__ = [
    "REQUIRED_FIELDS",
    "SUPPORTING_DOCUMENTS",
    "TEMPLATE_FIELDS",
    "Attachment",
    "ChangeCheck",
    "Code",
    "Document",
    "Person",
    "RatioCheck",
    "RosterCheck",
    "RosterField",
    "RosterRow",
    "RowFinding",
    "Severity",
    "UnitCheck",
    "check_change",
    "check_ratio",
    "check_rows",
    "check_unit",
    "looks_numeric_id",
    "parse_birth_date",
    "parse_sex",
    "parse_social_insurance",
    "people_if_insured",
]
