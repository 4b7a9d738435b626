"""Workbook files: reading the roster a unit uploads and writing the workbooks hubao sends
(template, annotated report, clean roster, enrollment summary). No dialog here; the rules
these files serve are in ``rules``, and flows and the command line use this package."""
