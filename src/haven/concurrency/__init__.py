"""One way each for concurrent writes, shared by every layer (imports no domain and no interface).

- :mod:`.locking`: ``ConflictError`` and ``ensure_version`` (optimistic locking).
- :mod:`.references`: reference numbers (``HVN-2026-00052``) from a locked counter row.
- :mod:`.transactions`: ``service``, the transaction every ledger-writing service and selector
  runs in; the ledger refuses entries written outside one.
"""
