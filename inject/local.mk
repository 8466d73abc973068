## inject: filled in by its issue.
