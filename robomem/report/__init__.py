"""Run reports and the memory viewer: self-contained HTML pages (no network) and a Markdown summary.

``robomem report RUN [RUN ...]`` (:func:`write_report`) and ``robomem memory view``.
"""

from robomem.report.build import write_report

__all__ = ("write_report",)
