"""Every piece of state xml130 keeps, on the ground floor: the packages that act (``jobs``, ``catalog``,
``adoption``, ``rules``) import it, never the reverse.

- :mod:`.tables`: the ledger's tables, in one database next to the outbox;
- :mod:`.ledger`: the :class:`~.ledger.Ledger` over them, its methods by concern — flow state and runs
  (:mod:`.runs`), hồ sơ versions (:mod:`.versions`), check-in events (:mod:`.checkins`), submissions
  (:mod:`.submissions`), reports (:mod:`.reports`);
- :mod:`.catalog`: the facility's approved catalogues, stored and indexed for the catalog rules;
- :mod:`.cross`: the findings across hồ sơ;
- :mod:`.files`: writing files safely (whole or not at all).
"""
