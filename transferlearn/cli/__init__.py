"""The command line: ``transferlearn`` (main) and a module per subcommand; shared flags and
one-line error handling in common."""
