"""The program's rules as pure, typed functions over policy-year data. No I/O but reading
the package's own data files.

Rules decide and return codes and values; the sentences a user reads are in the text
catalog. The modules:

- ``policy`` (policy years, from ``data/years/*.yaml``), ``dates`` (windows, coverage,
  working days), ``premium`` and ``plans`` (quotes and plan rules), ``people`` (categories
  and age limits), ``ids`` (ID numbers), ``batch`` (the platform's batch statuses);
- ``roster/`` (each row of a roster as the platform judges it, and the unit's checks);
- ``privacy`` (masking ID and phone numbers), ``text`` (invisible characters), ``fmt``
  (figures as users read them), ``platform`` (the platform's own names, ``data/platform.yaml``);
- ``catalog`` (the text catalog, ``data/texts/*.yaml``: ``say(key, policy=…)``), ``context``
  (a policy year's figures as template variables), ``sentence`` (a catalog key with values,
  what rules return instead of text), ``datafile`` (YAML reading);
- ``errors`` (``HubaoError``, the root of every expected error, and the rules' errors).
"""
