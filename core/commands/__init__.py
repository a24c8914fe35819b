"""hactl's configuration use cases, in pcs's grammar (issue 3).

Each use case is a function taking the CIB (an lxml root element) and typed arguments; it
validates first (raising a HactlError naming the problem, with a hint) and only then edits
the sections it owns. The CLI modules parse argv and render results; they run a use case
through :func:`hactl.core.commands.session.edit` (read-modify-push on a CIB handle) or
:func:`~hactl.core.commands.session.read`, so a command never knows whether the handle is an
offline file (``-f FILE``) or the running cluster.

Modules: grammar (pcs argv grammar), rules (pcs rule language), cibtools (ids, sections,
nvsets), session (CIB handles), resource, constraint, stonith, properties, nodes, tags,
alerts, cluster, export (``config export pcs-commands``), show (text and JSON views).
"""
