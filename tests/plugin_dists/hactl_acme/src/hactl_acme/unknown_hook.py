"""A plugin implementing a hook hactl does not define (a typo): hactl must refuse it."""

from hactl.core.hookspecs import hookimpl


@hookimpl
def hactl_fence_agnet(agent: str) -> None:
    return None
