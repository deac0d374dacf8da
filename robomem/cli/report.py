"""``robomem report RUN [RUN ...]``: one self-contained HTML page of one or more runs, and a Markdown summary.

The page shows SR, GC and steps with 95% intervals per subset (as tables and charts), LLM usage per role, and
every episode, worst first; clicking one shows its steps (and, where the run wrote a trace, what the agent
summarized, retrieved, planned and what the critic said). With several runs, each run after the first is
compared with the first task by task (paired differences with 95% intervals): put the full agent first and
its ablations after it. The page loads nothing from the network; open it from disk.

The Markdown summary is printed (for pasting) and, with --markdown, written to a file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from robomem.cli._parser import Subcommands
from robomem.errors import ConfigError, StoreError

__all__ = ("add_report_parser", "run_report")


def add_report_parser(commands: Subcommands) -> None:
    parser = commands.add_parser(
        "report",
        help="write an HTML report (and Markdown summary) of one or more run folders",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("runs", nargs="+", metavar="RUN", help="run folders; the first is the reference")
    parser.add_argument("--out", metavar="FILE", help="the HTML file [FIRST_RUN/report.html]")
    parser.add_argument("--markdown", metavar="FILE", help="also write the Markdown summary to FILE")
    parser.add_argument(
        "--label", action="append", metavar="NAME", help="a name per run, in order (default: folder names)"
    )
    parser.set_defaults(run=run_report)


def run_report(args: argparse.Namespace, extra: list[str]) -> int:
    from robomem.report.build import write_report

    if extra:
        raise ConfigError(f"unexpected arguments: {' '.join(extra)}")
    paths = [Path(p) for p in args.runs]
    if args.label and len(args.label) != len(paths):
        raise ConfigError(f"{len(args.label)} --label for {len(paths)} runs")
    out = Path(args.out) if args.out else paths[0] / "report.html"
    markdown = Path(args.markdown) if args.markdown else None
    try:
        report = write_report(paths, out, markdown=markdown, labels=args.label)
    except OSError as err:
        raise StoreError(
            f"cannot write the report: {err.strerror or err}", hint="choose another --out / --markdown"
        ) from None
    sys.stdout.write(report.markdown)
    print(f"robomem: report written to {out}", file=sys.stderr)
    return 0
