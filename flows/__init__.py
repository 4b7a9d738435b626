"""The dialog engine, the flows and the storage port. No channel types in here."""
