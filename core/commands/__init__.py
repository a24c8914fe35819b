"""hactl's configuration use cases, in pcs's grammar (issue 3).

Each use case is a function taking the CIB's lxml root and typed arguments; it validates
first (raising a HactlError that names the problem, with a hint) and only then edits the
sections it owns. The CLI modules (hactl.core.cli.resource_config, constraint, property,
node, config, tag, alert, stonith_config, cluster_config) parse argv and render results;
they run use cases through :func:`hactl.core.commands.session.edit` (get, edit a copy,
push) or :func:`~hactl.core.commands.session.read` on a CIB handle, so no command knows
whether the handle is an offline file (``-f FILE``, put in ``CIB_file``) or the cluster.

A CIB handle is any object with ``get() -> CibDocument`` and ``push(CibDocument)``
(:class:`~hactl.core.commands.session.CibHandle`); the runtime's daemon handle only needs
those two methods. Documents, ids, versions, patches and validation are hactl.core.cib's.

Modules:
  grammar      pcs's argv grammar: NAME=VALUE pairs, keyword groups, op lists, scores, roles
  rules        pcs's rule language -> Pacemaker rule XML, and back to text
  cibtools     sections, lookups, pcs-style ids, name/value sets
  session      CIB handles (file, none) and the read / edit runners
  resource     create/delete/update/meta/op/defaults/group/clone/bundle/enable/manage/move
  constraint   location (node, rule), order, colocation, ticket, sets, remove, ref
  fencing      fence device parameters, fencing topology levels
  properties   cluster properties with Pacemaker's options, defaults and legacy names
  nodes        node attributes, utilization, standby, maintenance
  tags_alerts  tags and alerts
  cluster      cib-push (whole, --config, diff-against) and verify (core checks + crm_verify)
  show         text and JSON views
  export       `config export pcs-commands`
"""
