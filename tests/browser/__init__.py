"""Browser tests (a package, so test file names may repeat those in tests/)."""
