"""The `finsam` command line: parse, call one service, print."""
