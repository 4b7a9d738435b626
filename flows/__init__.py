"""The dialog engine, the flows and the storage port. No channel types in here.

- ``engine/``: one turn per incoming message (commands, buttons, a flow's questions,
  corrections, questions asked mid-flow, the knowledge base);
- ``flow``: a flow declared as steps with their transitions (``Go(target, when=…)``) and the
  narrow ``FlowContext`` a step sees; ``messages``: what channels send and receive;
- ``extract/``: pure parsers from chat text to values (numbers, dates, plans, yes/no);
- the flows: ``quote_flow`` (+ ``quote_text``), ``guides`` (coverage, account, batch status),
  ``enroll/`` (guided enrollment, the typed draft in ``enroll/model``); ``menu`` lists them;
- ``storage`` (the port, and the in-memory store), ``storage_sql/`` (SQLite and PostgreSQL
  through SQLAlchemy, migrations in ``migrations/``), ``storage_factory`` (a store from a
  URL), ``vault`` (sealing personal data kept in drafts).
"""
