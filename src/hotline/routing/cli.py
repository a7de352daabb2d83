"""Commands of hotline.routing."""

import typer


def route(number: str = typer.Argument(..., help="被叫号码")) -> None:
    """Where a call to NUMBER goes (implemented by the routing capability)."""
    raise typer.Exit(1)
