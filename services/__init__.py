"""The service layer: every use case a door offers, as commands and queries, split by stage.

The doors — the JSON API (``api/routers``), the web pages (``api/web``) and the CLI — call these
functions and nothing else; none calls another door. Each function:

1. checks at the door who may do it, from the one table in :mod:`services.permissions`
   (the role, and for a unit user the unit);
2. for a command: sends it where it is decided — the cycle's Temporal workflow (through
   :mod:`adapters.gateway`) when the process branches on it, or straight to the domain
   (:mod:`domain.app`) for the writes many people make at once — then waits until the read
   models include what it wrote (read-your-writes, :meth:`Services.caught_up`);
3. for a query: reads the read models (``projections``) or, for what only the log knows, the
   domain.

Modules, by stage: :mod:`~services.setup` (cycles, units, stages, deadlines),
:mod:`~services.review` (self-review and scoring), :mod:`~services.debrief`,
:mod:`~services.adjustments`, :mod:`~services.allocation`, :mod:`~services.feedback`,
:mod:`~services.rectification`, :mod:`~services.results_use`, :mod:`~services.audit`, and
:mod:`~services.inbox` (my tasks) and :mod:`~services.people` (sign-in and users).

Queries are plain functions (they block on the database: call them from a worker thread);
commands are coroutines.
"""

from services.context import Services, command_id

__all__ = ["Services", "command_id"]
