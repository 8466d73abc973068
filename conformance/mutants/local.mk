## conformance/mutants: filled in by its owner.
