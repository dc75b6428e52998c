"""The ``glassmodes`` command line: thin subcommands that call the library and a writer."""
