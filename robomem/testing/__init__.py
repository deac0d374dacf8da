"""Public test helpers: deterministic fakes third parties can use to test their own plug-ins.

Nothing here is used by robomem at run time."""

__all__: tuple[str, ...] = ()
