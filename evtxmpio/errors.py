"""The project's exceptions: one root, raised for configuration and code faults.

Problems in customer input are not exceptions: readers yield
:class:`evtxmpio.ingest.base.IngestIssue` and keep going.
"""

from __future__ import annotations


class Error(Exception):
    """Root of every evtxmpio error. The message names a location (file, rule, option)."""


class RuleError(Error):
    """A rule file is invalid: ``rules/x.yaml: rule 'id': problem``."""


class InputError(Error):
    """The whole job cannot read its inputs (e.g. no input file at all)."""


class ReportError(Error):
    """A report could not be rendered or written."""
