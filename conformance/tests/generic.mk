## Family-generic conformance tests (appended to the runner's sources).
