"""pcs's argument grammar: ``name=value`` pairs, keyword-introduced groups (``op``,
``meta``, ``clone``…), scores, roles, and the nearest-word hints for typos.

Nothing here touches a CIB: these functions turn argv words into typed values or raise a
HactlError naming the word and suggesting what was probably meant.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from hactl.core.cib.schema import ROLE_ALIASES, parse_boolean
from hactl.core.errors import HactlError, UsageError

INFINITY = 1_000_000
SCORE_WORDS = {"INFINITY": "INFINITY", "+INFINITY": "INFINITY", "-INFINITY": "-INFINITY"}
_INTEGER = re.compile(r"^[+-]?\d+$")

#: Pacemaker's roles, new names first; the legacy names are accepted and written as the new.
ROLES = ("Started", "Stopped", "Promoted", "Unpromoted")
LEGACY_ROLES = {old.lower(): new for old, new in ROLE_ALIASES.items()}


def nearest(word: str, choices: Iterable[str]) -> str | None:
    """The closest valid word to a mistyped one, or None when nothing is close."""
    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return matches[0] if matches else None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A hint naming the nearest valid word, else listing the valid ones."""
    options = sorted(set(choices))
    guess = nearest(word, options)
    if guess is not None:
        return f"did you mean {guess!r}?"
    return "expected one of: " + ", ".join(options)


def split_pair(
    word: str, *, where: str | None = None, keywords: Iterable[str] = ()
) -> tuple[str, str]:
    """``name=value`` -> (name, value); a word without ``=`` is an error, with a hint
    naming the keyword it most resembles when it looks like a typo of one."""
    name, sep, value = word.partition("=")
    if not sep or not name:
        known = list(keywords)
        guess = nearest(word, known) if known else None
        hint = (
            f"did you mean {guess!r}?"
            if guess
            else "write NAME=VALUE" + (f", or one of: {', '.join(known)}" if known else "")
        )
        raise HactlError(f"{word!r} is not a NAME=VALUE pair", where=where, hint=hint)
    return name, value


def parse_pairs(
    words: Sequence[str], *, where: str | None = None, keywords: Iterable[str] = ()
) -> dict[str, str]:
    """Every word a ``name=value`` pair; a name given twice is an error (pcs refuses it too)."""
    pairs: dict[str, str] = {}
    for word in words:
        name, value = split_pair(word, where=where, keywords=keywords)
        if name in pairs:
            raise HactlError(
                f"{name!r} is given more than once", where=where, hint="give each name once"
            )
        pairs[name] = value
    return pairs


def split_groups(
    words: Sequence[str], keywords: Iterable[str]
) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """Split argv at keywords: ``a=1 op monitor interval=10 meta x=y`` ->
    (["a=1"], [("op", ["monitor", "interval=10"]), ("meta", ["x=y"])]).
    A keyword is recognised only as a whole word (a value ``op=x`` is not one)."""
    keyword_set = set(keywords)
    head: list[str] = []
    groups: list[tuple[str, list[str]]] = []
    for word in words:
        if word in keyword_set:
            groups.append((word, []))
        elif groups:
            groups[-1][1].append(word)
        else:
            head.append(word)
    return head, groups


#: keywords inside one ``op ACTION …``: crmsh's spelling for the operation's own instance
#: and meta attributes (pcs has none; OCF_CHECK_LEVEL=N stays an option, as in pcs)
OP_PARAMS, OP_META = "op_params", "op_meta"


@dataclass
class Operation:
    """One ``op ACTION NAME=VALUE… [op_params NAME=VALUE…] [op_meta NAME=VALUE…]``."""

    name: str
    options: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    meta: dict[str, str] = field(default_factory=dict)


def _operation(action: str, words: Sequence[str], where: str | None) -> Operation:
    label = f"{where} op {action}" if where else f"op {action}"
    head, groups = split_groups(words, (OP_PARAMS, OP_META))
    op = Operation(action, parse_pairs(head, where=label))
    for keyword, pairs in groups:
        if not pairs:
            raise UsageError(
                f"{keyword!r} needs NAME=VALUE pairs",
                where=label,
                hint=f"e.g. op monitor interval=120s {OP_PARAMS} depth=0",
            )
        target = op.params if keyword == OP_PARAMS else op.meta
        for name, value in parse_pairs(pairs, where=f"{label} {keyword}").items():
            if name in target:
                raise HactlError(
                    f"{name!r} is given more than once", where=label, hint="give each name once"
                )
            target[name] = value
    return op


def parse_operations(words: Sequence[str], *, where: str | None = None) -> list[Operation]:
    """``monitor interval=10s timeout=20s start timeout=60s`` -> one Operation per action:
    a word without ``=`` (other than op_params / op_meta) starts the next action."""
    operations: list[Operation] = []
    current: list[str] = []
    action: str | None = None
    for word in words:
        if "=" not in word and word not in (OP_PARAMS, OP_META):
            if action is not None:
                operations.append(_operation(action, current, where))
            action, current = word, []
        elif action is None:
            raise UsageError(
                f"operation option {word!r} comes before any action",
                where=where,
                hint="write: op ACTION name=value… (e.g. op monitor interval=10s)",
            )
        else:
            current.append(word)
    if action is not None:
        operations.append(_operation(action, current, where))
    if not operations:
        raise UsageError(
            "'op' needs an action",
            where=where,
            hint="write: op ACTION name=value… (e.g. op monitor interval=10s)",
        )
    return operations


def parse_params_ops_meta(
    words: Sequence[str], *, where: str
) -> tuple[dict[str, str], list[Operation], dict[str, str]]:
    """``NAME=VALUE… [op ACTION NAME=VALUE…]… [meta NAME=VALUE…]`` (what `resource update`
    and `stonith update` take) -> (parameters, operations, meta attributes)."""
    head, groups = split_groups(words, ("op", "meta"))
    params = parse_pairs(head, where=where, keywords=("op", "meta"))
    operations: list[Operation] = []
    meta: dict[str, str] = {}
    for keyword, group_words in groups:
        if keyword == "op":
            operations += parse_operations(group_words, where=where)
        else:
            meta.update(parse_pairs(group_words, where=f"{where} meta"))
    return params, operations, meta


def parse_score(text: str, *, where: str | None = None) -> str:
    """A Pacemaker score as written in the CIB: an integer in ±1,000,000 or ±INFINITY."""
    upper = text.strip().upper()
    if upper in SCORE_WORDS:
        return SCORE_WORDS[upper]
    if upper in ("INF", "+INF"):
        return "INFINITY"
    if upper == "-INF":
        return "-INFINITY"
    if _INTEGER.match(text.strip()):
        value = int(text)
        if abs(value) > INFINITY:
            raise HactlError(
                f"score {text!r} is out of range",
                where=where,
                hint="scores go from -1000000 to 1000000, or -INFINITY / INFINITY",
            )
        return str(value)
    raise HactlError(
        f"{text!r} is not a score",
        where=where,
        hint="write an integer, INFINITY or -INFINITY (e.g. 100)",
    )


def is_score(text: str) -> bool:
    try:
        parse_score(text)
    except HactlError:
        return False
    return True


def parse_role(text: str, *, where: str | None = None) -> str:
    """A role as the CIB wants it (Promoted, not Master); legacy names are accepted."""
    lowered = text.strip().lower()
    if lowered in LEGACY_ROLES:
        return LEGACY_ROLES[lowered]
    for role in ROLES:
        if role.lower() == lowered:
            return role
    raise HactlError(
        f"{text!r} is not a role",
        where=where,
        hint=did_you_mean(text, ROLES + tuple(LEGACY_ROLES)),
    )


def is_role(text: str) -> bool:
    return text.strip().lower() in {r.lower() for r in ROLES} | set(LEGACY_ROLES)


def parse_bool(text: str, *, where: str | None = None, name: str = "value") -> bool:
    value = parse_boolean(text)
    if value is not None:
        return value
    raise HactlError(f"{name} {text!r} is not a boolean", where=where, hint="write true or false")


def expect_choice(
    value: str, choices: Sequence[str], *, what: str, where: str | None = None
) -> str:
    """``value`` matched case-insensitively against ``choices``; returns the canonical one."""
    for choice in choices:
        if choice.lower() == value.lower():
            return choice
    raise HactlError(
        f"{value!r} is not a valid {what}", where=where, hint=did_you_mean(value, choices)
    )


def reject_unknown(
    names: Iterable[str], allowed: Iterable[str], *, what: str, where: str | None = None
) -> None:
    """Refuse option names outside ``allowed``, suggesting the nearest one."""
    allowed_list = list(allowed)
    for name in names:
        if name not in allowed_list:
            raise HactlError(
                f"{name!r} is not a valid {what}",
                where=where,
                hint=did_you_mean(name, allowed_list),
            )
