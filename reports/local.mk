## reports: filled in by its issue.
