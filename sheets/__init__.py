"""Workbook files: reading the roster a unit uploads and writing the workbooks hubao sends
(template, annotated report, clean roster, enrollment summary). No dialog here; the rules
these files serve are in ``rules``, and flows and the command line use this package.

Reading: ``roster_file`` (the front door: ``read_roster``, ``read_roster_bytes``) hands a
workbook to ``xlsx_roster`` (which reads the package's parts with ``xlsx_package``) and a
text file to ``csv_roster``; both give rows to ``roster_rows`` (limits, result types,
header recognition). Writing: ``roster_write`` (template, report, clean roster, summary
lines), ``enroll_files`` (the enrollment flow's files, in memory), ``xlsx_out`` (the one
way a value goes into a cell). Nothing is imported here: openpyxl loads only with them.
"""
