"""One module per subcommand; each attaches itself to `xenlint.cli.main`."""
