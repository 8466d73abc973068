## conformance: filled in by its issue.
