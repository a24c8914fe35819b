"""`hactl cib`: the CIB as a file, offline (what cibadmin and crm_diff do on files).

Every command that writes replaces the file atomically and only after the result passed
validation, so a failed command leaves the file as it was.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from lxml import etree

from hactl.core.cib.document import DEFAULT_SCHEMA, CibDocument, CibError, read_file
from hactl.core.cib.patch import (
    apply_patch,
    diff,
    element_path,
    parse_patch,
    query_output,
    xpath_query,
)
from hactl.core.cib.store import atomic_write
from hactl.core.cib.validate import validate
from hactl.core.cli.render import OUTPUT_OPTION, OutputFormat, print_json
from hactl.core.errors import NotFoundError, Problem, ValidationError

app = typer.Typer(
    no_args_is_help=True,
    help="Create, check, query, diff and patch CIB files (offline, like cibadmin).",
)

FILE = typer.Argument(..., help="The CIB file.", metavar="FILE")


def _write(path: Path, doc: CibDocument) -> None:
    problems = validate(doc)
    if problems:
        raise ValidationError(problems, subject=f"the result for {path}")
    try:
        atomic_write(path, doc.serialize())
    except OSError as exc:
        raise CibError(f"cannot write: {exc.strerror}", where=str(path)) from None


def _version(doc: CibDocument) -> str:
    return ".".join(str(v) for v in doc.versions())


def _problem_dict(problem: Problem) -> dict[str, Any]:
    return {"where": problem.where, "message": problem.message, "hint": problem.hint}


@app.command("new")
def new(
    path: Path = FILE,
    validate_with: str = typer.Option(
        DEFAULT_SCHEMA, "--validate-with", help="Schema name written into the CIB."
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write an empty, valid CIB (what `cibadmin --empty` and `pcs -f NEWFILE` start from).

    Example: hactl cib new /tmp/cib.xml
    """
    if path.exists() and not force:
        raise CibError(
            "file exists", where=str(path), hint="use --force to overwrite it, or another name"
        )
    _write(path, CibDocument.new_empty(validate_with=validate_with))
    print(f"{path}: new CIB ({validate_with}, version 0.1.0)")


@app.command("verify")
def verify(path: Path = FILE, output: OutputFormat = OUTPUT_OPTION) -> None:
    """Validate a CIB: prints one line per problem and exits 1 when there is any.

    Checks unknown elements and attributes (with the nearest valid name), duplicate ids,
    references to missing ids, bad scores, intervals and values, and invalid rules.

    Example: hactl cib verify /tmp/cib.xml --output json
    """
    doc = CibDocument.load(path)
    problems = validate(doc)
    if output is OutputFormat.json:
        print_json(
            {
                "file": str(path),
                "valid": not problems,
                "problems": [_problem_dict(p) for p in problems],
            }
        )
        if problems:
            raise typer.Exit(1)
        return
    if problems:
        raise ValidationError(problems, subject=f"CIB {path}")
    print(f"{path}: valid (version {_version(doc)})")


@app.command("query")
def query(
    path: Path = FILE,
    xpath: str = typer.Option(None, "--xpath", "-x", help="Only the elements this selects."),
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Print the CIB, or what an xpath selects (as `cibadmin -Q --xpath` prints it).

    Example: hactl cib query /tmp/cib.xml --xpath "//primitive[@id='ip']"
    """
    doc = CibDocument.load(path)
    elements = [doc.root] if xpath is None else xpath_query(doc, xpath)
    if not elements:
        raise NotFoundError(
            f"nothing matches {xpath}",
            where=str(path),
            hint="check the xpath, e.g. //primitive or //*[@id='X']",
        )
    if output is OutputFormat.json:
        print_json(
            [
                {
                    "tag": el.tag if isinstance(el.tag, str) else "comment",
                    "id": el.get("id"),
                    "path": element_path(el),
                    "xml": etree.tostring(el, encoding="unicode", with_tail=False),
                }
                for el in elements
            ]
        )
        return
    typer.echo(query_output(elements).decode(), nl=False)


def _change_dict(change: etree._Element) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "operation": change.get("operation"),
        "path": change.get("path"),
        "position": int(change.get("position", "-1")) if change.get("position") else None,
    }
    attrs = change.findall("change-list/change-attr")
    if attrs:
        entry["attributes"] = {a.get("name"): a.get("value") for a in attrs}  # None: unset
    created = next((c for c in change if change.get("operation") == "create"), None)
    if created is not None:
        entry["xml"] = etree.tostring(created, encoding="unicode", with_tail=False)
    return entry


@app.command("diff")
def diff_command(
    old: Path = typer.Argument(..., help="The CIB before.", metavar="OLD"),
    new: Path = typer.Argument(..., help="The CIB after.", metavar="NEW"),
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Print the v2 patchset that turns OLD into NEW (what `crm_diff -o OLD -n NEW` prints;
    `hactl cib patch` and `cibadmin --patch` apply it). Exits 0 whether or not they differ.

    Example: hactl cib diff before.xml after.xml > change.xml
    """
    patch = diff(CibDocument.load(old), CibDocument.load(new))
    if output is OutputFormat.json:
        version = patch.find("version")
        print_json({
            "source": dict(version[0].attrib) if version is not None else None,
            "target": dict(version[1].attrib) if version is not None else None,
            "changes": [_change_dict(c) for c in patch.iterfind("change")],
        })  # fmt: skip
        return
    typer.echo(etree.tostring(patch, pretty_print=True, encoding="unicode"), nl=False)


@app.command("patch")
def patch_command(
    path: Path = FILE,
    patch: Path = typer.Argument(..., help='The patchset (<diff format="2">).', metavar="PATCH"),
    no_version_check: bool = typer.Option(
        False,
        "--no-version-check",
        help="Apply even if the CIB is not at the patch's source version.",
    ),
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Apply a v2 patchset to FILE, atomically: the file changes only if the whole patch
    applies and the result is valid.

    Example: hactl cib patch /tmp/cib.xml change.xml
    """
    doc = CibDocument.load(path)
    patchset = parse_patch(read_file(patch), source=str(patch))
    changes = len(patchset.findall("change"))
    apply_patch(doc, patchset, check_versions=not no_version_check)
    _write(path, doc)
    if output is OutputFormat.json:
        print_json({"file": str(path), "version": _version(doc), "changes": changes})
        return
    print(f"{path}: patched ({changes} changes), now at version {_version(doc)}")
