"""The ``lawful`` command line (typer): ``lawful <domain> <verb>``. Nothing imports this package."""
