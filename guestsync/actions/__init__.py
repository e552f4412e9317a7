"""What the commands do, one module per command group: `cli/X.py` parses and prints,
`actions/X.py` does the work, so the same action is callable from Python and tests."""
