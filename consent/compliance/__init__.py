"""The compliance audit pages at ``/compliance/``: server-rendered, read-only views of the
consent record for compliance reviewers, with CSV exports of every list."""
