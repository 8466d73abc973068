## conformance/backends: filled in by its owner.
