"""`xenlint audit`: whole repositories (Debian suites, RPM repodata) read through their
indexes, linted in worker processes, with a content-addressed cache."""
