"""The subcommands of the `fnetlab` console script, one module each with `main(argv)`."""
