"""The CIB: Pacemaker's cluster configuration and status as an XML document.

Compatible with Pacemaker's schemas pacemaker-1.0 to 3.x: old and new spellings are both
read (Master/Slave and Promoted/Unpromoted roles, ``<master>`` and promotable clones,
stonith-* and fencing-* options); what hactl writes passes the real ``crm_verify``.

The API, by module (import from the module, e.g. ``from hactl.core.cib.document import
CibDocument``):

document
    ``CibDocument``: the lxml tree with line numbers. ``CibDocument.load(path)``,
    ``.from_bytes(data, source=...)``, ``.new_empty(validate_with="pacemaker-3.9")`` (what
    ``cibadmin --empty`` / ``pcs -f NEWFILE`` start from), ``.serialize()``, ``.copy()``,
    ``.section("resources", create=True)``, ``.find_by_id(id)``, ``.versions()`` ->
    (admin_epoch, epoch, num_updates), ``.where(element)`` -> "FILE:LINE <tag id=...>".
    ``IdProvider(doc).allocate("base")`` -> a unique id like pcs makes (base, base-1, ...).
    ``CibError`` (a HactlError) for anything that cannot be loaded or changed.
validate
    ``validate(doc) -> list[Problem]`` (unknown elements/attributes with the nearest valid
    name, duplicate ids, dangling references, bad scores/intervals/values, invalid rules,
    cluster option values, roles the CIB's schema does not know yet);
    ``ensure_valid(doc)`` raises ValidationError with all of them.
patch
    ``bump_versions(old, new)`` (configuration change: epoch+1 and num_updates=0; other
    changes: num_updates+1), ``bump_epoch``, ``bump_num_updates``, ``bump_admin_epoch``;
    ``diff(old, new) -> <diff format="2">`` (crm_diff's v2 patchset),
    ``apply_patch(doc, patch, check_versions=True)`` (all or nothing), ``parse_patch``;
    ``xpath_query(doc, xpath) -> list[element]`` and ``query_output`` (cibadmin -Q --xpath).
edit
    Pure lxml edits for commands to compose: ``append_element``, ``nvset``, ``set_nvpair``,
    ``set_cluster_option`` (either spelling of a renamed option), ``remove_element``.
model
    ``build_model(doc) -> Cib``: frozen dataclasses for cluster options, nodes, primitives,
    groups, clones (promotable or not), bundles, operations, attribute sets with rules,
    rsc/op defaults, location/colocation/order/ticket constraints with resource sets,
    fencing levels, tags, alerts, and the status (node_state, lrm_resource, lrm_rsc_op,
    transient attributes). Roles and option names come normalised to their 3.x spellings.
schema
    The element/attribute tables the validator uses, and value parsers: ``parse_score``,
    ``parse_duration_ms``, ``parse_boolean``, ``canonical_role``, ``canonical_option``,
    ``schema_version``, and ``role_spelling(role, validate_with)``: how to write a role so
    the CIB's own schema accepts it (Master/Slave before pacemaker-3.7).
store
    ``CibStore(state_dir)``: a node's CIB on disk. ``.write(doc)`` (atomic, digest,
    rotating backups), ``.load()`` (refuses a damaged file, naming the last good backup),
    ``.backups()``, ``.last_good_backup()``; ``atomic_write(path, data)`` for any file.
"""
